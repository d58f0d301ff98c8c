"""The merchant's translations reach the buyer (issue 14, item 4): a buyer whose Telegram app
speaks Spanish reads the merchant's Spanish title, description and category name in the catalog,
on the card and in the cart; Stripe's line items and the Stars invoice carry them; the goods
message carries the Spanish delivery text, by the order's language; a field the merchant left
untranslated shows the original, and an English buyer sees the originals throughout.

Stories over the Telegram and Stripe stand-ins, the translations written through the shop's
own use-cases (shop/translations.py) as the admin's 🌐 Translations dialog writes them. Messages
and buttons are found by their callback data and the merchant's words, never by ours, so the
stories hold whatever the shop's catalogs say.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from bot import callbacks as cb
from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from shop import catalog, translations
from storage.models import ProductRail
from tests.backend import sqlite_reader
from tests.cart_steps import stock_product
from tests.conftest import BUYER_ID, OTHER_BUYER_ID
from tests.people import shown
from tests.stars_steps import claimed, next_invoice
from tests.story import add_product, order_of, pay_and_notify, session_of, settled, tap_answer

POSTER_DESCRIPTION = "A print-ready file."
POSTER_GOODS = "Your poster: https://files.example/poster.pdf"


@dataclass(frozen=True)
class Seen:
    """What a buyer in one language should read of the shop below."""

    language_code: str
    ebook: str
    ebook_description: str
    ebook_goods: str
    poster: str
    books: str


IN_ENGLISH = Seen(
    "en",
    ebook="Python ebook",
    ebook_description="A practical guide.",
    ebook_goods="Download: https://files.example/ebook.pdf",
    poster="Poster",
    books="Books",
)
IN_SPANISH = Seen(
    "es",
    ebook="Libro de Python",
    ebook_description="Una guía práctica.",
    ebook_goods="Descarga: https://files.example/libro.pdf",
    poster="Póster",  # the poster's only translation: its description and goods stay English
    books="Libros",
)


def _other(seen: Seen) -> Seen:
    return IN_SPANISH if seen is IN_ENGLISH else IN_ENGLISH


async def _shop(app: ShopApp, **ebook: object) -> tuple[int, int]:
    """An ebook in "Books" translated into Spanish whole (its category too), and a poster in
    "Prints" with only a Spanish title: (ebook, poster)."""
    assert app.db is not None
    ebook_id = await add_product(
        app,
        **{
            "title": IN_ENGLISH.ebook,
            "description": IN_ENGLISH.ebook_description,
            "delivery_text": IN_ENGLISH.ebook_goods,
            "category": "Books",
            **ebook,
        },
    )
    poster_id = await add_product(
        app,
        title=IN_ENGLISH.poster,
        description=POSTER_DESCRIPTION,
        delivery_text=POSTER_GOODS,
        category="Prints",
        price_minor=500,
    )
    await _translate(
        app, ebook_id, IN_SPANISH.ebook, IN_SPANISH.ebook_description, IN_SPANISH.ebook_goods
    )
    await _translate(app, poster_id, IN_SPANISH.poster)
    await translations.set_category_name(app.db, "Books", "es", IN_SPANISH.books)
    return ebook_id, poster_id


async def _translate(
    app: ShopApp, product_id: int, title: str, description: str = "", delivery: str = ""
) -> None:
    """The merchant's Spanish texts for a product (an empty one: left untranslated)."""
    assert app.db is not None
    for name, text in (("title", title), ("description", description), ("delivery_text", delivery)):
        if text:
            assert await translations.set_text(app.db, product_id, "es", name, text)


# --- the buyer's chat -----------------------------------------------------------------------------


def _snapshot(telegram: FakeTelegram, chat_id: int) -> tuple[int, dict[int, int]]:
    messages = telegram.messages(chat_id)
    return max((m.message_id for m in messages), default=0), {
        m.message_id: m.edits for m in messages
    }


async def _answer(
    telegram: FakeTelegram,
    act: Callable[[], object],
    wanted: Callable[[FakeMessage], bool],
    chat_id: int = BUYER_ID,
) -> FakeMessage:
    """Do `act`; the bot's first message, new or edited since, that is `wanted`."""
    last, edits = _snapshot(telegram, chat_id)
    act()

    def fresh(m: FakeMessage) -> bool:
        changed = m.message_id > last or m.edits > edits.get(m.message_id, 0)
        return changed and not m.deleted and wanted(m)

    return await telegram.wait_for(chat_id, fresh)


def _carries(data: str) -> Callable[[FakeMessage], bool]:
    return lambda m: any(str(b.get("callback_data", "")).startswith(data) for b in m.buttons())


def _has_link(message: FakeMessage) -> bool:
    return any(b.get("url") for b in message.buttons())


def _labels(message: FakeMessage) -> list[str]:
    return [str(b["text"]) for b in message.buttons()]


def _button(message: FakeMessage, label: str) -> str:
    """The callback data of the message's button whose label contains `label`."""
    return next(str(b["callback_data"]) for b in message.buttons() if label in str(b["text"]))


async def _sends(
    telegram: FakeTelegram, text: str, wanted: Callable[[FakeMessage], bool]
) -> FakeMessage:
    return await _answer(telegram, lambda: telegram.user_sends(BUYER_ID, text), wanted)


async def _taps(
    telegram: FakeTelegram, message: FakeMessage, data: str, wanted: Callable[[FakeMessage], bool]
) -> FakeMessage:
    return await _answer(telegram, lambda: telegram.user_taps(BUYER_ID, message, data), wanted)


async def _card(telegram: FakeTelegram, product_id: int) -> FakeMessage:
    """The product's card, opened from its deep link."""
    add = f"{cb.CART_ADD.prefix}:{product_id}:"
    return await _sends(telegram, f"/start p_{product_id}", _carries(add))


def _stripe_lines(stripe_api: FakeStripe, session_id: str) -> list[tuple[str, str | None]]:
    """(name, description) of each line item of the session, as Stripe's page shows them."""
    return [
        (item["description"], stripe_api.objects[item["price"]["product"]]["description"])
        for item in stripe_api.line_items(session_id)
    ]


# --- stories --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seen", [IN_SPANISH, IN_ENGLISH], ids=["es", "en"])
async def test_the_buyer_reads_the_merchant_s_words_in_their_language_from_catalog_to_goods(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe, seen: Seen
) -> None:
    ebook, poster = await _shop(app)
    telegram.set_language(BUYER_ID, seen.language_code)
    other = _other(seen)

    menu = await _sends(telegram, "/catalog", _carries(f"{cb.CATEGORY.prefix}:"))
    assert any(seen.books in label for label in _labels(menu))
    assert any("Prints" in label for label in _labels(menu))  # no Spanish name: as written
    assert not any(other.books in label for label in _labels(menu))
    books = await _taps(
        telegram, menu, _button(menu, seen.books), _carries(cb.PRODUCT.encode(ebook))
    )
    assert seen.books in shown(books) and other.books not in shown(books)  # the page's heading
    assert any(seen.ebook in label for label in _labels(books))
    assert not any(other.ebook in label for label in _labels(books))

    add = f"{cb.CART_ADD.prefix}:{ebook}:"
    card = await _taps(telegram, books, cb.PRODUCT.encode(ebook), _carries(add))
    assert seen.ebook in shown(card) and seen.ebook_description in shown(card)
    assert other.ebook not in shown(card) and other.ebook_description not in shown(card)
    toast = await tap_answer(telegram, BUYER_ID, card, cb.CART_ADD.encode(ebook, 1))
    assert seen.ebook in toast and other.ebook not in toast
    poster_card = await _card(telegram, poster)
    assert seen.poster in shown(poster_card) and POSTER_DESCRIPTION in shown(poster_card)
    await tap_answer(telegram, BUYER_ID, poster_card, cb.CART_ADD.encode(poster, 1))

    view = await _sends(telegram, "/cart", _carries(cb.CART_CHECKOUT.encode()))
    assert seen.ebook in shown(view) and seen.poster in shown(view)
    assert other.ebook not in shown(view) and other.poster not in shown(view)
    assert any(seen.ebook in label for label in _labels(view))  # the line's own button
    pay_message = await _taps(telegram, view, cb.CART_CHECKOUT.encode(), _has_link)
    session_id = session_of(stripe_api, pay_message)
    assert _stripe_lines(stripe_api, session_id) == [
        (seen.ebook, seen.ebook_description),
        (seen.poster, POSTER_DESCRIPTION),
    ]
    order = await order_of(app, session_id)
    assert [line.title for line in order.lines] == [seen.ebook, seen.poster]

    assert await pay_and_notify(stripe_api, session_id) == 200
    await settled(app)
    receipt = next(m for m in telegram.messages(BUYER_ID) if m.message_id == pay_message.message_id)
    assert seen.ebook_goods in shown(receipt) and POSTER_GOODS in shown(receipt)
    assert other.ebook_goods not in shown(receipt)


async def test_buy_now_s_goods_follow_the_order_s_language_whatever_the_app_says_later(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    ebook, _ = await _shop(app)
    telegram.set_language(BUYER_ID, "es")
    card = await _card(telegram, ebook)
    pay_message = await _taps(telegram, card, cb.BUY.encode(ebook, 1), _has_link)
    session_id = session_of(stripe_api, pay_message)
    assert _stripe_lines(stripe_api, session_id) == [
        (IN_SPANISH.ebook, IN_SPANISH.ebook_description)
    ]

    telegram.set_language(BUYER_ID, "en")  # the buyer's app turns English before they pay
    assert await pay_and_notify(stripe_api, session_id) == 200
    await settled(app)
    receipt = next(m for m in telegram.messages(BUYER_ID) if m.message_id == pay_message.message_id)
    assert IN_SPANISH.ebook_goods in shown(receipt) and IN_ENGLISH.ebook_goods not in shown(receipt)
    # Send again, asked in English, sends the Spanish order's goods: the order's language.
    send_again = cb.SEND_AGAIN.encode((await order_of(app, session_id)).id)
    listed = await _sends(telegram, "/orders", _carries(send_again))
    again = await _taps(telegram, listed, send_again, lambda m: IN_SPANISH.ebook_goods in shown(m))
    assert IN_ENGLISH.ebook_goods not in shown(again)


async def test_a_stars_invoice_speaks_its_order_s_language_even_when_sent_again(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    ebook, _ = await _shop(app, rail=ProductRail.STARS, stars_price=40)
    telegram.set_language(BUYER_ID, "es")
    card = await _card(telegram, ebook)
    telegram.user_taps(BUYER_ID, card, cb.STARS_BUY.encode(ebook, 1))
    first = await next_invoice(telegram, BUYER_ID, card.message_id)
    assert first.invoice is not None
    assert (first.invoice.title, first.invoice.description) == (
        IN_SPANISH.ebook,
        IN_SPANISH.ebook_description,
    )
    await claimed(app, first)
    # The buyer deletes the invoice and taps ⭐ Buy again with their app in English: the same
    # order's invoice comes again, in the order's Spanish, its description as much as its title.
    first.deleted = True
    telegram.set_language(BUYER_ID, "en")
    card = await _card(telegram, ebook)
    assert IN_ENGLISH.ebook in shown(card)
    telegram.user_taps(BUYER_ID, card, cb.STARS_BUY.encode(ebook, 1))
    second = await next_invoice(telegram, BUYER_ID, card.message_id)
    assert second.invoice is not None and second.invoice.payload == first.invoice.payload
    assert (second.invoice.title, second.invoice.description) == (
        IN_SPANISH.ebook,
        IN_SPANISH.ebook_description,
    )
    # Another buyer, in English, gets the originals.
    seen = max((m.message_id for m in telegram.messages(OTHER_BUYER_ID)), default=0)
    telegram.user_sends(OTHER_BUYER_ID, f"/start p_{ebook}", language_code="en")
    other_card = await telegram.wait_for(
        OTHER_BUYER_ID, lambda m: m.message_id > seen and _carries(cb.STARS_BUY.prefix)(m)
    )
    telegram.user_taps(OTHER_BUYER_ID, other_card, cb.STARS_BUY.encode(ebook, 1))
    theirs = await next_invoice(telegram, OTHER_BUYER_ID, other_card.message_id)
    assert theirs.invoice is not None
    assert (theirs.invoice.title, theirs.invoice.description) == (
        IN_ENGLISH.ebook,
        IN_ENGLISH.ebook_description,
    )


async def test_the_cart_s_changes_and_refusals_name_the_lines_as_the_buyer_reads_them(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    assert app.db is not None
    key = await stock_product(app, "Game key", 499, ["KEY-0001"])
    ebook, _ = await _shop(app, rail=ProductRail.STARS, stars_price=40)
    await _translate(app, key, "Clave de juego")
    telegram.set_language(BUYER_ID, "es")
    card = await _card(telegram, key)
    await tap_answer(telegram, BUYER_ID, card, cb.CART_ADD.encode(key, 1))
    refusal = await tap_answer(telegram, BUYER_ID, card, cb.CART_ADD.encode(key, 1))
    assert "Clave de juego" in refusal and "Game key" not in refusal  # none left to add
    card = await _card(telegram, ebook)
    await tap_answer(telegram, BUYER_ID, card, cb.CART_ADD.encode(ebook, 1))

    # The merchant raises the key's price, and the ebook sells for Stars only while the key
    # sells by card only: the cart says what changed and which line to take out to pay by card,
    # each line named in Spanish in its note as on its own line.
    await catalog.edit_product(app.db, key, price_minor=599)
    view = await _sends(telegram, "/cart", _carries(cb.CART_EMPTY.encode()))
    assert shown(view).count("Clave de juego") == 2, shown(view)
    assert shown(view).count(IN_SPANISH.ebook) == 2, shown(view)
    assert "Game key" not in shown(view) and IN_ENGLISH.ebook not in shown(view)


@pytest.mark.sqlite_file
async def test_a_page_of_the_catalog_and_the_cart_read_translations_in_one_query(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    assert app.db is not None
    ebook, poster = await _shop(app)
    more = [await add_product(app, title=f"Book {n}", category="Books") for n in range(6)]
    for n, product_id in enumerate(more):
        await _translate(app, product_id, f"Libro {n}")
    telegram.set_language(BUYER_ID, "es")
    statements: list[str] = []
    await sqlite_reader(app.db).set_trace_callback(statements.append)
    try:
        menu = await _sends(telegram, "/catalog", _carries(f"{cb.CATEGORY.prefix}:"))
        read_by_menu = list(statements)
        page = await _taps(
            telegram, menu, _button(menu, IN_SPANISH.books), _carries(cb.PRODUCT.encode(ebook))
        )
        read_by_page = statements[len(read_by_menu) :]
        for product_id in (ebook, poster, *more[:2]):
            card = await _card(telegram, product_id)
            await tap_answer(telegram, BUYER_ID, card, cb.CART_ADD.encode(product_id, 1))
        before_cart = len(statements)
        view = await _sends(telegram, "/cart", _carries(cb.CART_CHECKOUT.encode()))
        read_by_cart = statements[before_cart:]
    finally:
        await sqlite_reader(app.db).set_trace_callback(None)

    def reads(table: str, statements: list[str]) -> int:
        return sum(f"FROM {table}" in statement for statement in statements)

    assert [f"Libro {n}" in shown(view) for n in range(2)] == [True, True]
    assert all(f"Libro {n}" in " ".join(_labels(page)) for n in range(6))
    assert (
        reads("category_translations", read_by_menu),
        reads("product_translations", read_by_menu),
    ) == (1, 0)
    assert (
        reads("category_translations", read_by_page),
        reads("product_translations", read_by_page),
    ) == (1, 1)
    assert reads("product_translations", read_by_cart) == 1
