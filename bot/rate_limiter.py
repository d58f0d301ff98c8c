"""Telegram's ~30 messages/s as one evenly spaced schedule, served by priority, that a
RetryAfter moves as a whole.

PTB's AIORateLimiter is a bucket on top of a rate: waves leave within milliseconds, the next
requests get 429, and requests that took a slot during the pause all leave together when it
ends — one 429 became a cycle delivering at 0.66–0.77 of the limit (bench/FINDINGS.md §3).
Here a chat request waits for a slot of the bot's schedule (shop/gateways/slots.py: evenly
spaced, never inside a pause), and each slot as it comes goes to the waiting request of the
highest priority, oldest first (telegram_sender.Priority: goods and payment links, then
notices, then refusals). So a flood of refusals or notices delays no buyer's goods by more than
one slot. The schedule is this process's own, or, with several instances on PostgreSQL, a row
they all take their slots from (the wiring picks, bot/app.py): together they keep the bot's
one budget, and a RetryAfter any of them gets pauses them all. A refusal identical to one still
waiting (same method, chat and text) is not queued again: it shares that one's result.
Requests without a chat (answerCallbackQuery, getUpdates…) are not messages and take no slot —
Telegram's 30/s is about messages — they only wait out a pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable, Coroutine
from typing import Any

from telegram._utils.types import JSONDict
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from shop.gateways.slots import LocalSchedule, SlotGranter, SlotSchedule
from shop.gateways.telegram_sender import Priority, current_priority, retry_after_seconds

MESSAGES_PER_SECOND = 28  # 29 left 34 ms of margin: two bunched arrivals gave 2 × 429
PAUSE_MARGIN_SECONDS = 0.1

Result = bool | JSONDict | list[JSONDict]


class SteadyRateLimiter(BaseRateLimiter[int]):
    def __init__(
        self,
        per_second: float = MESSAGES_PER_SECOND,
        max_retries: int = 2,
        *,
        schedule: SlotSchedule | None = None,
    ) -> None:
        self._max_retries = max_retries
        self._slots = SlotGranter(schedule or LocalSchedule(per_second), "telegram-send-slots")
        self._queued_refusals: dict[tuple[str, object, object], asyncio.Future[Result]] = {}

    def use_schedule(self, schedule: SlotSchedule) -> None:
        """Take the bot's slots from `schedule` from now on (the wiring, before any message)."""
        self._slots.use(schedule)

    async def initialize(self) -> None:
        """Nothing to set up: the schedule starts empty."""

    async def shutdown(self) -> None:
        """Stop handing out slots; requests still waiting are cancelled."""
        self._slots.shutdown()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        """Messages (requests with a chat) take a slot by priority; others only wait out a
        pause; a refusal repeating one still queued shares its result."""
        priority = current_priority()
        if priority is not Priority.REFUSAL or data.get("chat_id") is None:
            return await self._send(callback, args, kwargs, data, rate_limit_args, priority)
        key = (endpoint, data.get("chat_id"), data.get("text"))
        queued = self._queued_refusals.get(key)
        if queued is not None:
            with contextlib.suppress(asyncio.CancelledError):
                return await asyncio.shield(queued)
            if not queued.cancelled():
                raise asyncio.CancelledError  # this request itself was cancelled
        shared: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        shared.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._queued_refusals[key] = shared
        try:
            result = await self._send(callback, args, kwargs, data, rate_limit_args, priority)
            shared.set_result(result)
            return result
        except Exception as error:
            shared.set_exception(error)
            raise
        finally:
            if not shared.done():
                shared.cancel()  # cancelled: a repeat waiting on it sends its own
            if self._queued_refusals.get(key) is shared:
                del self._queued_refusals[key]

    async def _send(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        data: dict[str, Any],
        rate_limit_args: int | None,
        priority: Priority,
    ) -> Result:
        retries = self._max_retries if rate_limit_args is None else rate_limit_args
        for attempt in itertools.count():
            if data.get("chat_id") is not None:
                await self._slots.slot(priority)
            else:
                await self._slots.pause_over()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                await self._slots.pause(retry_after_seconds(error) + PAUSE_MARGIN_SECONDS)
                if attempt >= retries:
                    raise
        raise AssertionError("unreachable")
