"""Story steps the admin order tests share (and the shipping, discount and sales stories reuse):
an order in each state, an admin command or tap and its answer, the order and its outbox now."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from storage import deliveries, orders
from storage.models import Delivery, DeliveryKind, Order
from tests.conftest import ADMIN_ID, BUYER_ID
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
