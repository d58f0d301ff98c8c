"""The buyer's and the admin's stories in the pseudo-locale (tests/pseudo_locale.py): every text
the bot shows them must come from the catalog, so none may keep a run of ASCII letters.

The real app runs with the pseudo catalog compiled into a temporary catalog_dir and offers
English and en_XA; the buyer's and the admin's Telegram apps report "en-XA". Whatever English is
left in what they were sent — a message, a button, a toast, an invoice — is a text that
bypassed `lang.t`, or whose message id the template does not have (`make messages`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import callbacks as cb
from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from storage import languages
from storage.models import ProductKind, ProductRail
from tests.cart_steps import stock_product
from tests.conftest import ADMIN_ID, BUYER_ID, settings_for, start_app
from tests.pseudo_locale import (
    PSEUDO_CODE,
    TELEGRAM_CODE,
    Said,
    build_catalog,
    pseudo,
    report,
    said_to,
    unmarked,
)
from tests.pseudo_steps import (
    ADMIN_NAME,
    BUYER_NAME,
    DATA,
    EBOOK,
    EBOOK_ABOUT,
    EBOOK_GOODS,
    KEY,
    KEY_HOWTO,
    KEYS,
    NEW_ABOUT,
    NEW_CATEGORY,
    NEW_GOODS,
    NEW_TITLE,
    STARS_GOODS,
    STARS_ITEM,
    PseudoPerson,
    data_of,
    with_button,
    with_link,
)
from tests.story import add_product, order_of, pay_and_notify, session_of, settled

RENAMED = "Κούπα ☕ Νέα"


@pytest.fixture
async def pseudo_app(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> AsyncIterator[ShopApp]:
    """The app offering English and the pseudo-locale, its catalog built from the template."""
    settings = dataclasses.replace(
        settings_for(tmp_path, telegram, stripe_api),
        languages=("en", PSEUDO_CODE),
        catalog_dir=build_catalog(tmp_path / "catalogs"),
    )
    telegram.set_language(ADMIN_ID, TELEGRAM_CODE)
    app = await start_app(settings, telegram, stripe_api)
    yield app
    await app.stop()


@pytest.fixture
def buyer(telegram: FakeTelegram) -> PseudoPerson:
    return PseudoPerson(telegram, BUYER_ID, BUYER_NAME)


@pytest.fixture
def admin(telegram: FakeTelegram) -> PseudoPerson:
    return PseudoPerson(telegram, ADMIN_ID, ADMIN_NAME)


def _english_left(telegram: FakeTelegram, *extra_data: str) -> list[tuple[Said, list[str]]]:
    said = said_to(telegram, [BUYER_ID, ADMIN_ID])
    assert len(said) > 20, f"the story saw too little to judge: {said}"
    return unmarked(said, (*DATA, telegram.bot_name, *extra_data))


# --- the pipeline ---------------------------------------------------------------------------------


async def test_the_pseudo_locale_reaches_the_bot(
    pseudo_app: ShopApp, telegram: FakeTelegram, admin: PseudoPerson
) -> None:
    """The shop picks en_XA for an app in "en-XA" and its catalog turns the template's
    messages pseudo, plural ones too; the bot sees the person's language (it stores an admin's).
    So what the stories flag is the code's, not the set-up's."""
    lang = pseudo_app.shop.languages.pick(None, TELEGRAM_CODE) if pseudo_app.shop else None
    assert lang is not None and lang.code == PSEUDO_CODE
    unknown = "I don't know that command. Try /catalog to browse, or /help."
    assert lang.t(unknown) == pseudo(unknown) != unknown
    assert lang.nt("…and {n} more", "…and {n} more", 3) == pseudo("…and {n} more").format(n=3)
    await admin.sends("/help")
    assert pseudo_app.db is not None
    assert (await languages.of(pseudo_app.db.reader, ADMIN_ID)).seen == PSEUDO_CODE
    update = telegram.calls_of("getUpdates")[-1].response["result"]
    assert [u["message"]["from"]["language_code"] for u in update] == [TELEGRAM_CODE]


def test_the_check_flags_english_and_nothing_else() -> None:
    said = [
        Said("a", pseudo("<b>Your order</b> #12 is paid: {total}").format(total="US$ 9.99")),
        Said("b", f"{pseudo('Buy')} {EBOOK} — $9.99 · https://shop.test/x?session=cs_ABC"),
        Said("c", f"/orders @shop_test_bot Dec 6, 2025, 5:46\u202fPM {BUYER_NAME} 9,99 EUR"),
        Said("d", f"{pseudo('Paid')}: {EBOOK_GOODS} customer@example.com"),
        Said("e", f"Pay {EBOOK}"),
        Said("f", "Qty 2"),
        Said("g", f"{pseudo('Refund')} 12 — Dec 6, 2025"),
    ]
    flagged = unmarked(said, DATA)
    assert [(item.where, runs) for item, runs in flagged] == [("e", ["Pay"]), ("f", ["Qty"])]
    assert "e: Pay\n" in report(flagged)


# --- the buyer -----------------------------------------------------------------------------------


async def test_the_buyers_story_speaks_only_the_catalog(
    pseudo_app: ShopApp,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    buyer: PseudoPerson,
    admin: PseudoPerson,
) -> None:
    app = pseudo_app
    await admin.sends("/help")  # the admin's app language is now known to the shop
    ebook = await add_product(
        app, title=EBOOK, description=EBOOK_ABOUT, delivery_text=EBOOK_GOODS, price_minor=999
    )
    key = await stock_product(app, KEY, 499, KEYS, description=KEY_HOWTO)
    stars = await add_product(
        app,
        title=STARS_ITEM,
        description="",
        delivery_text=STARS_GOODS,
        kind=ProductKind.DIGITAL_TEXT,
        rail=ProductRail.STARS,
        stars_price=50,
    )

    welcome = await buyer.sends("/start", with_button("cat:"))
    catalog = await buyer.taps(welcome, "cat:", with_button("prod:"))
    card = await buyer.taps(catalog, cb.PRODUCT.encode(ebook), with_button("buy:"))
    card = await buyer.taps(card, cb.QUANTITY.encode(ebook, 2), with_button(f"buy:{ebook}:2"))
    pay = await buyer.taps(card, cb.BUY.encode(ebook, 2), with_link)
    assert await pay_and_notify(stripe_api, session_of(stripe_api, pay)) == 200
    await settled(app)

    # Telegram Stars: the invoice, the payment, the goods.
    card = await buyer.sends(f"/start p_{stars}", with_button("st:b:"))
    invoice = await buyer.taps(card, "st:b:", lambda m: m.invoice is not None)
    assert (await telegram.pay_invoice(BUYER_ID, invoice)).outcome == "paid"
    await settled(app)

    await _cart_checkout(app, stripe_api, buyer, key)

    orders = await buyer.sends("/orders", with_button("again:"))
    await buyer.taps(orders, "again:")
    await buyer.sends("/help")
    # Refused: an admin's command, a button of nobody's, a product gone.
    await buyer.sends("/addproduct")
    await buyer.tap_answer(welcome, "buy:999999:1", forged=True)
    await buyer.tap_answer(welcome, "zz:nothing", forged=True)
    await buyer.sends("/start p_999999")
    await settled(app)
    await buyer.quiet()

    flagged = _english_left(telegram)
    assert not flagged, report(flagged)


async def _cart_checkout(
    app: ShopApp, stripe_api: FakeStripe, buyer: PseudoPerson, key: int
) -> None:
    """Up to the stock in the cart (and a tap past it), one less, check out, pay."""
    card = await buyer.sends(f"/start p_{key}", with_button("ct:a:"))
    card = await buyer.taps(card, cb.QUANTITY.encode(key, 2), with_button(f"ct:a:{key}:2"))
    card = await buyer.taps(card, cb.QUANTITY.encode(key, 3), with_button("max:"))
    await buyer.tap_answer(card, data_of(card, "max:"))  # no more than the stock
    await buyer.tap_answer(card, data_of(card, "ct:a:"))
    cart = await buyer.sends("/cart", with_button("ct:c"))
    cart = await buyer.taps(cart, cb.CART_LESS.encode(key), with_button("ct:c"))
    pay = await buyer.taps(cart, "ct:c", with_link)
    assert await pay_and_notify(stripe_api, session_of(stripe_api, pay)) == 200
    await settled(app)


# --- the admin ------------------------------------------------------------------------------------


async def _paid_order(
    app: ShopApp, stripe_api: FakeStripe, buyer: PseudoPerson, product: int
) -> int:
    card = await buyer.sends(f"/start p_{product}", with_button("buy:"))
    pay = await buyer.taps(card, "buy:", with_link)
    session_id = session_of(stripe_api, pay)
    assert await pay_and_notify(stripe_api, session_id) == 200
    await settled(app)
    return (await order_of(app, session_id)).id


async def _add_product(admin: PseudoPerson) -> FakeMessage:
    """/addproduct through the wizard to its Save, a buyer's button tried on the preview."""
    await admin.sends("/addproduct")
    await admin.sends(NEW_TITLE)
    await admin.sends(NEW_ABOUT)
    kinds = await admin.sends("/skip", with_button("aw:k:"))
    rails = await admin.taps(kinds, "aw:k:", with_button("aw:r:"))
    await admin.taps(rails, "aw:r:")
    await admin.sends("12.50")
    await admin.sends(NEW_GOODS)
    confirm = await admin.sends(NEW_CATEGORY, with_button("aw:s:"))
    preview = next(
        m for m in admin.telegram.messages(ADMIN_ID) if m.message_id == confirm.message_id - 1
    )
    await admin.tap_answer(preview, data_of(preview, "aw:pv:"))
    return await admin.taps(confirm, "aw:s:", lambda m: m.message_id == confirm.message_id)


async def test_the_admins_story_speaks_only_the_catalog(
    pseudo_app: ShopApp,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    buyer: PseudoPerson,
    admin: PseudoPerson,
) -> None:
    app = pseudo_app
    await admin.sends("/help")
    await _add_product(admin)

    listing = await admin.sends("/products", with_button("ap:o:"))
    card = await admin.taps(listing, "ap:o:", with_button("ae:m:"))
    fields = await admin.taps(card, "ae:m:", with_button("ae:f:"))
    await admin.taps(fields, "ae:f:")
    await admin.sends(RENAMED)

    key = await stock_product(app, KEY, 499, KEYS[:1], description=KEY_HOWTO)
    products = await admin.sends("/stock", with_button("ak:p:"))
    await admin.taps(products, cb.STOCK_PRODUCT.encode(key))
    await admin.sends("ΚΛΕΙΔΙ-0002\nΚΛΕΙΔΙ-0003\nΚΛΕΙΔΙ-0002")
    await admin.sends("/stock 999999")

    ebook = await add_product(
        app, title=EBOOK, description=EBOOK_ABOUT, delivery_text=EBOOK_GOODS, price_minor=999
    )
    first = await _paid_order(app, stripe_api, buyer, ebook)
    second = await _paid_order(app, stripe_api, buyer, ebook)
    orders = await admin.sends("/orders", with_button("ao:o:"))
    detail = await admin.taps(orders, "ao:o:", with_button("ar:f:"))
    confirm = await admin.taps(detail, "ar:f:", with_button("ar:n:"))
    await admin.taps(confirm, "ar:n:")
    confirm = await admin.sends(f"/refund {first} 2.50", with_button("ar:y:"))
    await admin.taps(confirm, "ar:y:", lambda m: m.message_id == confirm.message_id)
    confirm = await admin.sends(f"/refund {second}", with_button("ar:y:"))
    await admin.taps(confirm, "ar:y:", lambda m: m.message_id == confirm.message_id)
    await admin.sends("/refund 999999")
    await settled(app)

    sales = await admin.sends("/sales", with_button("as:w:"))
    await admin.taps(sales, cb.SALES_WINDOW.encode("w"))
    await admin.sends("/orders")
    await settled(app)
    await admin.quiet()

    flagged = _english_left(telegram, RENAMED)
    assert not flagged, report(flagged)
