"""The Telegram limiter keeps an even pace, a RetryAfter moves the whole schedule, goods
leave before notices and refusals, and a repeated refusal is sent once."""

from __future__ import annotations

import asyncio

import pytest
from telegram._utils.types import JSONDict
from telegram.error import RetryAfter

from bot.rate_limiter import SteadyRateLimiter
from shop.gateways.slots import SLACK_SHARE
from shop.gateways.telegram_sender import Priority, sending_as


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
    # Never two at once, before or after the pause: a slot taken a little late keeps the
    # schedule's grid, so the next may follow by as little as (1 - SLACK_SHARE) of an interval.
    assert min(gaps) >= 0.02 * (1 - SLACK_SHARE) * 0.8
    assert max(gaps) >= 1.0  # the pause was honoured


async def test_gives_up_after_max_retries() -> None:
    limiter = SteadyRateLimiter(per_second=100, max_retries=0)

    async def send() -> JSONDict:
        raise RetryAfter(1)

    with pytest.raises(RetryAfter):
        await limiter.process_request(send, (), {}, "sendMessage", {"chat_id": 1}, None)


async def _send_as(
    limiter: SteadyRateLimiter, priority: Priority, chat: int, text: str, sent: list[str]
) -> object:
    async def send() -> JSONDict:
        await asyncio.sleep(0.001)  # the request's own round trip
        sent.append(text)
        return {"message_id": len(sent), "chat": chat}

    with sending_as(priority):
        return await limiter.process_request(
            send, (), {}, "sendMessage", {"chat_id": chat, "text": text}, None
        )


async def test_goods_overtake_waiting_notices_and_refusals() -> None:
    limiter = SteadyRateLimiter(per_second=100)
    sent: list[str] = []
    flood = [
        asyncio.create_task(_send_as(limiter, priority, n, f"{priority.name} {n}", sent))
        for n in range(30)
        for priority in (Priority.REFUSAL, Priority.NOTICE)
    ]
    await asyncio.sleep(0.05)  # a few have left; the rest wait for their slots
    goods = [
        asyncio.create_task(_send_as(limiter, Priority.GOODS, 100 + n, f"GOODS {n}", sent))
        for n in range(3)
    ]
    await asyncio.gather(*flood, *goods)
    assert len(sent) == 63
    first_goods = sent.index("GOODS 0")
    assert sent[first_goods : first_goods + 3] == ["GOODS 0", "GOODS 1", "GOODS 2"]
    assert first_goods < 10  # behind at most the slots already handed out, not the flood
    after = [text.split()[0] for text in sent[first_goods + 3 :]]
    assert after == sorted(after, key=lambda kind: Priority[kind])  # notices, then refusals


async def test_a_refusal_repeating_one_still_queued_is_sent_once() -> None:
    limiter = SteadyRateLimiter(per_second=50)
    sent: list[str] = []
    repeats = [_send_as(limiter, Priority.REFUSAL, 1, "sold out", sent) for _ in range(40)]
    others = [
        _send_as(limiter, Priority.REFUSAL, 2, "sold out", sent),  # another chat
        _send_as(limiter, Priority.REFUSAL, 1, "slow down", sent),  # another text
        _send_as(limiter, Priority.NOTICE, 1, "notice", sent),
        _send_as(limiter, Priority.NOTICE, 1, "notice", sent),  # notices are never merged
    ]
    results = await asyncio.gather(*repeats, *others)
    assert sorted(sent) == ["notice", "notice", "slow down", "sold out", "sold out"]
    assert len({id(result) for result in results[:40]}) == 1  # all 40 got the one message
