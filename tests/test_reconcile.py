"""Reconciliation: lost webhooks end in the same state as delivered ones, once, and only ours."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot import reconcile as reconcile_schedule
from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from shop import reconcile as reconciliation
from shop.reconcile import catch_up_payments, reconcile
from storage import deliveries, orders, stock
from storage.clock import now
from storage.models import DeliveryKind, OrderStatus, ProductKind
from tests.conftest import ADMIN_ID, BUYER_ID, OTHER_BUYER_ID, settings_for, start_app
from tests.reconcile_steps import shop, stock_product, texts_to
from tests.story import buy, checkout, open_card, order_of, session_of, settled

pytestmark = pytest.mark.usefixtures("no_scheduled_reconcile")


async def test_a_paid_session_without_webhook_is_delivered_once(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    pay_message, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    stripe_api.pay(session_id)  # the buyer pays; the webhook never arrives

    report = await reconcile(shop(app))
    assert (report.seen, report.paid, report.errors) == (1, 1, 0)
    await settled(app)
    order = await order_of(app, session_id)
    assert order.status is OrderStatus.FULFILLED
    receipt = next(m for m in telegram.messages(BUYER_ID) if m.message_id == pay_message.message_id)
    assert "Your purchase" in (receipt.text or "")

    listed = len(stripe_api.requests_to("GET", "/v1/checkout/sessions"))
    again = await reconcile(shop(app))
    assert (again.seen, again.changed, again.errors) == (0, False, 0)
    assert len(stripe_api.requests_to("GET", "/v1/checkout/sessions")) == listed  # none waits
    late = stripe_api.session_event("checkout.session.completed", session_id)
    assert (await stripe_api.deliver(late))[0] == 200
    await settled(app)

    assert (await order_of(app, session_id)).status is OrderStatus.FULFILLED
    assert app.db is not None
    kinds = [d.kind for d in await deliveries.for_order(app.db.reader, order.id)]
    assert kinds.count(DeliveryKind.GOODS) == 1
    assert len(texts_to(telegram, BUYER_ID, "Your purchase")) == 1
    assert len(texts_to(telegram, BUYER_ID, "Payment received")) == 1
    assert len(texts_to(telegram, ADMIN_ID, "New sale")) == 1


async def test_two_runs_at_once_take_turns(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    stripe_api.pay(session_id)

    first, second = await asyncio.gather(reconcile(shop(app)), reconcile(shop(app)))

    assert (first.paid, second.paid) == (1, 0)  # the second saw the first's result
    await settled(app)
    assert len(texts_to(telegram, BUYER_ID, "Your purchase")) == 1


async def test_sessions_on_many_pages_are_all_applied(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reconciliation, "LIST_PAGE_SIZE", 1)
    buyers = [BUYER_ID + n for n in range(3)]
    sessions = [(await checkout(app, telegram, stripe_api, buyer))[1] for buyer in buyers]
    for session_id in sessions:
        stripe_api.pay(session_id)
    listed = len(stripe_api.requests_to("GET", "/v1/checkout/sessions"))

    report = await reconcile(shop(app))

    assert (report.seen, report.paid, report.errors) == (3, 3, 0)
    assert len(stripe_api.requests_to("GET", "/v1/checkout/sessions")) - listed == 3
    await settled(app)
    for buyer, session_id in zip(buyers, sessions, strict=True):
        assert (await order_of(app, session_id)).status is OrderStatus.FULFILLED
        assert len(texts_to(telegram, buyer, "Your purchase")) == 1


async def test_an_expired_session_releases_its_key_and_tells_the_buyer_once(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    product_id = await stock_product(app, ["KEY-1"])
    pay_message = await buy(telegram, BUYER_ID, await open_card(telegram, BUYER_ID, product_id))
    session_id = session_of(stripe_api, pay_message)
    assert app.db is not None
    assert await stock.available(app.db.reader, product_id) == 0
    stripe_api.expire(session_id)  # and no checkout.session.expired arrives

    report = await reconcile(shop(app))
    assert (report.expired, report.paid, report.errors) == (1, 0, 0)
    await settled(app)
    assert (await reconcile(shop(app))).changed is False
    await settled(app)

    assert (await order_of(app, session_id)).status is OrderStatus.EXPIRED
    assert await stock.available(app.db.reader, product_id) == 1
    assert len(texts_to(telegram, BUYER_ID, "Your payment link for order")) == 1


async def test_a_pending_order_that_never_got_a_session_expires_and_frees_its_key(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    """We crashed after committing the order, before Stripe's answer: no link, nothing to pay."""
    product_id = await stock_product(app, ["KEY-A", "KEY-B"])
    assert app.db is not None
    created = {}
    async with app.db.transaction() as tx:
        for name, expires_at in (("stale", now() - 3600), ("in_flight", now() + 3600)):
            order = await orders.create(
                tx,
                buyer_user_id=BUYER_ID,
                buyer_chat_id=BUYER_ID,
                buyer_name="Ada",
                lines=[orders.NewLine(product_id, "Game key", ProductKind.DIGITAL_STOCK, 999, 1)],
                currency="usd",
                expires_at=expires_at,
            )
            assert await stock.reserve(tx, product_id, order.id, 1)
            created[name] = order.id
    assert await stock.available(app.db.reader, product_id) == 0

    report = await reconcile(shop(app))

    assert (report.expired, report.errors) == (1, 0)
    stale = await orders.get(app.db.reader, created["stale"])
    assert stale is not None and stale.status is OrderStatus.EXPIRED
    assert stale.checkout_session_id is None
    in_flight = await orders.get(app.db.reader, created["in_flight"])
    assert in_flight is not None and in_flight.status is OrderStatus.PENDING  # may still get one
    assert await stock.available(app.db.reader, product_id) == 1
    assert await stock.reserved_for(app.db.reader, created["in_flight"]) == 1
    await settled(app)
    assert telegram.messages(BUYER_ID) == []  # they never had a link to lose


async def created_minutes_ago(app: ShopApp, session_id: str, minutes: int) -> None:
    """Move an order's creation back, as if its buyer had been at Checkout that long."""
    order = await order_of(app, session_id)
    assert app.db is not None
    async with app.db.transaction() as tx:
        await tx.execute(
            "UPDATE orders SET created_at = ? WHERE id = ?", (now() - minutes * 60, order.id)
        )


async def test_recent_payments_are_caught_up_from_completed_sessions_only(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """The cheap pass: nothing to ask while no order has waited past a webhook's time; then one
    list of completed sessions created since the oldest waiting order, and only they move."""
    _, paid_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    _, open_id = await checkout(app, telegram, stripe_api, OTHER_BUYER_ID)
    stripe_api.pay(paid_id)  # the buyer pays; the webhook never arrives
    lists = len(stripe_api.requests_to("GET", "/v1/checkout/sessions"))

    report = await catch_up_payments(shop(app))
    assert (report.seen, report.paid) == (0, 0)  # its webhook may still be on its way
    assert len(stripe_api.requests_to("GET", "/v1/checkout/sessions")) == lists

    await created_minutes_ago(app, paid_id, 2)
    await created_minutes_ago(app, open_id, 3)
    report = await catch_up_payments(shop(app))
    assert (report.seen, report.paid, report.errors) == (1, 1, 0)
    request = stripe_api.requests_to("GET", "/v1/checkout/sessions")[-1]
    assert request.params["status"] == "complete"
    oldest = (await order_of(app, open_id)).created_at
    assert int(request.params["created"]["gte"]) <= oldest
    await settled(app)
    assert (await order_of(app, paid_id)).status is OrderStatus.FULFILLED
    assert (await order_of(app, open_id)).status is OrderStatus.AWAITING_PAYMENT
    assert len(texts_to(telegram, BUYER_ID, "Your purchase")) == 1


async def test_a_lost_webhook_costs_the_buyer_seconds_not_five_minutes(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's own schedule (the 5-minute run far away) delivers a paid order whose webhook
    was lost within the grace plus one cheap pass; shortened here from 60 s + 30 s."""
    monkeypatch.setattr(reconcile_schedule, "RECENT_INTERVAL_SECONDS", 0.5)
    monkeypatch.setattr(reconciliation, "WEBHOOK_GRACE_SECONDS", 1)
    app = await start_app(settings_for(tmp_path, telegram, stripe_api), telegram, stripe_api)
    try:
        pay_message, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
        stripe_api.pay(session_id)
        receipt = await telegram.wait_for(
            BUYER_ID, lambda m: "Your purchase" in (m.text or ""), timeout=15
        )
        assert receipt.message_id == pay_message.message_id
        await settled(app)
        assert (await order_of(app, session_id)).status is OrderStatus.FULFILLED
        assert len(texts_to(telegram, BUYER_ID, "Your purchase")) == 1
    finally:
        await app.stop()
