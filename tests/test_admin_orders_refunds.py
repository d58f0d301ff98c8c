"""Admin order stories: /refund and the detail's refund buttons, refunds made in the Stripe
Dashboard, each counted once however often it is tapped or announced."""

from __future__ import annotations

import asyncio

import stripe

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from storage.models import DeliveryKind, OrderStatus
from storage.sql import fetch_one
from tests.admin_order_steps import (
    admin_says,
    current,
    outbox,
    paid_order,
    stripe_refunds_made,
    tap,
    unpaid_order,
    until,
)
from tests.conftest import ADMIN_ID, BUYER_ID, OTHER_BUYER_ID
from tests.story import applied

# --- refunds -------------------------------------------------------------------------------


async def test_partial_then_full_refund_each_once_despite_double_taps(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    order = await paid_order(app, telegram, stripe_api, BUYER_ID, price_minor=1000, title="Kit")
    assert order.amount_total == 1000

    confirm = await admin_says(telegram, f"/refund {order.id} 2.50", lambda t: "Refund order" in t)
    assert "$2.50" in (confirm.text or "") and "Paid $10.00" in (confirm.text or "")
    data = confirm.button("Refund $2.50")["callback_data"]
    telegram.user_taps(ADMIN_ID, confirm, data)
    telegram.user_taps(ADMIN_ID, confirm, data)  # the double tap, before the first is handled
    await telegram.wait_for(
        ADMIN_ID, lambda m: m.message_id == confirm.message_id and "Refunded" in (m.text or "")
    )
    result = next(m for m in telegram.messages(ADMIN_ID) if m.message_id == confirm.message_id)
    assert f"Refunded $2.50 of order #{order.id}" in (result.text or "")
    assert "partially refunded" in (result.text or "") and not result.buttons()
    await until(lambda: len(telegram.answered_callbacks) >= 2)
    assert stripe_refunds_made(stripe_api) == 1
    partial = await current(app, order.id)
    assert (partial.status, partial.amount_refunded) == (OrderStatus.PARTIALLY_REFUNDED, 250)

    # A forged tap on the used confirmation refunds nothing more.
    telegram.user_taps(ADMIN_ID, confirm, data, check_keyboard=False)
    await asyncio.sleep(0.3)
    assert stripe_refunds_made(stripe_api) == 1

    confirm = await admin_says(telegram, f"/refund {order.id}", lambda t: "Refund order" in t)
    await tap(telegram, confirm, "Refund $7.50", lambda t: "Refunded $7.50" in t)
    assert stripe_refunds_made(stripe_api) == 2
    full = await current(app, order.id)
    assert (full.status, full.amount_refunded) == (OrderStatus.REFUNDED, 1000)
    notices = await outbox(app, order.id, DeliveryKind.REFUND_NOTICE)
    assert sorted(n.dedupe_key for n in notices) == [
        f"refund:{order.id}:1000",
        f"refund:{order.id}:250",
    ]

    refused = await admin_says(telegram, f"/refund {order.id}", lambda t: bool(t))
    assert "only paid orders refund" in (refused.text or "")
    assert stripe_refunds_made(stripe_api) == 2


async def test_refund_then_its_webhook_is_counted_once(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    order = await paid_order(app, telegram, stripe_api, BUYER_ID, price_minor=1500)
    confirm = await admin_says(telegram, f"/refund {order.id}", lambda t: "Refund order" in t)
    await tap(telegram, confirm, "Refund $15.00", lambda t: "Refunded $15.00" in t)
    assert order.payment_intent_id is not None
    event = stripe_api.refund_event(order.payment_intent_id)
    assert (await stripe_api.deliver(event))[0] == 200
    assert (await stripe_api.deliver(event))[0] == 200
    await applied(app)
    after = await current(app, order.id)
    assert (after.status, after.amount_refunded) == (OrderStatus.REFUNDED, 1500)
    assert len(await outbox(app, order.id, DeliveryKind.REFUND_NOTICE)) == 1
    assert app.db is not None
    row = await fetch_one(
        app.db.reader, "SELECT COUNT(*), SUM(amount) FROM refunds WHERE order_id = ?", (order.id,)
    )
    assert row is not None and tuple(row) == (1, 1500)


async def test_dashboard_refund_arrives_by_webhook_and_applies_once(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    order = await paid_order(app, telegram, stripe_api, BUYER_ID, price_minor=2000)
    assert order.payment_intent_id is not None
    http = stripe.AIOHTTPClient()
    dashboard = stripe.StripeClient(
        stripe_api.api_key, base_addresses={"api": stripe_api.api_base}, http_client=http
    )
    try:
        await dashboard.v1.refunds.create_async(
            {"payment_intent": order.payment_intent_id, "amount": 700}
        )
        event = stripe_api.refund_event(order.payment_intent_id)
        assert (await stripe_api.deliver(event))[0] == 200
        await applied(app)
        partial = await current(app, order.id)
        assert (partial.status, partial.amount_refunded) == (OrderStatus.PARTIALLY_REFUNDED, 700)
        assert (await stripe_api.deliver(event))[0] == 200
        await applied(app)
        assert await current(app, order.id) == partial
        assert len(await outbox(app, order.id, DeliveryKind.REFUND_NOTICE)) == 1

        await dashboard.v1.refunds.create_async({"payment_intent": order.payment_intent_id})
        assert (await stripe_api.deliver(stripe_api.refund_event(order.payment_intent_id)))[
            0
        ] == 200
    finally:
        await http.close_async()  # type: ignore[no-untyped-call]
    await applied(app)
    full = await current(app, order.id)
    assert (full.status, full.amount_refunded) == (OrderStatus.REFUNDED, 2000)
    assert len(await outbox(app, order.id, DeliveryKind.REFUND_NOTICE)) == 2
    # The admin's view agrees, and offers no more refunds.
    listing = await admin_says(telegram, "/orders", lambda t: "Orders" in t)
    detail = await tap(telegram, listing, f"#{order.id}", lambda t: f"Order #{order.id}" in t)
    assert "↩️ refunded" in (detail.text or "") and "refunded: $20.00" in (detail.text or "")
    assert not [b for b in detail.buttons() if "Refund" in b["text"]]


async def test_refund_is_refused_politely_and_cancel_refunds_nothing(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    order = await paid_order(app, telegram, stripe_api, BUYER_ID, price_minor=2000)
    unpaid, _ = await unpaid_order(app, telegram, stripe_api, OTHER_BUYER_ID)
    for command, answer in [
        ("/refund", "Usage"),
        ("/refund abc", "Usage"),
        ("/refund 99999", "There is no order #99999"),
        (f"/refund {unpaid.id}", "only paid orders refund"),
        (f"/refund {order.id} lots", "not an amount I can read"),
        (f"/refund {order.id} 5.001", "more decimals than USD allows (2)"),
        (f"/refund {order.id} 0", "more than zero"),
        (f"/refund {order.id} 25", "only $20.00 left to refund"),
        (f"/refund {order.id} 5 EUR", "write the amount in USD"),
    ]:
        reply = await admin_says(telegram, command, lambda t: bool(t))
        assert answer in (reply.text or ""), (command, reply.text)

    confirm = await admin_says(
        telegram, f"/refund {order.id} $5 usd", lambda t: "Refund order" in t
    )
    data = confirm.button("Refund $5.00")["callback_data"]
    await tap(telegram, confirm, "Cancel", lambda t: "cancelled; nothing was refunded" in t)
    telegram.user_taps(ADMIN_ID, confirm, data, check_keyboard=False)
    await asyncio.sleep(0.3)
    assert stripe_refunds_made(stripe_api) == 0
    assert (await current(app, order.id)).amount_refunded == 0

    # The detail's Refund… asks for everything left, through the same confirmation.
    listing = await admin_says(telegram, "/orders", lambda t: "Orders" in t)
    detail = await tap(telegram, listing, f"#{order.id}", lambda t: f"Order #{order.id}" in t)
    confirm = await tap(telegram, detail, "Refund…", lambda t: "Refund order" in t)
    await tap(telegram, confirm, "Refund $20.00", lambda t: "Refunded $20.00" in t)
    assert (await current(app, order.id)).status is OrderStatus.REFUNDED


async def test_a_stripe_error_is_told_to_the_admin(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    order = await paid_order(app, telegram, stripe_api, BUYER_ID, price_minor=2000)
    assert order.payment_intent_id is not None
    charge = stripe_api.charges[
        stripe_api.payment_intents[order.payment_intent_id]["latest_charge"]
    ]
    confirm = await admin_says(telegram, f"/refund {order.id}", lambda t: "Refund order" in t)
    charge["amount_refunded"] = 1500  # refunded elsewhere meanwhile, and the webhook is late
    result = await tap(telegram, confirm, "Refund $20.00", lambda t: "Stripe did not refund" in t)
    assert not result.buttons()
    assert (await current(app, order.id)).amount_refunded == 0
