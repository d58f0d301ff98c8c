"""The stand-ins' rate limits: at most `limit` events in any `seconds`-long window.

Stripe's create-session limit and Telegram's global and per-chat flood control are all this
rule; each stand-in keeps one window per thing it limits and words its own 429.
"""

from __future__ import annotations

import time
from collections import deque


class SlidingWindow:
    """Timestamps (monotonic clock) of the events admitted lately."""

    def __init__(self) -> None:
        self._admitted: deque[float] = deque()

    def admit(self, limit: float, seconds: float = 1.0) -> float | None:
        """Record an event and return None when fewer than `limit` were admitted in the last
        `seconds`; else leave it out and return the seconds until the oldest one leaves the
        window. Limit and window are passed each time: tests change them on a running stand-in.
        """
        now = time.monotonic()
        while self._admitted and now - self._admitted[0] >= seconds:
            self._admitted.popleft()
        if len(self._admitted) >= limit:
            return seconds - (now - self._admitted[0])
        self._admitted.append(now)
        return None
