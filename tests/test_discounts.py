"""What Stripe charged against what we offered: promotion codes, their receipts and sales, and
payments that do not match — never delivered, always refundable by the admin (issue 10, item 1).
Stories over the real stand-ins, with ALLOW_PROMOTION_CODES on as a merchant would set it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from storage import orders, sales
from storage.models import DeliveryKind, OrderStatus
from storage.sqlite import SqliteDatabase
from tests.admin_order_steps import admin_says, current, outbox, stripe_refunds_made, tap
from tests.conftest import ADMIN_ID, BUYER_ID
from tests.old_databases import schema_at
from tests.story import checkout, order_of, settled


def spring_code(stripe_api: FakeStripe) -> str:
    """A 25 % coupon behind the customer-facing code SPRING25, made in the Dashboard."""
    coupon = stripe_api.add_coupon(percent_off=25)
    stripe_api.add_promotion_code(coupon, "SPRING25")
    return "SPRING25"


async def test_a_25_percent_code_pays_15_of_20_and_is_delivered_with_a_true_receipt(
    promo_app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    pay_message, session_id = await checkout(
        promo_app, telegram, stripe_api, BUYER_ID, price_minor=2000
    )
    stripe_api.pay(session_id, promotion_code=spring_code(stripe_api))
    assert stripe_api.sessions[session_id]["amount_total"] == 1500
    event = stripe_api.session_event("checkout.session.completed", session_id)
    assert (await stripe_api.deliver(event))[0] == 200

    receipt = await telegram.wait_for(BUYER_ID, lambda m: "Your purchase" in (m.text or ""))
    text = receipt.text or ""
    assert receipt.message_id == pay_message.message_id
    assert "Price: $20.00" in text and "Discount: −$5.00" in text
    assert "Total paid: $15.00" in text and "files.example" in text
    await settled(promo_app)
    order = await order_of(promo_app, session_id)
    assert order.status is OrderStatus.FULFILLED
    assert (order.amount_total, order.amount_discount, order.amount_charged) == (2000, 500, 1500)
    assert order.payment_intent_id == stripe_api.sessions[session_id]["payment_intent"]
    alert = await telegram.wait_for(ADMIN_ID, lambda m: "New sale" in (m.text or ""))
    assert "discount −$5.00" in (alert.text or "") and "charged $15.00" in (alert.text or "")

    telegram.user_sends(BUYER_ID, "/orders")
    mine = await telegram.wait_for(BUYER_ID, lambda m: "Your orders" in (m.text or ""))
    assert "$15.00" in (mine.text or "") and "$20.00" not in (mine.text or "")

    # /sales reports what came in, net of the discount.
    sales = await admin_says(telegram, "/sales", lambda t: "revenue" in t)
    assert "revenue $15.00" in (sales.text or "") and "$20.00" not in (sales.text or "")

    # The admin refunds everything: what was charged, not the list price (Stripe would refuse
    # $20.00 of a $15.00 charge).
    confirm = await admin_says(telegram, f"/refund {order.id}", lambda t: "Refund order" in t)
    assert "Paid $15.00" in (confirm.text or "")
    await tap(telegram, confirm, "Refund $15.00", lambda t: "Refunded $15.00" in t)
    refunded = await current(promo_app, order.id)
    assert (refunded.status, refunded.amount_refunded) == (OrderStatus.REFUNDED, 1500)
    sales = await admin_says(telegram, "/sales", lambda t: "revenue" in t)
    assert "revenue $15.00 · refunds $15.00 · net $0.00" in (sales.text or "")


async def test_a_payment_that_does_not_match_is_not_delivered_but_stays_refundable(
    promo_app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """Stripe's figures do not add up to what we offered (subtotal $9.99, charged $1.00 with no
    discount to explain it): nothing is delivered, the admins are told how to refund, and
    /refund gives back exactly what was charged through the stored PaymentIntent."""
    pay_message, session_id = await checkout(
        promo_app, telegram, stripe_api, BUYER_ID, price_minor=999
    )
    stripe_api.pay(session_id)
    event = stripe_api.session_event("checkout.session.completed", session_id)
    event["data"]["object"]["amount_total"] = 100
    assert (await stripe_api.deliver(event))[0] == 200

    alert = await telegram.wait_for(ADMIN_ID, lambda m: "needs attention" in (m.text or ""))
    order = await order_of(promo_app, session_id)
    assert f"/refund {order.id}" in (alert.text or "")
    assert order.status is OrderStatus.FAILED
    assert order.payment_intent_id == stripe_api.sessions[session_id]["payment_intent"]
    assert (order.amount_charged, order.refundable_amount) == (100, 100)
    assert not [m for m in telegram.messages(BUYER_ID) if "files.example" in (m.text or "")]
    held = await telegram.wait_for(BUYER_ID, lambda m: "needs a check" in (m.text or ""))
    assert "don't pay again" in (held.text or "")
    await settled(promo_app)  # the order message no longer offers to pay, nor shows goods
    assert not [b for b in pay_message.buttons() if b.get("url")]
    assert "Payment received" in (pay_message.text or "")

    confirm = await admin_says(telegram, f"/refund {order.id}", lambda t: "Refund order" in t)
    assert "Not delivered" in (confirm.text or "")
    await tap(telegram, confirm, "Refund $1.00", lambda t: "Refunded $1.00" in t)
    assert stripe_refunds_made(stripe_api) == 1
    refunded = await current(promo_app, order.id)
    assert (refunded.status, refunded.amount_refunded) == (OrderStatus.REFUNDED, 100)
    await settled(promo_app)
    notices = await outbox(promo_app, order.id, DeliveryKind.REFUND_NOTICE)
    assert [n.detail for n in notices] == ["fully refunded"]
    # Refunded, it was never delivered: the edited order message says so and carries no goods.
    assert not [m for m in telegram.messages(BUYER_ID) if "files.example" in (m.text or "")]
    assert "Refunded in full" in (pay_message.text or "") and not pay_message.buttons()
    again = await admin_says(telegram, f"/refund {order.id}", lambda t: bool(t))
    assert "only paid orders refund" in (again.text or "")
    assert stripe_refunds_made(stripe_api) == 1


@pytest.mark.parametrize(
    ("change", "alert_says"),
    [
        ({"amount_subtotal": 1000, "amount_total": 750}, "subtotal of $10.00"),
        ({"amount_total": 1400}, "does not explain it"),  # $5.00 off $20.00 is $15.00
        ({"total_details": {"amount_discount": 2500}}, "does not explain it"),
    ],
)
async def test_a_discount_that_does_not_explain_the_charge_is_a_mismatch(
    promo_app: ShopApp,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    change: dict[str, object],
    alert_says: str,
) -> None:
    _, session_id = await checkout(promo_app, telegram, stripe_api, BUYER_ID, price_minor=2000)
    stripe_api.pay(session_id, promotion_code=spring_code(stripe_api))
    event = stripe_api.session_event("checkout.session.completed", session_id)
    obj = event["data"]["object"]
    for key, value in change.items():
        obj[key] = {**obj[key], **value} if isinstance(value, dict) else value
    assert (await stripe_api.deliver(event))[0] == 200
    alert = await telegram.wait_for(ADMIN_ID, lambda m: "needs attention" in (m.text or ""))
    assert alert_says in (alert.text or "")
    order = await order_of(promo_app, session_id)
    assert order.status is OrderStatus.FAILED and order.refundable_amount > 0


def database_at_migration_0004(path: Path) -> None:
    """A shop's file as the release before discounts left it: one order paid $20.00, one that
    never got paid, in sales since then."""
    with sqlite3.connect(path) as db:
        schema_at(db, 4)
        db.execute(
            "INSERT INTO products (id, title, price_minor, currency, created_at, updated_at)"
            " VALUES (1, 'Ebook', 2000, 'usd', 0, 0)"
        )
        for order_id, status, paid_at in [(1, "fulfilled", 86_400), (2, "expired", None)]:
            db.execute(
                "INSERT INTO orders (id, ref, buyer_user_id, buyer_chat_id, product_id,"
                " product_title, quantity, unit_amount, amount_total, currency, status,"
                " expires_at, payment_intent_id, created_at, updated_at, paid_at)"
                " VALUES (?, ?, 7, 7, 1, 'Ebook', 1, 2000, 2000, 'usd', ?, 0, ?, 0, 0, ?)",
                (order_id, f"ref{order_id}", status, f"pi_{order_id}", paid_at),
            )


@pytest.mark.sqlite_file
async def test_orders_paid_before_discounts_keep_their_sales_and_stay_refundable(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shop.db"
    database_at_migration_0004(path)
    db = await SqliteDatabase.open(path)
    try:
        paid, unpaid = await orders.get_many(db.reader, [1, 2])
        assert (paid.amount_charged, paid.amount_discount, paid.refundable_amount) == (
            2000,
            0,
            2000,
        )
        assert (unpaid.amount_charged, unpaid.refundable_amount) == (None, 0)
        [usd] = await sales.totals(db.reader, since=0)
        assert (usd.orders, usd.revenue) == (1, 2000)
        async with db.transaction() as tx:  # the triggers count a discount from now on
            await orders.update(tx, paid.id, amount_discount=500)
        [usd] = await sales.totals(db.reader, since=0)
        assert (usd.orders, usd.revenue) == (1, 1500)
        [day] = await sales.totals(db.reader, since=86_400)
        assert day.revenue == 1500
    finally:
        await db.close()
