"""Steps of the buyer's story, driven through the Telegram fake as a person would."""

from __future__ import annotations

import asyncio
from typing import Any

import stripe

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from storage import deliveries, orders, products
from storage.db import fetch_one
from storage.models import DeliveryKind, Order


async def add_product(app: ShopApp, **fields: Any) -> int:
    assert app.db is not None
    values: dict[str, Any] = {
        "title": "Ebook: Async Python",
        "description": "A practical guide.",
        "price_minor": 999,
        "currency": "usd",
        "delivery_text": "Download: https://files.example/ebook.pdf",
    }
    values.update(fields)
    async with app.db.transaction() as tx:
        return await products.add(tx, **values)


async def open_card(telegram: FakeTelegram, buyer: int, product_id: int) -> FakeMessage:
    """The buyer follows a deep link to the product and sees its (new) card: the message whose
    Buy button (by card, or ⭐ for a Stars-only product) is this product's (a "Buy again" under an
    order arriving meanwhile is not it)."""
    seen = _last_id(telegram, buyer, len(telegram.messages(buyer)))
    telegram.user_sends(buyer, f"/start p_{product_id}")
    buys_it = (f"buy:{product_id}:", f"st:b:{product_id}:")
    return await telegram.wait_for(
        buyer,
        lambda m: (
            m.message_id > seen
            and any(str(b.get("callback_data", "")).startswith(buys_it) for b in m.buttons())
        ),
    )


async def buy(telegram: FakeTelegram, buyer: int, card: FakeMessage) -> FakeMessage:
    """Tap Buy on the card and wait for the order message with its Pay button."""
    before = len(telegram.messages(buyer))
    telegram.user_taps(buyer, card, card.button("Buy")["callback_data"])
    return await telegram.wait_for(
        buyer,
        lambda m: m.message_id > _last_id(telegram, buyer, before) and _has_pay_button(m),
    )


def _last_id(telegram: FakeTelegram, chat_id: int, count: int) -> int:
    messages = telegram.messages(chat_id)
    return messages[count - 1].message_id if count else 0


def _has_button(message: FakeMessage, text: str) -> bool:
    return any(b["text"] == text for b in message.buttons())


def _has_pay_button(message: FakeMessage) -> bool:
    return any(b.get("url") and b["text"].startswith("Pay") for b in message.buttons())


def session_of(stripe_api: FakeStripe, pay_message: FakeMessage) -> str:
    url = next(b["url"] for b in pay_message.buttons() if b.get("url"))
    return next(sid for sid, s in stripe_api.sessions.items() if s["url"] == url)


async def order_of(app: ShopApp, session_id: str) -> Order:
    assert app.db is not None
    order = await orders.by_session(app.db.reader, session_id)
    assert order is not None
    return order


async def pay_and_notify(stripe_api: FakeStripe, session_id: str) -> int:
    """The buyer pays; Stripe sends checkout.session.completed. Returns our HTTP status."""
    stripe_api.pay(session_id)
    status, _ = await stripe_api.deliver(
        stripe_api.session_event("checkout.session.completed", session_id)
    )
    return status


async def applied(app: ShopApp) -> None:
    """Wait until the shop has applied the Stripe events it answered 2xx for: the webhook
    answers once an event is recorded in the inbox, and the applier applies it right after
    (shop/stripe_inbox.py). Events backing off after a failed apply are not waited for."""
    assert app.applier is not None
    await asyncio.wait_for(app.applier.settled(), 10)


async def settled(app: ShopApp, *, buyers_only: bool = False) -> None:
    """Wait until the Stripe events received are applied and the outbox has nothing pending
    (all sent or given up). `buyers_only` skips the admins' sale alerts, which a long run of
    sales paces to one message every few seconds."""
    assert app.db is not None
    await applied(app)
    reader = app.db.reader

    async def pending() -> int:
        if not buyers_only:
            return await deliveries.count_pending(reader)
        sql = "SELECT COUNT(*) FROM deliveries WHERE status = 'pending' AND kind != ?"
        row = await fetch_one(reader, sql, (DeliveryKind.SALE_ALERT.value,))
        return int(row[0]) if row else 0

    for _ in range(200):
        if await pending() == 0:
            await asyncio.sleep(0.1)  # let the last settle commit its order status
            if await pending() == 0:
                return
        await asyncio.sleep(0.05)
    raise AssertionError("deliveries still pending")


async def checkout(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe, buyer: int, **product: Any
) -> tuple[FakeMessage, str]:
    """A new product, bought by `buyer` up to the Pay button: (pay message, session id)."""
    product_id = await add_product(app, **product)
    pay_message = await buy(telegram, buyer, await open_card(telegram, buyer, product_id))
    return pay_message, session_of(stripe_api, pay_message)


def paid_event(stripe_api: FakeStripe, session_id: str) -> dict[str, Any]:
    """The buyer pays; the checkout.session.completed event Stripe would send (not sent yet)."""
    stripe_api.pay(session_id)
    return stripe_api.session_event("checkout.session.completed", session_id)


async def tap_buy_with_quantity(
    telegram: FakeTelegram, buyer: int, product_id: int, quantity: int
) -> None:
    """Open the product's card, tap + up to `quantity` and tap Buy (not waiting for the answer)."""
    card = await open_card(telegram, buyer, product_id)
    for wanted in range(2, quantity + 1):
        telegram.user_taps(buyer, card, card.button("+")["callback_data"])
        label = f"Qty {wanted}"

        def shows_quantity(message: FakeMessage, label: str = label) -> bool:
            return message is card and _has_button(message, label)

        await telegram.wait_for(buyer, shows_quantity)
    telegram.user_taps(buyer, card, card.button("Buy")["callback_data"])


async def notify(stripe_api: FakeStripe, event_type: str, session_id: str) -> None:
    """Stripe sends the checkout.session.* event for the session as it is now; we answer 200."""
    event = stripe_api.session_event(event_type, session_id)
    status, _ = await stripe_api.deliver(event)
    assert status == 200


async def refund_in_dashboard(
    stripe_api: FakeStripe, payment_intent_id: str, amount: int | None = None
) -> None:
    """The merchant refunds (all, or `amount`) in the Stripe Dashboard; no event is sent yet."""
    http = stripe.AIOHTTPClient()
    client = stripe.StripeClient(
        stripe_api.api_key, base_addresses={"api": stripe_api.api_base}, http_client=http
    )
    params: stripe.params.RefundCreateParams = {"payment_intent": payment_intent_id}
    if amount is not None:
        params["amount"] = amount
    try:
        await client.v1.refunds.create_async(params)
    finally:
        await http.close_async()  # type: ignore[no-untyped-call]


async def tap_answer(
    telegram: FakeTelegram, buyer: int, message: FakeMessage, callback_data: str
) -> str:
    """Tap a button; the text of the tap's own answer (a toast or an alert, "" for none)."""
    update = telegram.user_taps(buyer, message, callback_data)
    query_id = update["callback_query"]["id"]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5.0
    while True:
        for answer in telegram.answered_callbacks:
            if answer["callback_query_id"] == query_id:
                return str(answer["text"] or "")
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError(f"tap {query_id} ({callback_data}) was never answered")
        await telegram.wait_for_change(remaining)
