"""Catalog browsing: pages, photo cards, quantities, deep links, limits kept by construction."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot import callbacks, texts
from bot.app import ShopApp
from bot.buyer import texts as buyer_texts
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from shop.i18n import Languages
from storage import stock
from storage.models import Product, ProductKind
from tests.conftest import BUYER_ID
from tests.story import add_product, buy, open_card


async def test_catalog_pages_through_many_products(app: ShopApp, telegram: FakeTelegram) -> None:
    for number in range(1, 12):
        await add_product(app, title=f"Item {number:02d}", price_minor=100 * number)
    telegram.user_sends(BUYER_ID, "/catalog")
    page1 = await telegram.wait_for(BUYER_ID, lambda m: "page 1 of 2" in (m.text or ""))
    titles = [b["text"] for b in page1.buttons() if b["text"].startswith("Item")]
    assert titles[0] == "Item 01 — $1.00" and len(titles) == 8
    telegram.user_taps(BUYER_ID, page1, page1.button("Next")["callback_data"])
    page2 = await telegram.wait_for(BUYER_ID, lambda m: "page 2 of 2" in (m.text or ""))
    assert page2.message_id == page1.message_id  # the menu is edited in place
    assert [b["text"] for b in page2.buttons() if b["text"].startswith("Item")] == [
        "Item 09 — $9.00",
        "Item 10 — $10.00",
        "Item 11 — $11.00",
    ]


async def test_empty_shop_says_so(app: ShopApp, telegram: FakeTelegram) -> None:
    telegram.user_sends(BUYER_ID, "/catalog")
    await telegram.wait_for(BUYER_ID, lambda m: "no products yet" in (m.text or ""))


async def test_photo_card_with_long_description_and_buy(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    product_id = await add_product(
        app,
        title="Poster",
        description="Very long. " * 300,
        photo="https://images.example/poster.jpg",
        price_minor=5000,
        currency="eur",
    )
    card = await open_card(telegram, BUYER_ID, product_id)
    assert card.photo is not None
    assert card.caption is not None and len(card.caption) <= texts.MAX_CAPTION
    assert "€50.00" in card.caption
    for quantity in range(2, 11):
        telegram.user_taps(BUYER_ID, card, card.button("+")["callback_data"])
        card = await telegram.wait_for(BUYER_ID, _edited(card.message_id, times=quantity - 1))
    assert "Buy 10 — €500.00" in card.button("Buy")["text"]
    # Item 27: + at the maximum no longer re-sends quantity 10 silently; its toast says why.
    assert card.button("+")["callback_data"] == f"max:{product_id}"
    telegram.user_taps(BUYER_ID, card, card.button("+")["callback_data"])
    await until_answered(telegram, "You can buy at most 10 at once.")
    pay = await buy(telegram, BUYER_ID, card)
    assert "Pay €500.00" in pay.button("Pay")["text"]
    telegram.user_taps(BUYER_ID, card, card.button("Catalog")["callback_data"])
    await telegram.wait_for(BUYER_ID, lambda m: "Catalog" in (m.text or ""))


async def test_hidden_or_unknown_product_is_unavailable(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    hidden = await add_product(app, active=False)
    telegram.user_sends(BUYER_ID, f"/start p_{hidden}")
    first = await telegram.wait_for(BUYER_ID, lambda m: "no longer available" in (m.text or ""))
    telegram.user_sends(BUYER_ID, "/start p_99999")
    await telegram.wait_for(
        BUYER_ID,
        lambda m: "no longer available" in (m.text or "") and m.message_id > first.message_id,
    )


async def test_forged_button_data_gets_a_polite_answer(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    product_id = await add_product(app)
    card = await open_card(telegram, BUYER_ID, product_id)
    for forged in ("buy:1:11", "buy:1:0", "price:1:1", "buy:abc:1", "cat"):
        telegram.user_taps(BUYER_ID, card, forged, check_keyboard=False)
    for _ in range(100):
        if len(telegram.answered_callbacks) == 5:
            break
        await asyncio.sleep(0.05)
    assert len(telegram.answered_callbacks) == 5
    assert all("expired" in (a.get("text") or "") for a in telegram.answered_callbacks)


async def until_answered(telegram: FakeTelegram, toast: str) -> None:
    for _ in range(100):
        if telegram.answered_callbacks and telegram.answered_callbacks[-1].get("text") == toast:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"no toast {toast!r}: {telegram.answered_callbacks[-3:]}")


async def test_plus_at_the_stock_left_says_how_many_are_left(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    assert app.db is not None
    product_id = await add_product(app, title="Keys", kind=ProductKind.DIGITAL_STOCK)
    async with app.db.transaction() as tx:
        await stock.add_items(tx, product_id, ["K1", "K2"])
    card = await open_card(telegram, BUYER_ID, product_id)
    telegram.user_taps(BUYER_ID, card, card.button("+")["callback_data"])
    card = await telegram.wait_for(BUYER_ID, _edited(card.message_id, times=1))
    assert "Buy 2" in card.button("Buy")["text"]
    telegram.user_taps(BUYER_ID, card, card.button("+")["callback_data"])
    await until_answered(telegram, "Only 2 left in stock.")
    assert "Buy 2" in card.button("Buy")["text"]


def _edited(message_id: int, *, times: int) -> Callable[[FakeMessage], bool]:
    return lambda m: m.message_id == message_id and m.edits == times


def test_callback_data_round_trips_and_fits_64_bytes() -> None:
    data = callbacks.encode("buy", 999_999_999_999, 10)
    assert len(data.encode()) <= 64
    assert callbacks.decode(data) == callbacks.Callback("buy", (999_999_999_999, 10))
    assert callbacks.decode("buy:1") is None
    assert callbacks.decode("qty:1:11") is None
    assert callbacks.decode("again:-1") is None


def test_card_text_stays_under_telegram_limits() -> None:
    product = Product(
        id=1,
        title="T" * 128,
        description="<&>" * 5000,
        price_minor=999,
        currency="usd",
        photo=None,
        delivery_text="",
        active=True,
        position=1,
    )
    for lang in Languages.load().offered:  # a longer translation leaves the description less
        for limit in (texts.MAX_CAPTION, texts.MAX_TEXT):
            html = buyer_texts.product_card(lang, product, limit=limit, stock_left=3)
            plain = html.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
            plain = plain.replace("<b>", "").replace("</b>", "")
            assert texts.utf16_len(plain) <= limit, lang


async def test_categories_come_first_when_there_are_several(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    await add_product(app, title="Sticker", category="Merch <&>")
    await add_product(app, title="Hoodie", category="Merch <&>")
    await add_product(app, title="Ebook", category="Books")
    await add_product(app, title="Gift card")
    telegram.user_sends(BUYER_ID, "/catalog")
    menu = await telegram.wait_for(BUYER_ID, lambda m: "Choose a category" in (m.text or ""))
    assert [b["text"] for b in menu.buttons()] == [
        "Merch <&> (2)", "Books (1)", "Other (1)", "🛒 Cart",
    ]  # fmt: skip
    telegram.user_taps(BUYER_ID, menu, menu.button("Merch")["callback_data"])
    merch = await telegram.wait_for(BUYER_ID, lambda m: "Merch <&>" in (m.text or ""))
    assert [b["text"].split(" —")[0] for b in merch.buttons()][:2] == ["Sticker", "Hoodie"]
    telegram.user_taps(BUYER_ID, merch, merch.button("Categories")["callback_data"])
    await telegram.wait_for(BUYER_ID, lambda m: "Choose a category" in (m.text or ""))
    menu = telegram.messages(BUYER_ID)[-1]
    telegram.user_taps(BUYER_ID, menu, menu.button("Other")["callback_data"])
    other = await telegram.wait_for(
        BUYER_ID,
        lambda m: (
            "<b>" not in (m.text or "")
            and "Other" in (m.text or "")
            and "Gift card" in str(m.buttons())
        ),
    )
    assert "Sticker" not in str(other.buttons())


def test_ids_in_callback_data_are_ascii_digits_only() -> None:
    """`"²".isdigit()` is true and `int("²")` raises; `"١٢"` would quietly be 12."""
    for forged in ("prod:²", "prod:١٢", "cc:١:0", "qty:1:¹", "ord:-0", "prod:1\n", "prod: 1"):
        assert callbacks.decode(forged) is None, forged
    assert callbacks.decode("prod:12") == callbacks.Callback("prod", (12,))


async def test_forged_ids_in_buttons_get_the_expired_answer(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    """Digits that are not ASCII used to raise ValueError ("something went wrong")."""
    card = await open_card(telegram, BUYER_ID, await add_product(app))
    forged = ("prod:²", "prod:١", "cc:²:0", "buy:١:1", "again:³")
    for data in forged:
        telegram.user_taps(BUYER_ID, card, data, check_keyboard=False)
    for _ in range(100):
        if len(telegram.answered_callbacks) == len(forged):
            break
        await asyncio.sleep(0.05)
    answers = [a.get("text") or "" for a in telegram.answered_callbacks]
    assert len(answers) == len(forged) and all("expired" in text for text in answers)
    assert not [m for m in telegram.messages(BUYER_ID) if "went wrong" in (m.text or "")]


async def test_a_hidden_products_id_does_not_reveal_its_category(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    await add_product(app, title="Ebook", category="Books")
    await add_product(app, title="Sticker", category="Merch")
    secret = await add_product(app, title="Prototype", category="Unannounced X", active=False)
    archived = await add_product(app, title="Old", category="Discontinued Y")
    assert app.db is not None
    async with app.db.transaction() as tx:  # deleted after it sold: kept for its orders
        await tx.execute("UPDATE products SET archived = 1 WHERE id = ?", (archived,))
    telegram.user_sends(BUYER_ID, "/catalog")
    menu = await telegram.wait_for(BUYER_ID, lambda m: "Choose a category" in (m.text or ""))
    for hidden in (secret, archived):
        telegram.user_taps(BUYER_ID, menu, menu.button("Books")["callback_data"])
        menu = await telegram.wait_for(BUYER_ID, lambda m: "Books" in (m.text or ""))
        telegram.user_taps(BUYER_ID, menu, f"cc:{hidden}:0", check_keyboard=False)
        menu = await telegram.wait_for(
            BUYER_ID, lambda m: "Books" not in (m.text or "") and m.edits > 0
        )
        shown = (menu.text or "") + str(menu.buttons())
        assert "Choose a category" in shown
        assert "Unannounced" not in shown and "Discontinued" not in shown
