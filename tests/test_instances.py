"""Several identical instances on one PostgreSQL database (issue 15, item 3): the polling loop
on one instance at a time and handed over when it stops; the outbox sent once whichever
instance sends it, with every instance woken by the database's announcement."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot import polling
from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from shop import leases
from storage.models import OrderStatus
from tests.conftest import BUYER_ID, settings_for, start_app
from tests.story import (
    add_product,
    applied,
    buy,
    notify,
    open_card,
    order_of,
    pay_and_notify,
    session_of,
    settled,
)

pytestmark = pytest.mark.postgresql_only


@asynccontextmanager
async def instances(
    count: int, tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> AsyncIterator[list[ShopApp]]:
    """`count` shops with the same settings on the session's PostgreSQL database."""
    apps: list[ShopApp] = []
    try:
        for _ in range(count):
            settings = settings_for(tmp_path, telegram, stripe_api)
            apps.append(await start_app(settings, telegram, stripe_api))
        yield apps
    finally:
        for app in reversed(apps):
            await app.stop()


def _polling(apps: list[ShopApp]) -> list[ShopApp]:
    return [a for a in apps if a.application.updater and a.application.updater.running]


async def _eventually(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not within the time")


async def test_one_instance_polls_and_another_takes_over_when_it_stops(
    tmp_path: Path,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(polling, "LEASE_SECONDS", 2.0)
    monkeypatch.setattr(polling, "RENEW_SECONDS", 0.2)
    async with instances(3, tmp_path, telegram, stripe_api) as apps:
        (first,) = _polling(apps)
        assert first is apps[0]
        card = await open_card(telegram, BUYER_ID, await add_product(apps[0], title="Tea"))
        assert card.text is not None and "Tea" in card.text  # answered once, by the poller
        await first.stop()
        rest = apps[1:]

        async def handed_over() -> bool:
            return len(_polling(rest)) == 1

        await _eventually(handed_over)
        card = await open_card(telegram, BUYER_ID + 1, await add_product(rest[0], title="Jam"))
        assert card.text is not None and "Jam" in card.text
        assert telegram.poll_conflicts == 0
        (poller,) = _polling(rest)
        assert poller.shop is not None
        assert await leases.holder(poller.shop, polling.LEASE) == poller.shop.instance


async def test_purchases_paid_through_either_instance_are_delivered_once(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    async with instances(2, tmp_path, telegram, stripe_api) as apps:
        product_id = await add_product(apps[0], title="Ebook", delivery_text="GOODS-ebook")
        buyers = [BUYER_ID + n for n in range(8)]
        sessions = []
        for buyer in buyers:
            pay_message = await buy(telegram, buyer, await open_card(telegram, buyer, product_id))
            sessions.append(session_of(stripe_api, pay_message))
        for n, session_id in enumerate(sessions):
            app = apps[n % 2]  # Stripe's events land on either instance behind the balancer
            stripe_api.webhook_url = f"http://127.0.0.1:{app.port}/stripe/webhook"
            assert await pay_and_notify(stripe_api, session_id) == 200
        for app in apps:
            await settled(app)
        for buyer in buyers:
            receipts = [m for m in telegram.messages(buyer) if "GOODS-ebook" in (m.text or "")]
            assert len(receipts) == 1, (buyer, [m.text for m in telegram.messages(buyer)])
        edits = [c for c in telegram.calls_of("editMessageText") if "GOODS-ebook" in str(c)]
        assert len(edits) == len(buyers)  # each receipt edited in once, by one instance


async def test_an_edit_slow_at_telegram_is_never_landed_over_by_the_goods(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """One instance edits the order's message to "being confirmed" and Telegram is slow to take
    it; meanwhile the payment clears. Another instance must not edit the goods in before that
    edit is done: landing after them, the older edit would hide the goods (a kill storm lost
    an order's goods this way)."""
    async with instances(2, tmp_path, telegram, stripe_api) as apps:
        product_id = await add_product(apps[0], title="Ebook", delivery_text="GOODS-ebook")
        pay_message = await buy(telegram, BUYER_ID, await open_card(telegram, BUYER_ID, product_id))
        session_id = session_of(stripe_api, pay_message)
        stripe_api.webhook_url = f"http://127.0.0.1:{apps[0].port}/stripe/webhook"
        confirming = telegram.hold_next("editMessageText")
        stripe_api.pay(session_id, payment_status="unpaid")
        await notify(stripe_api, "checkout.session.completed", session_id)
        await asyncio.wait_for(confirming.arrived.wait(), 10)
        stripe_api.settle(session_id, succeeded=True)
        await notify(stripe_api, "checkout.session.async_payment_succeeded", session_id)
        await applied(apps[0])

        async def goods_edited() -> bool:
            return any("GOODS-ebook" in str(c) for c in telegram.calls_of("editMessageText"))

        with contextlib.suppress(AssertionError):  # the other instance's chance to jump ahead
            await _eventually(goods_edited, seconds=2)
        confirming.released.set()
        for app in apps:
            await settled(app)
        assert "GOODS-ebook" in (pay_message.text or ""), pay_message.text
        assert (await order_of(apps[0], session_id)).status is OrderStatus.FULFILLED
