"""The Telegram limiter keeps an even pace, and a RetryAfter moves the whole schedule."""

from __future__ import annotations

import asyncio

import pytest
from telegram._utils.types import JSONDict
from telegram.error import RetryAfter

from bot.rate_limiter import SteadyRateLimiter


async def test_even_pace_and_no_burst_after_a_retry_after() -> None:
    limiter = SteadyRateLimiter(per_second=50, max_retries=1)
    loop = asyncio.get_running_loop()
    sent: list[float] = []
    refused = {"left": 1}

    async def send() -> JSONDict:
        if len(sent) == 5 and refused["left"]:
            refused["left"] -= 1
            raise RetryAfter(1)
        sent.append(loop.time())
        return {}

    await asyncio.gather(
        *(
            limiter.process_request(send, (), {}, "sendMessage", {"chat_id": n}, None)
            for n in range(20)
        )
    )
    assert len(sent) == 20
    gaps = [b - a for a, b in zip(sent, sent[1:], strict=False)]
    assert min(gaps) >= 0.02 * 0.8  # never two at once, before or after the pause
    assert max(gaps) >= 1.0  # the pause was honoured


async def test_gives_up_after_max_retries() -> None:
    limiter = SteadyRateLimiter(per_second=100, max_retries=0)

    async def send() -> JSONDict:
        raise RetryAfter(1)

    with pytest.raises(RetryAfter):
        await limiter.process_request(send, (), {}, "sendMessage", {"chat_id": 1}, None)
