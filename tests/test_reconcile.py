"""Reconciliation: lost webhooks end in the same state as delivered ones, once, and only ours."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import stripe

from bot import reconcile as reconcile_schedule
from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from shop import reconcile as reconciliation
from shop.context import Shop
from shop.gateways.stripe_gateway import NETWORK_RETRIES
from shop.reconcile import catch_up_payments, reconcile
from storage import deliveries, orders, stock
from storage.clock import now
from storage.models import DeliveryKind, OrderStatus, ProductKind
from tests.conftest import ADMIN_ID, BUYER_ID, OTHER_BUYER_ID, settings_for, start_app
from tests.story import add_product, buy, checkout, open_card, order_of, session_of, settled


@pytest.fixture(autouse=True)
def no_scheduled_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the app's own jobs out of the way, so each test sees only the runs it makes."""
    monkeypatch.setattr(reconcile_schedule, "FIRST_RUN_SECONDS", 3600.0)
    monkeypatch.setattr(reconcile_schedule, "RECENT_INTERVAL_SECONDS", 3600.0)


def shop(app: ShopApp) -> Shop:
    assert app.shop is not None
    return app.shop


def texts_to(telegram: FakeTelegram, chat_id: int, part: str) -> list[str]:
    return [m.text for m in telegram.messages(chat_id) if m.text and part in m.text]


async def make_overdue(app: ShopApp, session_id: str) -> None:
    """Move an order's link expiry into the past, as if its whole life had gone by."""
    order = await order_of(app, session_id)
    assert app.db is not None
    async with app.db.transaction() as tx:
        await tx.execute("UPDATE orders SET expires_at = ? WHERE id = ?", (now() - 3600, order.id))


async def stock_product(app: ShopApp, keys: list[str]) -> int:
    product_id = await add_product(
        app, title="Game key", kind=ProductKind.DIGITAL_STOCK, delivery_text="Redeem it."
    )
    assert app.db is not None
    async with app.db.transaction() as tx:
        await stock.add_items(tx, product_id, keys)
    return product_id


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


async def test_a_delayed_payment_without_webhook_becomes_processing(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    stripe_api.pay(session_id, payment_status="unpaid")  # a bank debit: complete, not yet paid

    report = await reconcile(shop(app))
    assert (report.processing, report.paid, report.errors) == (1, 0, 0)
    await settled(app)
    assert (await order_of(app, session_id)).status is OrderStatus.PROCESSING
    assert (await reconcile(shop(app))).changed is False
    await settled(app)
    assert len(texts_to(telegram, BUYER_ID, "is being confirmed")) == 1
    assert not texts_to(telegram, BUYER_ID, "Your purchase")


async def delayed_payment_days_ago(
    app: ShopApp,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    days: int,
    product_id: int | None = None,
) -> str:
    """A bank debit whose 'being confirmed' webhook came `days` ago; its session is that old."""
    product_id = product_id or await add_product(app)
    pay_message = await buy(telegram, BUYER_ID, await open_card(telegram, BUYER_ID, product_id))
    session_id = session_of(stripe_api, pay_message)
    stripe_api.pay(session_id, payment_status="unpaid")
    completed = stripe_api.session_event("checkout.session.completed", session_id)
    assert (await stripe_api.deliver(completed))[0] == 200
    await settled(app)
    order = await order_of(app, session_id)
    assert order.status is OrderStatus.PROCESSING
    then = now() - days * 24 * 60 * 60
    stripe_api.sessions[session_id]["created"] = then
    assert app.db is not None
    async with app.db.transaction() as tx:
        await tx.execute(
            "UPDATE orders SET created_at = ?, updated_at = ?, expires_at = ? WHERE id = ?",
            (then, then, then + 3600, order.id),
        )
    return session_id


async def test_a_debit_settling_days_later_without_webhook_is_delivered_once(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    session_id = await delayed_payment_days_ago(app, telegram, stripe_api, days=3)
    stripe_api.settle(session_id, succeeded=True)  # the webhook for it is lost

    report = await reconcile(shop(app))
    assert (report.paid, report.failed, report.errors) == (1, 0, 0)
    await settled(app)
    assert (await order_of(app, session_id)).status is OrderStatus.FULFILLED
    assert len(texts_to(telegram, BUYER_ID, "Your purchase")) == 1
    listing = "/v1/checkout/sessions"
    lists = [r for r in stripe_api.requests_to("GET", listing) if r.path == listing]
    created = stripe_api.sessions[session_id]["created"]
    assert lists and all(int(r.params["created"]["gte"]) > created for r in lists)  # too old

    asked = len(stripe_api.requests_to("GET", "/v1/payment_intents/"))
    assert (await reconcile(shop(app))).changed is False
    assert len(stripe_api.requests_to("GET", "/v1/payment_intents/")) == asked  # settled now
    late = stripe_api.session_event("checkout.session.async_payment_succeeded", session_id)
    assert (await stripe_api.deliver(late))[0] == 200
    await settled(app)
    assert len(texts_to(telegram, BUYER_ID, "Your purchase")) == 1
    assert len(texts_to(telegram, BUYER_ID, "Payment received")) == 1


async def test_a_debit_failing_days_later_without_webhook_frees_the_key_and_tells_the_buyer(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    product_id = await stock_product(app, ["KEY-1"])
    session_id = await delayed_payment_days_ago(
        app, telegram, stripe_api, days=5, product_id=product_id
    )
    stripe_api.settle(session_id, succeeded=False)

    report = await reconcile(shop(app))
    assert (report.paid, report.failed, report.errors) == (0, 1, 0)
    await settled(app)
    order = await order_of(app, session_id)
    assert order.status is OrderStatus.FAILED
    assert app.db is not None
    assert await stock.available(app.db.reader, product_id) == 1
    assert (await reconcile(shop(app))).changed is False
    late = stripe_api.session_event("checkout.session.async_payment_failed", session_id)
    assert (await stripe_api.deliver(late))[0] == 200
    await settled(app)
    assert len(texts_to(telegram, BUYER_ID, "did not go through")) == 1


async def test_debits_still_being_confirmed_are_only_asked_about_once_a_run(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    old = await delayed_payment_days_ago(app, telegram, stripe_api, days=2)
    _, fresh = await checkout(app, telegram, stripe_api, BUYER_ID)
    stripe_api.pay(fresh, payment_status="unpaid")
    completed = stripe_api.session_event("checkout.session.completed", fresh)
    assert (await stripe_api.deliver(completed))[0] == 200
    await settled(app)

    report = await reconcile(shop(app))
    assert (report.changed, report.errors) == (False, 0)
    asked = stripe_api.requests_to("GET", "/v1/payment_intents/")
    old_intent = stripe_api.sessions[old]["payment_intent"]
    assert [r.path for r in asked] == [f"/v1/payment_intents/{old_intent}"]  # fresh: too soon
    assert not stripe_api.requests_to("GET", f"/v1/checkout/sessions/{old}")
    for session_id in (old, fresh):
        assert (await order_of(app, session_id)).status is OrderStatus.PROCESSING


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
                product_id=product_id,
                product_title="Game key",
                quantity=1,
                unit_amount=999,
                currency="usd",
                expires_at=expires_at,
                product_kind=ProductKind.DIGITAL_STOCK,
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


async def test_stripe_throttling_ends_the_run_and_the_next_one_catches_up(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    _, paid_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    stripe_api.pay(paid_id)
    _, lapsed_id = await checkout(app, telegram, stripe_api, OTHER_BUYER_ID)
    await make_overdue(app, lapsed_id)  # would be retrieved by itself if the run went on
    stripe_api.expire(lapsed_id)
    stripe_api.fail_next("GET", "/v1/checkout/sessions", status=429)
    calls = len(stripe_api.requests_to("GET", "/v1/checkout/sessions"))

    report = await reconcile(shop(app))

    assert (report.errors, report.seen, report.changed) == (1, 0, False)
    assert len(stripe_api.requests_to("GET", "/v1/checkout/sessions")) == calls + 1  # stopped
    assert (await order_of(app, paid_id)).status is OrderStatus.AWAITING_PAYMENT
    assert (await order_of(app, lapsed_id)).status is OrderStatus.AWAITING_PAYMENT
    report = await reconcile(shop(app))
    assert (report.errors, report.paid, report.expired) == (0, 1, 1)
    await settled(app)
    assert (await order_of(app, paid_id)).status is OrderStatus.FULFILLED
    assert (await order_of(app, lapsed_id)).status is OrderStatus.EXPIRED


async def test_a_stripe_outage_while_listing_leaves_the_rest_of_the_run_going(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0.01)  # the SDK's own retries
    _, lapsed_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    await make_overdue(app, lapsed_id)
    stripe_api.expire(lapsed_id)
    # The listing fails through all of the SDK's retries; retrieving one session then works.
    stripe_api.fail_next("GET", "/v1/checkout/sessions", times=1 + NETWORK_RETRIES, status=503)

    report = await reconcile(shop(app))

    assert (report.errors, report.expired) == (1, 1)
    assert (await order_of(app, lapsed_id)).status is OrderStatus.EXPIRED


async def test_sessions_that_are_not_ours_are_ignored(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    order = await order_of(app, session_id)
    http = stripe.AIOHTTPClient()
    client = stripe.StripeClient(
        stripe_api.api_key, base_addresses={"api": stripe_api.api_base}, http_client=http
    )
    try:  # another integration on the same account; one claiming our order from elsewhere
        others = [
            await client.v1.checkout.sessions.create_async(
                {
                    "mode": "payment",
                    "line_items": [
                        {
                            "quantity": 1,
                            "price_data": {
                                "currency": "usd",
                                "unit_amount": order.amount_total,
                                "product_data": {"name": "Elsewhere"},
                            },
                        }
                    ],
                    "success_url": "https://elsewhere.test/done",
                    "metadata": metadata,
                }
            )
            for metadata in ({}, {"order_id": str(order.id), "order_ref": "another-database"})
        ]
    finally:
        await http.close_async()  # type: ignore[no-untyped-call]
    for other in others:
        stripe_api.pay(other.id)

    report = await reconcile(shop(app))

    assert (report.seen, report.changed, report.errors) == (3, False, 0)
    assert (await order_of(app, session_id)).status is OrderStatus.AWAITING_PAYMENT
    await settled(app)
    assert not texts_to(telegram, BUYER_ID, "Your purchase")


async def test_the_job_runs_by_itself_at_start(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Paid while the shop was down and the webhook lost: the restart delivers it unasked."""
    settings = settings_for(tmp_path, telegram, stripe_api)
    app = await start_app(settings, telegram, stripe_api)
    try:
        pay_message, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    finally:
        await app.stop()
    stripe_api.pay(session_id)

    monkeypatch.setattr(reconcile_schedule, "FIRST_RUN_SECONDS", 0.2)
    app = await start_app(settings, telegram, stripe_api)
    try:
        receipt = await telegram.wait_for(
            BUYER_ID, lambda m: "Your purchase" in (m.text or ""), timeout=10
        )
        assert receipt.message_id == pay_message.message_id
        await settled(app)
        assert (await order_of(app, session_id)).status is OrderStatus.FULFILLED
    finally:
        await app.stop()


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
