"""Rate limiting per SCIM token: a token bucket each, in process memory.

Off unless ``SCIMGATE_RATE_LIMIT_PER_SECOND`` is above 0. Each bucket holds
up to ``burst`` requests and refills at ``rate`` per second; a request that
finds it empty is answered 429 with ``Retry-After`` in whole seconds (Okta
honours no other form). The buckets live in each worker process, so with N
workers a token may reach N times the rate: enough to protect the server
from a runaway client, which is the point, without a shared store.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from scimgate.config import Settings
from scimgate.errors import RateLimited

_MAX_BUCKETS = 10_000  # tokens are issued by admins; this only bounds a pathological case


class TokenBuckets:
    """One bucket per key (a SCIM token id)."""

    __slots__ = ("_buckets", "_clock", "_lock", "capacity", "rate")

    def __init__(
        self, rate: float, burst: int = 0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        # Without a burst, one second's worth of requests (and at least one).
        self.capacity = float(burst) if burst > 0 else float(max(1, math.ceil(rate)))
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenBuckets | None:
        """The limiter the settings ask for, or None when rate limiting is off."""
        if settings.rate_limit_per_second <= 0:
            return None
        return cls(settings.rate_limit_per_second, settings.rate_limit_burst)

    def acquire(self, key: str) -> None:
        """Take one request from ``key``'s bucket. Raises RateLimited when it is
        empty, with the whole seconds until the next request is allowed."""
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.rate)
            if tokens >= 1.0:
                if key not in self._buckets and len(self._buckets) >= _MAX_BUCKETS:
                    self._forget_full(now)
                self._buckets[key] = (tokens - 1.0, now)
                return
            self._buckets[key] = (tokens, now)
        wait = (1.0 - tokens) / self.rate
        raise RateLimited(
            max(1, math.ceil(wait)),
            f"Too many requests for this token: at most {self.rate:g} per second",
        )

    def _forget_full(self, now: float) -> None:
        # A bucket idle long enough to be full again holds no information.
        refill = self.capacity / self.rate
        for key in [k for k, (_, at) in self._buckets.items() if now - at >= refill]:
            del self._buckets[key]
