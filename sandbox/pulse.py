"""A broadcast "something changed" signal for live views (the page's event stream)."""

from __future__ import annotations

import asyncio
import contextlib


class Pulse:
    """Every waiter wakes at the next `fire()`; each then re-reads the state it shows."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._version = 0

    @property
    def version(self) -> int:
        """How many times it fired: a reader notes it *before* reading the state, then waits
        with `since=` so a fire that came while it was busy (writing to a slow page) is not
        missed."""
        return self._version

    def fire(self) -> None:
        self._version += 1
        self._event.set()
        self._event = asyncio.Event()

    async def wait(
        self,
        timeout: float,  # noqa: ASYNC109 - a plain bound on the wait
        since: int | None = None,
    ) -> None:
        """Return at the next fire, at once if it already fired after `since`, or after
        `timeout` seconds."""
        if since is not None and since != self._version:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)
