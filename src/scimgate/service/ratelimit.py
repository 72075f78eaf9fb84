"""Rate limiting: a token bucket per key, in process memory.

Two users. The SCIM layer keys by token (``TokenBuckets.from_settings``, off
unless ``SCIMGATE_RATE_LIMIT_PER_SECOND`` is above 0). The anonymous browser
routes, single sign-on's start, ACS and callback and ``GET /setup/{secret}``,
key by client address (``TokenBuckets.per_address``, on by default through
``SCIMGATE_SSO_RATE_LIMIT_PER_MINUTE``), since each of their requests may
write a row nobody signed for. Each bucket holds
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
from collections import OrderedDict
from collections.abc import Callable

from scimgate.config import Settings
from scimgate.errors import RateLimited

# Tokens are issued by admins, so this only bounds a pathological case; addresses
# are anyone's, so there the bound is what keeps a spray of sources from growing
# the map without end.
MAX_BUCKETS = 10_000


class TokenBuckets:
    """One bucket per key (a SCIM token id, a client address), at most ``max_keys``
    of them: past that the least recently used is forgotten."""

    __slots__ = ("_buckets", "_clock", "_lock", "capacity", "max_keys", "rate")

    def __init__(
        self,
        rate: float,
        burst: int = 0,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_keys: int = MAX_BUCKETS,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.rate = rate
        # Without a burst, one second's worth of requests (and at least one).
        self.capacity = float(burst) if burst > 0 else float(max(1, math.ceil(rate)))
        self.max_keys = max_keys
        self._clock = clock
        # key -> (tokens, at), least recently used first
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenBuckets | None:
        """The limiter the settings ask for, or None when rate limiting is off."""
        if settings.rate_limit_per_second <= 0:
            return None
        return cls(settings.rate_limit_per_second, settings.rate_limit_burst)

    @classmethod
    def per_address(cls, settings: Settings, max_keys: int = MAX_BUCKETS) -> TokenBuckets | None:
        """The anonymous routes' limiter, keyed by client address, or None when
        ``sso_rate_limit_per_minute`` is 0."""
        if settings.sso_rate_limit_per_minute <= 0:
            return None
        return cls(
            settings.sso_rate_limit_per_minute / 60.0,
            settings.sso_rate_limit_burst,
            max_keys=max_keys,
        )

    def acquire(self, key: str) -> None:
        """Take one request from ``key``'s bucket. Raises RateLimited when it is
        empty, with the whole seconds until the next request is allowed."""
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.rate)
            taken = tokens >= 1.0
            self._buckets[key] = (tokens - 1.0 if taken else tokens, now)
            self._buckets.move_to_end(key)
            # The least recently used bucket is the likeliest to be full again, and a
            # full bucket holds no information; forgetting it also keeps the bound
            # strict when every bucket is busy.
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        if taken:
            return
        wait = (1.0 - tokens) / self.rate
        raise RateLimited(
            max(1, math.ceil(wait)),
            f"Too many requests for this token: at most {self.rate:g} per second",
        )
