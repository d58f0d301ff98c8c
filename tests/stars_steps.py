"""Steps of a buyer's Telegram Stars story, driven through the Telegram stand-in as a person
would: open a card, tap ⭐ Buy, pay the invoice on Telegram's payment sheet."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bot.app import ShopApp
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from sandbox.telegram_standin.records import FakePayment
from storage import orders
from storage.models import Order, ProductKind, ProductRail
from tests.cart_steps import stock_product
from tests.people import shown
from tests.story import add_product, tap_answer

STARS = 150


async def stars_key(app: ShopApp, keys: int = 1, rail: ProductRail = ProductRail.STARS) -> int:
    """A game key sold for ⭐ 150 (and $4.99 by card when `rail` is both)."""
    return await stock_product(
        app, "Game key", 499, [f"KEY-{n:04d}" for n in range(keys)], rail=rail, stars_price=STARS
    )


async def stars_ebook(app: ShopApp, title: str = "Ebook", stars: int = 40) -> int:
    return await add_product(
        app, title=title, kind=ProductKind.DIGITAL_TEXT, rail=ProductRail.STARS, stars_price=stars
    )


async def open_stars_card(
    telegram: FakeTelegram, buyer: int, product_id: int, button: str = "Stars"
) -> FakeMessage:
    """The buyer follows the product's deep link; its new card, with its ⭐ Buy button (or
    the `button` asked for)."""
    seen = max((m.message_id for m in telegram.messages(buyer)), default=0)
    telegram.user_sends(buyer, f"/start p_{product_id}")
    return await telegram.wait_for(
        buyer, lambda m: m.message_id > seen and any(button in b["text"] for b in m.buttons())
    )


async def add_to_cart(
    telegram: FakeTelegram, buyer: int, product_id: int, quantity: int = 1
) -> str:
    """Open any product's card, choose the quantity, tap Add to cart: the toast."""
    card = await open_stars_card(telegram, buyer, product_id, button="Add to cart")
    for wanted in range(2, quantity + 1):
        telegram.user_taps(buyer, card, card.button("+")["callback_data"])
        await telegram.wait_for(buyer, _labelled(card, f"Qty {wanted}"))
    return await tap_answer(telegram, buyer, card, card.button("Add to cart")["callback_data"])


def _labelled(card: FakeMessage, label: str) -> Callable[[FakeMessage], bool]:
    return lambda m: m is card and any(b["text"] == label for b in m.buttons())


def tap_stars_buy(telegram: FakeTelegram, buyer: int, card: FakeMessage) -> dict[str, Any]:
    return telegram.user_taps(buyer, card, card.button("⭐ Buy for")["callback_data"])


async def next_invoice(telegram: FakeTelegram, buyer: int, after: int) -> FakeMessage:
    return await telegram.wait_for(
        buyer, lambda m: m.message_id > after and m.invoice is not None and not m.deleted
    )


async def buy_for_stars(telegram: FakeTelegram, buyer: int, product_id: int) -> FakeMessage:
    """Open the card, tap ⭐ Buy: the invoice the bot sends in the chat."""
    card = await open_stars_card(telegram, buyer, product_id)
    tap_stars_buy(telegram, buyer, card)
    return await next_invoice(telegram, buyer, card.message_id)


async def pay(telegram: FakeTelegram, buyer: int, invoice: FakeMessage) -> FakePayment:
    """The buyer taps Pay and confirms; the bot answers the pre-checkout query itself."""
    payment: FakePayment = await telegram.pay_invoice(buyer, invoice)
    return payment


def resend_update(telegram: FakeTelegram, payment: FakePayment) -> None:
    """Telegram hands the same successful_payment message over again (a re-fetched update)."""
    assert payment.update is not None
    telegram._make_update("message", payment.update["message"], True)


def showing(telegram: FakeTelegram, buyer: int, text: str) -> list[FakeMessage]:
    return [m for m in telegram.messages(buyer) if not m.deleted and text in shown(m)]


async def claimed(app: ShopApp, invoice: FakeMessage) -> Order:
    """The invoice's order once the bot has made the invoice its message (just after sending)."""
    for _ in range(100):
        order = await order_by_ref(app, invoice)
        if order.message_id == invoice.message_id:
            return order
        await asyncio.sleep(0.02)
    raise AssertionError(f"invoice {invoice.message_id} never became its order's message")


async def order_by_ref(app: ShopApp, invoice: FakeMessage) -> Order:
    assert app.db is not None and invoice.invoice is not None
    order = await orders.by_ref(app.db.reader, invoice.invoice.payload)
    assert order is not None
    return order
