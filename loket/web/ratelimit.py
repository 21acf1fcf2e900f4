"""Per-address rate limits for public endpoints (token buckets, kept in this node's memory)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict


class RateLimiter:
    """Allows `per_minute` requests per key, refilling continuously.

    Kept per node: behind a load balancer each node enforces its own share, which is
    enough to stop one address flooding ticket creation; it is not an accounting tool.
    """

    def __init__(self, per_minute: int, max_keys: int = 100_000) -> None:
        self._capacity = float(max(per_minute, 1))
        self._rate = self._capacity / 60.0
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def allow(self, key: str, now: float | None = None) -> tuple[bool, int]:
        """Whether `key` may proceed, and if not, how many seconds until it may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.pop(key, (self._capacity, now))
            tokens = min(self._capacity, tokens + (now - last) * self._rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        retry_after = 0 if allowed else int((1.0 - tokens) / self._rate) + 1
        return allowed, retry_after
