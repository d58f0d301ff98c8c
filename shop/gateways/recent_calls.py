"""At most one outside call per key every few seconds, shared by everyone who asks meanwhile.

The /success and /cancel pages are open to anyone holding a URL, and each may look a session up
at Stripe, whose rate limits are per account: 300 parallel page loads must not become 300 API
calls that starve session creation and refunds. Callers asking for the same key while a call is
in flight, or within `seconds` after it started, share that call. With several instances the
pages' loads are spread over all of them, so before calling, an instance also claims the key
(`claim`: a window shared by the instances, shop/context.py) — a key another one called for within
the window is not called again; the caller then reads what that call recorded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

# Past this many remembered keys, finished calls older than the window are forgotten.
MAX_REMEMBERED = 10_000


class RecentCalls:
    def __init__(self, seconds: float, claim: Callable[[str], Awaitable[bool]]) -> None:
        self._seconds = seconds
        self._claim = claim
        self._calls: dict[str, tuple[asyncio.Task[None], float]] = {}

    async def run(self, key: str, call: Callable[[], Awaitable[None]]) -> None:
        """Once `call()` (or the call for this key still running, or finished but started less
        than `seconds` ago here, or the one another instance claimed) is over. A caller that
        gives up waiting does not cancel the call."""
        moment = time.monotonic()
        entry = self._calls.get(key)
        if entry is None or (entry[0].done() and moment - entry[1] >= self._seconds):
            if len(self._calls) >= MAX_REMEMBERED:
                self._forget_stale(moment)
            task = asyncio.ensure_future(self._claimed(key, call))
            task.add_done_callback(_retrieve_exception)
            self._calls[key] = (task, moment)
        else:
            task = entry[0]
        await asyncio.shield(task)

    async def _claimed(self, key: str, call: Callable[[], Awaitable[None]]) -> None:
        if await self._claim(key):
            await call()

    def _forget_stale(self, moment: float) -> None:
        for key, (task, started) in list(self._calls.items()):
            if task.done() and moment - started >= self._seconds:
                del self._calls[key]


def _retrieve_exception(task: asyncio.Task[None]) -> None:
    """Every waiter may have given up; the failure was theirs to see, not a loop warning."""
    if not task.cancelled():
        task.exception()
