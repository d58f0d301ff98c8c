"""At most one outside call per key every few seconds, shared by everyone who asks meanwhile.

The /success and /cancel pages are open to anyone holding a URL, and each may look a session up
at Stripe, whose rate limits are per account: 300 parallel page loads must not become 300 API
calls that starve session creation and refunds. Callers asking for the same key while a call is
in flight, or within `seconds` after it started, share that call's result.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")

# Past this many remembered keys, finished calls older than the window are forgotten.
MAX_REMEMBERED = 10_000


class RecentCalls(Generic[T]):
    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._calls: dict[str, tuple[asyncio.Task[T], float]] = {}

    async def run(self, key: str, call: Callable[[], Awaitable[T]]) -> T:
        """`call()`'s result: from the call for this key still running, or finished but started
        less than `seconds` ago, if there is one. A caller that gives up waiting does not cancel
        the call."""
        moment = time.monotonic()
        entry = self._calls.get(key)
        if entry is None or (entry[0].done() and moment - entry[1] >= self._seconds):
            if len(self._calls) >= MAX_REMEMBERED:
                self._forget_stale(moment)
            task = asyncio.ensure_future(call())
            task.add_done_callback(_retrieve_exception)
            self._calls[key] = (task, moment)
        else:
            task = entry[0]
        return await asyncio.shield(task)

    def _forget_stale(self, moment: float) -> None:
        for key, (task, started) in list(self._calls.items()):
            if task.done() and moment - started >= self._seconds:
                del self._calls[key]


def _retrieve_exception(task: asyncio.Task[T]) -> None:
    """Every waiter may have given up; the failure was theirs to see, not a loop warning."""
    if not task.cancelled():
        task.exception()
