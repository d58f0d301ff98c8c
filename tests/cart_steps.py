"""Steps of a buyer's cart story, driven through the Telegram stand-in as a person would: add
from a card, open /cart, tap a line's − / + / ✕, check out; and the shop of three kinds."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bot import callbacks as cb
from bot.app import ShopApp
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from storage import stock
from storage.models import ProductKind
from tests.people import shown
from tests.story import add_product, open_card, tap_answer

ADDRESS = {"name": "Ada", "address": {"line1": "1 Main St", "city": "Berlin", "country": "DE"}}
EBOOK_TEXT = "Download: https://files.example/ebook.pdf"


async def stock_product(
    app: ShopApp, title: str, price: int, keys: list[str], **fields: Any
) -> int:
    product_id = await add_product(
        app, title=title, price_minor=price, kind=ProductKind.DIGITAL_STOCK, delivery_text="",
        **fields,
    )  # fmt: skip
    assert app.db is not None
    async with app.db.transaction() as tx:
        await stock.add_items(tx, product_id, keys)
    return product_id


async def shop_of_three(app: ShopApp, keys: int = 5) -> tuple[int, int, int]:
    """A stock key at $4.99, an ebook at $12.00 and a mug at $18.00."""
    key = await stock_product(app, "Game key", 499, [f"KEY-{n:04d}" for n in range(keys)])
    ebook = await add_product(app, title="Ebook", price_minor=1200, delivery_text=EBOOK_TEXT)
    mug = await add_product(
        app, title="Mug", price_minor=1800, kind=ProductKind.PHYSICAL, delivery_text=""
    )
    return key, ebook, mug


def now_of(telegram: FakeTelegram, chat_id: int, message: FakeMessage) -> FakeMessage:
    """The message as the chat shows it now (after any edits)."""
    return next(m for m in telegram.messages(chat_id) if m.message_id == message.message_id)


async def add_from_card(
    telegram: FakeTelegram, buyer: int, product_id: int, quantity: int = 1
) -> tuple[str, FakeMessage]:
    """Open the product's card, choose the quantity and tap Add to cart: (the toast or
    alert, the card as it is after the answer)."""
    card = await open_card(telegram, buyer, product_id)
    card_id = card.message_id
    for wanted in range(2, quantity + 1):
        telegram.user_taps(buyer, card, card.button("+")["callback_data"])
        card = await telegram.wait_for(buyer, _shows(card_id, f"Qty {wanted}"))
    answer = await tap_answer(telegram, buyer, card, card.button("Add to cart")["callback_data"])
    counted = re.search(r"cart has (\d+) product", answer)
    if counted:  # the card's Cart (N) is redrawn after the toast
        await telegram.wait_for(buyer, _shows(card_id, f"🛒 Cart ({counted.group(1)})"))
    return answer, now_of(telegram, buyer, card)


def _shows(message_id: int, label: str) -> Callable[[FakeMessage], bool]:
    """The message `message_id` once it has a button labelled `label`."""
    return lambda m: m.message_id == message_id and any(b["text"] == label for b in m.buttons())


async def open_cart(telegram: FakeTelegram, buyer: int) -> FakeMessage:
    """/cart, and the new message it answers with."""
    last = max((m.message_id for m in telegram.messages(buyer)), default=0)
    telegram.user_sends(buyer, "/cart")
    return await telegram.wait_for(
        buyer, lambda m: m.message_id > last and "cart" in shown(m).casefold()
    )


async def tap_and_see(
    telegram: FakeTelegram, buyer: int, message: FakeMessage, data: str, expect: str
) -> tuple[str, FakeMessage]:
    """Tap a button of `message` (by its data) and wait until the message, edited in place,
    shows `expect`: (the tap's answer, the message now)."""
    edits = now_of(telegram, buyer, message).edits
    answer = await tap_answer(telegram, buyer, message, data)
    edited = await telegram.wait_for(
        buyer,
        lambda m: m.message_id == message.message_id and m.edits > edits and expect in shown(m),
    )
    return answer, edited


def line(data: cb.Button, product_id: int) -> str:
    """A cart line's button data: − (CART_LESS), + (CART_MORE) or ✕ (CART_REMOVE)."""
    return data.encode(product_id)
