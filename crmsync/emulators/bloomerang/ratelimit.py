"""Request rate limiting: more than LIMIT calls in any sliding window of SECONDS answer 429.

Bloomerang publishes no numeric limit; integrators are told to expect ``429 Too Many
Requests`` and back off. The emulator counts admitted API calls of the whole database (all
keys together) in a sliding window of real (monotonic) time, so clients wait in real time,
and tells the caller in ``Retry-After`` (whole seconds, at least 1) when the oldest call
in the window leaves it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque


def parse_rate(text: str) -> tuple[int, float]:
    """``"10/1"`` (LIMIT/SECONDS) as (10, 1.0); ValueError when malformed."""
    limit_text, _, seconds_text = text.partition("/")
    limit, seconds = int(limit_text), float(seconds_text or "1")
    if limit < 1 or seconds <= 0:
        raise ValueError(f"a rate is LIMIT/SECONDS with both positive, e.g. 10/1; got {text!r}")
    return limit, seconds


class RateLimiter:
    """A sliding-window limiter; no limit when ``limit`` is None. Thread-safe."""

    def __init__(self, limit: int | None = None, seconds: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._calls: deque[float] = deque()
        self.limit = limit
        self.seconds = seconds
        self.rejected = 0

    def configure(self, limit: int | None, seconds: float) -> None:
        """Change the limit (None: unlimited) and forget the window and the 429s answered."""
        with self._lock:
            self.limit, self.seconds = limit, seconds
            self._calls.clear()
            self.rejected = 0

    def acquire(self) -> int | None:
        """None when the call is admitted, else the seconds to wait (for ``Retry-After``)."""
        now = time.monotonic()
        with self._lock:
            if self.limit is None:
                return None
            while self._calls and self._calls[0] <= now - self.seconds:
                self._calls.popleft()
            if len(self._calls) >= self.limit:
                self.rejected += 1
                return max(1, math.ceil(self._calls[0] + self.seconds - now))
            self._calls.append(now)
            return None

    def describe(self) -> dict[str, object]:
        """Settings and the 429s answered, for the control API."""
        with self._lock:
            return {"limit": self.limit, "seconds": self.seconds, "rejected": self.rejected}
