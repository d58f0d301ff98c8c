"""The stand-ins' rate limits: at most `limit` events in any `seconds`-long window.

Stripe's create-session limit and Telegram's global and per-chat flood control are all this
rule; each stand-in keeps one window per thing it limits and words its own 429.
"""

from __future__ import annotations

import time
from collections import deque


class SlidingWindow:
    """Timestamps of the events admitted in the last `seconds` (monotonic clock)."""

    def __init__(self, seconds: float = 1.0) -> None:
        self.seconds = seconds
        self._admitted: deque[float] = deque()

    def admit(self, limit: float) -> float | None:
        """Record an event and return None when fewer than `limit` fit in the window; else
        leave it out and return the seconds until the oldest one leaves the window. The limit
        is passed each time because tests change it on a running stand-in."""
        now = time.monotonic()
        while self._admitted and now - self._admitted[0] >= self.seconds:
            self._admitted.popleft()
        if len(self._admitted) >= limit:
            return self.seconds - (now - self._admitted[0])
        self._admitted.append(now)
        return None
