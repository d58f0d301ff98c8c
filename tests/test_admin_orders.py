"""Admin order stories: /orders across buyers, the detail and its actions, /ship and /refund,
refunds made in the Stripe Dashboard, and non-admins seeing none of it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import stripe

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeMessage, FakeTelegram, parse_html, utf16_len
from storage import deliveries, orders
from storage.models import Delivery, DeliveryKind, Order, OrderStatus, ProductKind
from tests.conftest import ADMIN_ID, BUYER_ID, OTHER_BUYER_ID
from tests.story import add_product, buy, order_of, session_of, settled

SHIPPING = {
    "name": "Ada <Lovelace> & Co",
    "address": {
        "line1": "1 Main St",
        "city": "Springfield",
        "postal_code": "12345",
        "country": "US",
    },
}

# --- story steps ---------------------------------------------------------------------------


async def open_card_as(
    telegram: FakeTelegram, buyer: int, product_id: int, name: str
) -> FakeMessage:
    """The buyer (called `name`) follows the product's deep link; their newest card."""
    after = _last_id(telegram, buyer)
    telegram.user_sends(buyer, f"/start p_{product_id}", first_name=name)
    return await telegram.wait_for(
        buyer,
        lambda m: m.message_id > after and any("Buy" in b["text"] for b in m.buttons()),
    )


async def unpaid_order(
    app: ShopApp,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    buyer: int,
    *,
    name: str = "Buyer",
    **product: Any,
) -> tuple[Order, str]:
    """A new product bought by `buyer` up to the Pay button: (order, session id)."""
    product_id = await add_product(app, **product)
    pay_message = await buy(telegram, buyer, await open_card_as(telegram, buyer, product_id, name))
    session_id = session_of(stripe_api, pay_message)
    return await order_of(app, session_id), session_id


async def paid_order(
    app: ShopApp,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    buyer: int,
    *,
    name: str = "Buyer",
    shipping: dict[str, Any] | None = None,
    **product: Any,
) -> Order:
    """A new product bought and paid by `buyer`, its goods delivered (outbox settled)."""
    _, session_id = await unpaid_order(app, telegram, stripe_api, buyer, name=name, **product)
    stripe_api.pay(session_id, shipping=shipping)
    event = stripe_api.session_event("checkout.session.completed", session_id)
    assert (await stripe_api.deliver(event))[0] == 200
    await settled(app)
    return await order_of(app, session_id)


def _last_id(telegram: FakeTelegram, chat_id: int) -> int:
    messages = telegram.messages(chat_id)
    return messages[-1].message_id if messages else 0


async def admin_says(
    telegram: FakeTelegram, text: str, expect: Callable[[str], bool]
) -> FakeMessage:
    """The admin sends `text`; the bot's first new message whose text passes `expect`."""
    after = _last_id(telegram, ADMIN_ID)
    telegram.user_sends(ADMIN_ID, text, first_name="Admin")
    return await telegram.wait_for(
        ADMIN_ID, lambda m: m.message_id > after and expect(m.text or "")
    )


async def tap(
    telegram: FakeTelegram, message: FakeMessage, button: str, expect: Callable[[str], bool]
) -> FakeMessage:
    """The admin taps a button; the message, edited or new, whose text then passes `expect`."""
    before = {m.message_id: m.edits for m in telegram.messages(ADMIN_ID)}
    telegram.user_taps(ADMIN_ID, message, message.button(button)["callback_data"])

    def changed(m: FakeMessage) -> bool:
        fresh = m.message_id not in before or m.edits > before[m.message_id]
        return fresh and expect(m.text or "")

    return await telegram.wait_for(ADMIN_ID, changed)


async def current(app: ShopApp, order_id: int) -> Order:
    assert app.db is not None
    order = await orders.get(app.db.reader, order_id)
    assert order is not None
    return order


async def outbox(app: ShopApp, order_id: int, kind: DeliveryKind) -> list[Delivery]:
    assert app.db is not None
    return [d for d in await deliveries.for_order(app.db.reader, order_id) if d.kind is kind]


async def buyer_told_shipped(
    telegram: FakeTelegram, buyer: int, order_id: int, tracking: str | None
) -> FakeMessage:
    """The buyer's "your order is on its way" message, rendered by bot/delivery.py from the
    SHIPPED_NOTICE row that /ship and Mark shipped owe the buyer."""

    def told(message: FakeMessage) -> bool:
        text = (message.text or "").lower()
        about_shipping = "on its way" in text or "shipped" in text
        with_tracking = tracking is None or tracking.lower() in text
        return about_shipping and f"#{order_id}" in text and with_tracking

    return await telegram.wait_for(buyer, told)


def goods_copies(telegram: FakeTelegram, goods: str) -> int:
    return len([m for m in telegram.messages(BUYER_ID) if goods in (m.text or "")])


def stripe_refunds_made(stripe_api: FakeStripe) -> int:
    """Refund requests that reached Stripe (an idempotent replay counts too)."""
    return len(stripe_api.requests_to("POST", "/v1/refunds"))


async def until(predicate: Callable[[], bool]) -> None:
    """Wait up to five seconds for `predicate` to hold."""
    for _ in range(100):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


# --- /orders -------------------------------------------------------------------------------


async def test_admin_orders_lists_every_buyer_filters_and_opens_detail(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    paid = await paid_order(
        app, telegram, stripe_api, BUYER_ID, name="Zoë <b>&", title="Lamp", delivery_text="KEY-A"
    )
    waiting, _ = await unpaid_order(
        app, telegram, stripe_api, OTHER_BUYER_ID, name="Bob", title="Chair", price_minor=2500
    )

    listing = await admin_says(telegram, "/orders", lambda t: "Orders" in t)
    text = listing.text or ""
    assert f"#{paid.id} · Lamp × 1 · $9.99 · ✅ delivered · Zoë <b>&" in text
    assert f"#{waiting.id} · Chair × 1 · $25.00 · 🕒 awaiting payment · Bob" in text

    awaiting = await tap(telegram, listing, "Awaiting", lambda t: "Awaiting payment" in t)
    assert f"#{waiting.id}" in (awaiting.text or "") and f"#{paid.id} " not in (awaiting.text or "")
    paid_only = await tap(telegram, awaiting, "Paid", lambda t: "Orders · Paid" in t)
    assert f"#{paid.id}" in (paid_only.text or "") and "Chair" not in (paid_only.text or "")
    failed = await tap(telegram, paid_only, "Failed", lambda t: "Failed/expired" in t)
    assert "No orders here yet" in (failed.text or "")

    everything = await tap(telegram, failed, "All", lambda t: "Orders · All" in t)
    detail = await tap(telegram, everything, f"#{paid.id}", lambda t: f"Order #{paid.id}" in t)
    body = detail.text or ""
    assert paid.checkout_session_id and paid.checkout_session_id in body
    assert paid.payment_intent_id and paid.payment_intent_id in body
    assert f"Buyer: Zoë <b>& (id {BUYER_ID})" in body
    assert "goods sent" in body and "refunded: $0.00" in body
    assert {b["text"] for b in detail.buttons()} >= {"📨 Resend goods", "↩️ Refund…"}
    assert not [b for b in detail.buttons() if "shipped" in b["text"]]  # digital goods

    copies = goods_copies(telegram, "KEY-A")
    telegram.user_taps(ADMIN_ID, detail, detail.button("Resend")["callback_data"])
    await until(lambda: goods_copies(telegram, "KEY-A") == copies + 1)
    await settled(app)
    assert goods_copies(telegram, "KEY-A") == copies + 1
    assert [d.status for d in await outbox(app, paid.id, DeliveryKind.RESEND)] == ["sent"]

    back = await tap(telegram, detail, "Orders", lambda t: "Orders · All" in t)
    assert f"#{waiting.id}" in (back.text or "")


async def test_admin_orders_pages_eight_at_a_time(app: ShopApp, telegram: FakeTelegram) -> None:
    assert app.db is not None
    product_id = await add_product(app, title="Sticker")
    async with app.db.transaction() as tx:
        for n in range(10):
            await orders.create(
                tx,
                buyer_user_id=BUYER_ID + n,
                buyer_chat_id=BUYER_ID + n,
                buyer_name=f"Buyer {n}",
                product_id=product_id,
                product_title="Sticker",
                quantity=1,
                unit_amount=100,
                currency="usd",
                expires_at=2_000_000_000,
            )
    first = await admin_says(telegram, "/orders", lambda t: "Orders" in t)
    assert "page 1 of 2 (10 orders)" in (first.text or "")
    assert (first.text or "").count("Sticker × 1") == 8
    second = await tap(telegram, first, "Next", lambda t: "page 2 of 2" in t)
    assert (second.text or "").count("Sticker × 1") == 2
    assert "Buyer 0" in (second.text or "") and "Buyer 9" not in (second.text or "")


# --- shipping ------------------------------------------------------------------------------


async def test_ship_command_marks_a_paid_physical_order_and_tells_the_buyer(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    digital = await paid_order(app, telegram, stripe_api, BUYER_ID)
    unpaid, _ = await unpaid_order(
        app, telegram, stripe_api, OTHER_BUYER_ID, kind=ProductKind.PHYSICAL
    )
    order = await paid_order(
        app,
        telegram,
        stripe_api,
        BUYER_ID,
        title="Mug",
        kind=ProductKind.PHYSICAL,
        shipping=SHIPPING,
    )
    assert order.shipping_address is not None and "1 Main St" in order.shipping_address

    for command, answer in [
        ("/ship", "To ship (1)"),  # item 24: a bare /ship lists the orders to ship
        ("/ship abc", "Usage"),
        ("/ship 99999", "There is no order #99999"),
        (f"/ship {digital.id}", "not a physical product"),
        (f"/ship {unpaid.id}", "only paid orders ship"),
    ]:
        reply = await admin_says(telegram, command, lambda t: bool(t))
        assert answer in (reply.text or ""), (command, reply.text)

    done = await admin_says(telegram, f"/ship #{order.id} 1Z999AA1", lambda t: "shipped" in t)
    assert f"Order #{order.id} marked shipped with tracking 1Z999AA1" in (done.text or "")
    shipped = await current(app, order.id)
    assert shipped.shipped_at is not None and shipped.tracking == "1Z999AA1"
    notices = await outbox(app, order.id, DeliveryKind.SHIPPED_NOTICE)
    assert [(n.dedupe_key, n.chat_id) for n in notices] == [(f"shipped:{order.id}", BUYER_ID)]

    again = await admin_says(telegram, f"/ship {order.id}", lambda t: "already" in t)
    assert "already marked shipped" in (again.text or "") and "1Z999AA1" in (again.text or "")
    assert (await current(app, order.id)).tracking == "1Z999AA1"
    assert len(await outbox(app, order.id, DeliveryKind.SHIPPED_NOTICE)) == 1
    # Item 24: /ship with a new tracking number on a shipped order corrects it (see
    # tests/test_shipping.py); the same number again changes nothing.
    same = await admin_says(telegram, f"/ship {order.id} 1Z999AA1", lambda t: "already" in t)
    assert "already has tracking 1Z999AA1" in (same.text or "")

    listing = await admin_says(telegram, "/orders", lambda t: "Orders" in t)
    detail = await tap(telegram, listing, f"#{order.id}", lambda t: f"Order #{order.id}" in t)
    assert "Ada <Lovelace> & Co\n1 Main St\n12345 Springfield\nUS" in (detail.text or "")
    assert "tracking 1Z999AA1" in (detail.text or "")
    assert not [b for b in detail.buttons() if "shipped" in b["text"]]

    await buyer_told_shipped(telegram, BUYER_ID, order.id, "1Z999AA1")


async def test_mark_shipped_button_asks_for_tracking_or_none(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    first = await paid_order(
        app, telegram, stripe_api, BUYER_ID, kind=ProductKind.PHYSICAL, shipping=SHIPPING
    )
    second = await paid_order(
        app, telegram, stripe_api, OTHER_BUYER_ID, kind=ProductKind.PHYSICAL, shipping=SHIPPING
    )

    listing = await admin_says(telegram, "/orders", lambda t: "Orders" in t)
    detail = await tap(telegram, listing, f"#{first.id}", lambda t: f"Order #{first.id}" in t)
    assert "Not shipped yet" in (detail.text or "")
    asked_first = await tap(telegram, detail, "Mark shipped", lambda t: "Send the tracking" in t)
    assert f"Shipping order #{first.id}" in (asked_first.text or "")
    assert "Ada <Lovelace> & Co\n1 Main St" in (asked_first.text or "")

    # The admin turns to the second order instead, then cancels the first question.
    listing = await admin_says(telegram, "/orders", lambda t: "Orders" in t)
    detail = await tap(telegram, listing, f"#{second.id}", lambda t: f"Order #{second.id}" in t)
    asked_second = await tap(telegram, detail, "Mark shipped", lambda t: "Send the tracking" in t)
    await tap(telegram, asked_first, "Cancel", lambda t: t == "Not marked shipped.")
    done = await admin_says(telegram, "  TRK-42  ", lambda t: "marked shipped" in t)
    assert f"Order #{second.id} marked shipped with tracking TRK-42" in (done.text or "")
    assert (await current(app, second.id)).tracking == "TRK-42"
    assert (await current(app, first.id)).shipped_at is None
    await until(lambda: not buttons_of(telegram, asked_second))

    listing = await admin_says(telegram, "/orders", lambda t: "Orders" in t)
    detail = await tap(telegram, listing, f"#{first.id}", lambda t: f"Order #{first.id}" in t)
    asked = await tap(telegram, detail, "Mark shipped", lambda t: "Send the tracking" in t)
    await tap(telegram, asked, "No tracking", lambda t: f"Order #{first.id} marked shipped." in t)
    shipped = await current(app, first.id)
    assert shipped.shipped_at is not None and shipped.tracking is None

    # The question is over: later text is not taken for a tracking number.
    telegram.user_sends(ADMIN_ID, "hello there", first_name="Admin")
    await asyncio.sleep(0.3)
    assert (await current(app, first.id)).tracking is None
    assert (await current(app, second.id)).tracking == "TRK-42"
    for order in (first, second):
        assert len(await outbox(app, order.id, DeliveryKind.SHIPPED_NOTICE)) == 1
    await buyer_told_shipped(telegram, OTHER_BUYER_ID, second.id, "TRK-42")
    await buyer_told_shipped(telegram, BUYER_ID, first.id, None)


def buttons_of(telegram: FakeTelegram, message: FakeMessage) -> list[Any]:
    return next(
        m for m in telegram.messages(ADMIN_ID) if m.message_id == message.message_id
    ).buttons()


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
    after = await current(app, order.id)
    assert (after.status, after.amount_refunded) == (OrderStatus.REFUNDED, 1500)
    assert len(await outbox(app, order.id, DeliveryKind.REFUND_NOTICE)) == 1
    assert app.db is not None
    async with app.db.reader.execute(
        "SELECT COUNT(*), SUM(amount) FROM refunds WHERE order_id = ?", (order.id,)
    ) as cursor:
        row = await cursor.fetchone()
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
        partial = await current(app, order.id)
        assert (partial.status, partial.amount_refunded) == (OrderStatus.PARTIALLY_REFUNDED, 700)
        assert (await stripe_api.deliver(event))[0] == 200
        assert await current(app, order.id) == partial
        assert len(await outbox(app, order.id, DeliveryKind.REFUND_NOTICE)) == 1

        await dashboard.v1.refunds.create_async({"payment_intent": order.payment_intent_id})
        assert (await stripe_api.deliver(stripe_api.refund_event(order.payment_intent_id)))[
            0
        ] == 200
    finally:
        await http.close_async()  # type: ignore[no-untyped-call]
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
        (f"/refund {order.id} 5.001", "2 decimal places"),
        (f"/refund {order.id} 0", "more than zero"),
        (f"/refund {order.id} 25", "only $20.00 left to refund"),
        (f"/refund {order.id} 5 EUR", "not an amount I can read"),
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


# --- non-admins ----------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["/ship {id} TRK", "/refund {id}", "/refund {id} 1", "/sales"])
async def test_admin_commands_are_unknown_to_buyers(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe, command: str
) -> None:
    order = await paid_order(
        app, telegram, stripe_api, OTHER_BUYER_ID, kind=ProductKind.PHYSICAL, shipping=SHIPPING
    )
    after = _last_id(telegram, BUYER_ID)
    telegram.user_sends(BUYER_ID, command.format(id=order.id))
    reply = await telegram.wait_for(BUYER_ID, lambda m: m.message_id > after)
    assert "I don't know that command" in (reply.text or "")
    await asyncio.sleep(0.2)
    assert [m.message_id for m in telegram.messages(BUYER_ID)][-1] == reply.message_id
    assert (await current(app, order.id)).shipped_at is None
    assert stripe_refunds_made(stripe_api) == 0


async def test_buyers_see_only_their_own_orders_and_forged_admin_buttons_do_nothing(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    theirs = await paid_order(
        app, telegram, stripe_api, OTHER_BUYER_ID, name="Other", title="Secret thing",
        kind=ProductKind.PHYSICAL, shipping=SHIPPING, delivery_text="SECRET-KEY",
    )  # fmt: skip
    mine = await paid_order(app, telegram, stripe_api, BUYER_ID, title="My ebook")

    after = _last_id(telegram, BUYER_ID)
    telegram.user_sends(BUYER_ID, "/orders")
    listing = await telegram.wait_for(
        BUYER_ID, lambda m: m.message_id > after and "Your orders" in (m.text or "")
    )
    assert f"#{mine.id}" in (listing.text or "")
    assert f"#{theirs.id}" not in (listing.text or "") and "Secret" not in (listing.text or "")

    # An admin's refund confirmation is on screen; a buyer forging its button must not use it.
    confirm = await admin_says(telegram, f"/refund {theirs.id}", lambda t: "Refund order" in t)
    token_data = confirm.button("Refund")["callback_data"]
    forged = [
        "ao:l:a:0",
        f"ao:o:{theirs.id}:a:0",
        f"ao:rs:{theirs.id}",
        f"ao:sh:{theirs.id}",
        f"ao:nt:{theirs.id}",
        f"ao:rf:{theirs.id}",
        token_data,
        "as:o",
        "as:w:a",
    ]
    seen = len(telegram.messages(BUYER_ID))
    answered = len(telegram.answered_callbacks)
    for data in forged:
        on = confirm if data == token_data else listing
        telegram.user_taps(BUYER_ID, on, data, check_keyboard=False)
    await until(lambda: len(telegram.answered_callbacks) == answered + len(forged))
    await asyncio.sleep(0.3)
    answers = telegram.answered_callbacks[answered:]
    assert all("expired" in (a["text"] or "") and a["show_alert"] for a in answers), answers
    assert len(telegram.messages(BUYER_ID)) == seen
    assert all(
        m.edits == 0 for m in telegram.messages(BUYER_ID) if m.message_id == listing.message_id
    )
    assert all(
        m.edits == 0 for m in telegram.messages(ADMIN_ID) if m.message_id == confirm.message_id
    )
    assert not [m for m in telegram.messages(BUYER_ID) if "SECRET-KEY" in (m.text or "")]
    untouched = await current(app, theirs.id)
    assert untouched.shipped_at is None and untouched.amount_refunded == 0
    assert await outbox(app, theirs.id, DeliveryKind.RESEND) == []
    assert stripe_refunds_made(stripe_api) == 0

    # The admin's own confirmation still works: the forged tap did not use it up.
    await tap(telegram, confirm, "Refund", lambda t: "Refunded" in t)
    assert stripe_refunds_made(stripe_api) == 1


# --- texts ---------------------------------------------------------------------------------


def test_detail_and_list_stay_under_telegram_limits() -> None:
    from bot.admin_orders import FILTERS, detail_text, list_keyboard, list_text

    huge = Order(
        id=10**11, ref="r" * 24, buyer_user_id=10**11, buyer_chat_id=10**11,
        buyer_name="<&>" * 200, product_id=10**11, product_title="<T>" * 100, quantity=10,
        unit_amount=99_999_999, amount_total=99_999_999, currency="usd",
        status=OrderStatus.PARTIALLY_REFUNDED, checkout_session_id="cs_" + "x" * 200,
        checkout_url=None, expires_at=0, payment_intent_id="pi_" + "x" * 200, message_id=None,
        failure_reason="&" * 2000, created_at=0, updated_at=0, paid_at=0,
        product_kind=ProductKind.PHYSICAL, shipping_address="<a>" * 2000, shipped_at=0,
        tracking="x" * 100, amount_refunded=1,
    )  # fmt: skip
    failed = Delivery(
        id=1, dedupe_key="goods:1", order_id=huge.id, kind=DeliveryKind.GOODS, chat_id=1,
        status="failed", attempts=9, next_attempt_at=0, detail="", last_error="<e>" * 500,
    )  # fmt: skip
    # Telegram counts the text after its HTML is parsed, in UTF-16 code units.
    assert utf16_len(parse_html(detail_text(huge, [failed] * 50))[0]) <= 4096
    assert utf16_len(parse_html(list_text([huge] * 8, FILTERS[0], 0, 10**6, 10**9))[0]) <= 4096
    for row in list_keyboard([huge] * 8, FILTERS[4], 10**6, 10**6 + 2).inline_keyboard:
        for button in row:
            assert button.callback_data is not None
            assert len(str(button.callback_data).encode()) <= 64
