"""PostgreSQL lost while the shop runs (issue 15, item 5): /healthz says so, Stripe's webhook
is answered 503 (so Stripe retries it) rather than taken and lost, and once the server is back
the pool reconnects by itself and the retried event is applied exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from testkit.postgres import PostgresCluster
from tests.conftest import BUYER_ID, settings_for, start_app
from tests.story import add_product, buy, open_card, order_of, paid_event, session_of, settled

pytestmark = [pytest.mark.postgresql_only, pytest.mark.slow, pytest.mark.timeout(120)]


@pytest.fixture
def own_server() -> Iterator[PostgresCluster]:
    """A server of this test's own, since the test stops it."""
    cluster = PostgresCluster.start(crash_safe=True)
    try:
        yield cluster
    finally:
        cluster.stop()


async def _health_until(port: int, status: int, within: float) -> dict[str, object]:
    async with aiohttp.ClientSession() as http:
        seen = None
        for _ in range(int(within / 0.25)):
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                seen = (response.status, await response.json())
            if seen[0] == status:
                body: dict[str, object] = seen[1]
                return body
            await asyncio.sleep(0.25)
    raise AssertionError(f"/healthz never answered {status}: {seen}")


async def test_a_lost_server_is_503_and_after_it_returns_nothing_is_lost_or_doubled(
    own_server: PostgresCluster, tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    url = own_server.create_database("shop")
    app = await start_app(
        settings_for(tmp_path, telegram, stripe_api, DATABASE_URL=url), telegram, stripe_api
    )
    try:
        assert app.port is not None
        product_id = await add_product(app, title="Ebook", delivery_text="GOODS-ebook")
        pay_message = await buy(telegram, BUYER_ID, await open_card(telegram, BUYER_ID, product_id))
        session_id = session_of(stripe_api, pay_message)
        for _ in range(500):  # until the shop has noted its Pay message
            if (await order_of(app, session_id)).message_id == pay_message.message_id:
                break
            await asyncio.sleep(0.02)
        event = paid_event(stripe_api, session_id)

        own_server.halt()
        broken = await _health_until(app.port, 503, 30)
        assert broken["database"] is False
        status, _ = await stripe_api.deliver(event)
        assert status == 503  # not recorded: Stripe keeps it and retries

        own_server.resume()
        assert (await _health_until(app.port, 200, 30))["database"] is True
        for _ in range(2):  # Stripe's retry, and a duplicate of it
            status, _ = await stripe_api.deliver(event)
            assert status == 200
        await settled(app)
        goods = [m for m in telegram.messages(BUYER_ID) if "GOODS-ebook" in (m.text or "")]
        assert len(goods) == 1, [m.text for m in telegram.messages(BUYER_ID)]
    finally:
        await app.stop()
