"""Each product kind fulfilled its own way: unique stock items, shipping, service notes."""

from __future__ import annotations

import asyncio

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from storage import orders, products, stock
from storage.models import OrderStatus, ProductKind
from tests.conftest import ADMIN_ID, BUYER_ID
from tests.story import (
    add_product,
    applied,
    buy,
    open_card,
    order_of,
    pay_and_notify,
    refund_in_dashboard,
    session_of,
    settled,
    tap_answer,
)

BUYERS = [BUYER_ID + n for n in range(4)]


async def _stock_product(app: ShopApp, keys: list[str]) -> int:
    product_id = await add_product(
        app,
        title="Game key",
        kind=ProductKind.DIGITAL_STOCK,
        delivery_text="Redeem it in the launcher.",
    )
    assert app.db is not None
    async with app.db.transaction() as tx:
        await stock.add_items(tx, product_id, keys)
    return product_id


async def test_three_keys_three_buyers_then_sold_out(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    product_id = await _stock_product(app, ["KEY-A", "KEY-B", "KEY-C"])
    first_card = await open_card(telegram, BUYERS[0], product_id)
    assert "3 left in stock" in (first_card.text or "")
    received = []
    for buyer in BUYERS[:3]:
        pay_message = await buy(telegram, buyer, await open_card(telegram, buyer, product_id))
        assert await pay_and_notify(stripe_api, session_of(stripe_api, pay_message)) == 200
        receipt = await telegram.wait_for(buyer, lambda m: "Paid — order" in (m.text or ""))
        assert "Redeem it in the launcher." in (receipt.text or "")
        received += [key for key in ("KEY-A", "KEY-B", "KEY-C") if key in (receipt.text or "")]
    assert sorted(received) == ["KEY-A", "KEY-B", "KEY-C"]  # each key once, none shared

    telegram.user_sends(BUYERS[3], f"/start p_{product_id}")
    card = await telegram.wait_for(BUYERS[3], lambda m: "Sold out" in (m.text or ""))
    assert not [b for b in card.buttons() if "Buy" in b["text"]]
    # A Buy button from before the sell-out (first buyer's old card) is refused politely.
    buy_data = first_card.button("Buy")["callback_data"]
    assert "sold out" in await tap_answer(telegram, BUYERS[0], first_card, buy_data)


async def test_two_buyers_race_for_the_last_key(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    product_id = await _stock_product(app, ["LAST-KEY"])
    first, second = BUYERS[0], BUYERS[1]
    first_card = await open_card(telegram, first, product_id)
    second_card = await open_card(telegram, second, product_id)
    pay_message = await buy(telegram, first, first_card)
    buy_data = second_card.button("Buy")["callback_data"]
    assert "sold out" in await tap_answer(telegram, second, second_card, buy_data)
    assert len(stripe_api.sessions) == 1  # the second buyer never got a session

    # The first buyer lets the link expire: the key goes back and the second can buy it.
    session_id = session_of(stripe_api, pay_message)
    stripe_api.expire(session_id)
    event = stripe_api.session_event("checkout.session.expired", session_id)
    assert (await stripe_api.deliver(event))[0] == 200
    await applied(app)
    assert (await order_of(app, session_id)).status is OrderStatus.EXPIRED
    assert app.db is not None
    assert await stock.available(app.db.reader, product_id) == 1
    second_pay = await buy(telegram, second, await open_card(telegram, second, product_id))
    assert await pay_and_notify(stripe_api, session_of(stripe_api, second_pay)) == 200
    receipt = await telegram.wait_for(second, lambda m: "LAST-KEY" in (m.text or ""))
    assert receipt.message_id == second_pay.message_id


async def test_stripe_failure_releases_the_reserved_key(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    product_id = await _stock_product(app, ["ONLY-KEY"])
    assert app.db is not None
    async with app.db.transaction() as tx:  # under Stripe's minimum: Stripe refuses it
        await products.update(tx, product_id, price_minor=10)
    card = await open_card(telegram, BUYER_ID, product_id)
    telegram.user_taps(BUYER_ID, card, card.button("Buy")["callback_data"])
    await telegram.wait_for(BUYER_ID, lambda m: "couldn't start the payment" in (m.text or ""))
    assert app.db is not None
    assert await stock.available(app.db.reader, product_id) == 1


async def test_physical_order_address_reaches_the_admin(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    product_id = await add_product(
        app, title="Mug", kind=ProductKind.PHYSICAL, delivery_text="Hand-made, allow 3 days."
    )
    pay_message = await buy(telegram, BUYER_ID, await open_card(telegram, BUYER_ID, product_id))
    session_id = session_of(stripe_api, pay_message)
    create = stripe_api.requests_to("POST", "/v1/checkout/sessions")[0]
    assert create.params["shipping_address_collection"]["allowed_countries"] == [
        "US",
        "CA",
        "GB",
        "DE",
        "FR",
    ]
    stripe_api.pay(
        session_id,
        shipping={
            "name": "Ada <Lovelace>",
            "address": {
                "line1": "12 Byron St",
                "city": "London",
                "postal_code": "N1",
                "country": "GB",
            },
        },
    )
    event = stripe_api.session_event("checkout.session.completed", session_id)
    assert (await stripe_api.deliver(event))[0] == 200
    alert = await telegram.wait_for(ADMIN_ID, lambda m: "Ship to" in (m.text or ""))
    assert "Ada <Lovelace>" in (alert.text or "") and "12 Byron St" in (alert.text or "")
    receipt = await telegram.wait_for(BUYER_ID, lambda m: "We'll ship it to" in (m.text or ""))
    assert "N1 London" in (receipt.text or "") and "allow 3 days" in (receipt.text or "")
    await settled(app)
    order = await order_of(app, session_id)
    assert order.shipping_address is not None and "GB" in order.shipping_address


async def test_service_order_gets_confirmation_and_note(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    product_id = await add_product(
        app, title="Consultation", kind=ProductKind.SERVICE, delivery_text="I'll DM you a slot."
    )
    pay_message = await buy(telegram, BUYER_ID, await open_card(telegram, BUYER_ID, product_id))
    assert await pay_and_notify(stripe_api, session_of(stripe_api, pay_message)) == 200
    receipt = await telegram.wait_for(BUYER_ID, lambda m: "confirmed" in (m.text or ""))
    assert "I'll DM you a slot." in (receipt.text or "")


async def test_dashboard_refund_event_applies_once_and_tells_the_buyer(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    product_id = await add_product(app, price_minor=2000)
    pay_message = await buy(telegram, BUYER_ID, await open_card(telegram, BUYER_ID, product_id))
    session_id = session_of(stripe_api, pay_message)
    assert await pay_and_notify(stripe_api, session_id) == 200
    await settled(app)
    order = await order_of(app, session_id)
    assert order.payment_intent_id is not None
    # The merchant refunds €5 in the Dashboard, then the rest.
    await refund_in_dashboard(stripe_api, order.payment_intent_id, 500)
    partial = stripe_api.refund_event(order.payment_intent_id)
    for _ in range(2):
        assert (await stripe_api.deliver(partial))[0] == 200
    await settled(app)
    assert (await order_of(app, session_id)).status is OrderStatus.PARTIALLY_REFUNDED
    await refund_in_dashboard(stripe_api, order.payment_intent_id)
    full = stripe_api.refund_event(order.payment_intent_id)
    answers = await asyncio.gather(stripe_api.deliver(full), stripe_api.deliver(partial))
    assert [status for status, _ in answers] == [200, 200]
    await settled(app)
    refunded = await order_of(app, session_id)
    assert refunded.status is OrderStatus.REFUNDED and refunded.amount_refunded == 2000
    notices = [m.text or "" for m in telegram.messages(BUYER_ID) if "↩️" in (m.text or "")]
    assert len(notices) == 2
    assert "refunded $5.00" in notices[0] and "fully refunded" in notices[1]
    assert "was refunded $5.00 of $20.00." in notices[0]  # item 27: out of what was paid
    assert app.db is not None
    assert (await orders.get(app.db.reader, order.id)) == refunded
