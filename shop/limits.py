"""The shop's limits per buyer and per chat, kept in its database (storage/limits.py).

A buyer's taps, messages and page loads may reach any of several instances, so a limit that
each instance counted on its own would let N times as much through; in the database every
instance counts the same events, and a restart (or a deploy) resets nobody's count. Each limit
is named once, beside the rule it serves (shop/context.py, bot/buyer/support.py,
bot/sale_alerts.py); this module only runs them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from storage import limits
from storage.db import Database

# The rows that limit nothing any more are dropped at most this often (per process): often
# enough that they never pile up, rarely enough to cost nothing per tap.
FORGET_EVERY_SECONDS = 60.0


@dataclass(frozen=True)
class Window:
    """At most `limit` events per subject in any `seconds`-long window."""

    scope: str
    limit: int
    seconds: float


@dataclass(frozen=True)
class Pace:
    """A burst of `burst` per subject after a quiet spell, then one per `gap_seconds`."""

    scope: str
    burst: int
    gap_seconds: float


class Limits:
    """Takes events from the windows and paces of the shop's database."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.monotonic) -> None:
        self._db = db
        self._clock = clock
        self._forgotten_at: float | None = None

    async def allow(self, window: Window, subject: int | str) -> bool:
        """Whether `subject` may have one more event now; True counts it."""
        async with self._db.transaction(serial=False) as tx:
            allowed = await limits.take_window(
                tx, window.scope, str(subject), window.limit, round(window.seconds * 1000)
            )
        await self._forget_expired()
        return allowed

    async def wait(self, pace: Pace, subject: int | str) -> float:
        """0 when `subject` may have one more now (and it is counted), else the seconds until
        it may."""
        async with self._db.transaction(serial=False) as tx:
            wait_ms = await limits.take_pace(
                tx, pace.scope, str(subject), pace.burst, round(pace.gap_seconds * 1000)
            )
        await self._forget_expired()
        return wait_ms / 1000

    async def _forget_expired(self) -> None:
        """Drop rows that limit nothing any more, once a minute: in a transaction of its own,
        after the take's has ended, so that it never waits on a row while holding another."""
        moment = self._clock()
        if self._forgotten_at is not None and moment - self._forgotten_at < FORGET_EVERY_SECONDS:
            return
        self._forgotten_at = moment
        async with self._db.transaction(serial=False) as tx:
            await limits.forget_expired(tx)
