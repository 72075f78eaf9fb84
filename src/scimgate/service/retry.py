"""Optimistic concurrency: how often and how long a writer that lost a race tries again."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

# With 8 clients PATCHing one user on PostgreSQL, 5 immediate retries ran out
# (tests/reliability/test_concurrency.py); 12 jittered ones, at most ~1 s in
# all, did not. SQLite never gets here: its writers queue on BEGIN IMMEDIATE.
ATTEMPTS = 12


def attempts() -> Iterator[int]:
    """Attempt numbers; from the second on, sleep a random, growing moment first."""
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(random.uniform(0, min(0.2, 0.002 * 2**attempt)))
        yield attempt
