"""Telegram's ~30 messages/s as one evenly spaced schedule that a RetryAfter moves as a whole.

PTB's AIORateLimiter is a bucket on top of a rate: waves leave within milliseconds, the next
requests get 429, and requests that took a slot during the pause all leave together when it
ends — one 429 became a cycle delivering at 0.66–0.77 of the limit (bench/FINDINGS.md §3).
Here every chat request takes the next slot of a single schedule; a RetryAfter pushes the
schedule past the pause, and a request whose slot fell inside the pause queues again behind it.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Coroutine
from typing import Any

from telegram._utils.types import JSONDict
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.telegram_sender import retry_after_seconds

MESSAGES_PER_SECOND = 28  # 29 left 34 ms of margin: two bunched arrivals gave 2 × 429
PAUSE_MARGIN_SECONDS = 0.1


class SteadyRateLimiter(BaseRateLimiter[int]):
    def __init__(self, per_second: float = MESSAGES_PER_SECOND, max_retries: int = 2) -> None:
        self._interval = 1 / per_second
        self._max_retries = max_retries
        self._next_slot = 0.0
        self._paused_until = 0.0

    async def initialize(self) -> None:
        """Nothing to set up: the schedule starts empty."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def _take_slot(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            moment = loop.time()
            slot = max(self._next_slot, moment, self._paused_until)
            self._next_slot = slot + self._interval
            if slot > moment:
                await asyncio.sleep(slot - moment)
            if loop.time() >= self._paused_until:
                return  # else a pause began while we waited: queue again behind it

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        """Messages (requests with a chat) take a slot; others only wait out a pause."""
        retries = self._max_retries if rate_limit_args is None else rate_limit_args
        loop = asyncio.get_running_loop()
        for attempt in itertools.count():
            if data.get("chat_id") is not None:
                await self._take_slot()
            else:
                await asyncio.sleep(max(self._paused_until - loop.time(), 0))
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt >= retries:
                    raise
                until = loop.time() + retry_after_seconds(error) + PAUSE_MARGIN_SECONDS
                self._paused_until = max(self._paused_until, until)
        raise AssertionError("unreachable")
