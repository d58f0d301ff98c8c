"""A broadcast "something changed" signal for live views (the page's event stream)."""

from __future__ import annotations

import asyncio
import contextlib


class Pulse:
    """Every waiter wakes at the next `fire()`; each then re-reads the state it shows."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:  # noqa: ASYNC109 - a plain bound on the wait
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)
