"""The real server under slow and silent clients: it closes them, and stays open to others.

Hundreds of clients send a webhook's headers and then a trickle of body (or nothing at all),
while a buyer pays: /healthz and the signed webhook still answer, the buyer gets the goods, every
slow client is answered and closed within the body deadline, and the log stays a few lines."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from tests.conftest import BUYER_ID
from tests.story import checkout, order_of, pay_and_notify, settled
from webhooks import limits

SLOW_BODIES = 200
SILENT = limits.MAX_CONNECTIONS + 100
# Everything is over well within these (the deadlines plus a margin for a loaded machine).
CLOSED_WITHIN = limits.BODY_READ_SECONDS + 8
IDLE_CLOSED_WITHIN = limits.IDLE_SECONDS + 8

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _slow_body(port: int) -> Connection:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST /stripe/webhook HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n"
        b'Stripe-Signature: t=1,v1=00\r\nContent-Length: 5000\r\n\r\n{"id": '
    )
    await writer.drain()
    return reader, writer


async def _answer_then_closed(connection: Connection, within: float) -> bytes:
    """What the server wrote before closing the connection (b'' for a silent close)."""
    reader, writer = connection
    try:
        async with asyncio.timeout(within):
            return await reader.read()  # until EOF
    finally:
        writer.close()


@pytest.mark.slow
async def test_slow_and_silent_clients_are_closed_while_the_shop_answers(
    app: ShopApp,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert app.port is not None
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    caplog.set_level(logging.INFO)
    caplog.clear()

    slow = [await _slow_body(app.port) for _ in range(SLOW_BODIES)]
    silent = [await asyncio.open_connection("127.0.0.1", app.port) for _ in range(SILENT)]
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{app.port}/healthz") as response,
    ):
        assert response.status == 200
    assert await pay_and_notify(stripe_api, session_id) == 200
    await settled(app, buyers_only=True)
    assert (await order_of(app, session_id)).status.value == "fulfilled"

    answers = await asyncio.gather(*(_answer_then_closed(c, CLOSED_WITHIN) for c in slow))
    statuses = sorted({answer.split(b" ", 2)[1] for answer in answers})
    assert statuses == [b"408", b"503"]  # the first ones waited out the deadline, then none
    assert sum(answer.startswith(b"HTTP/1.1 408") for answer in answers) <= limits.MAX_SLOW_BODIES
    await asyncio.gather(*(_answer_then_closed(c, IDLE_CLOSED_WITHIN) for c in silent))

    assert not [r for r in caplog.records if r.exc_info], "a traceback in the log"
    # aiohttp's access log (INFO) has its one line per request; all else is rate-limited.
    attack = [r for r in caplog.records if r.levelno >= logging.WARNING]
    # One line a second at most: the whole attack is a few dozen lines, not one per client.
    assert len(attack) <= CLOSED_WITHIN + IDLE_CLOSED_WITHIN, [r.getMessage() for r in attack]
    assert any("refused" in r.getMessage() for r in attack)
