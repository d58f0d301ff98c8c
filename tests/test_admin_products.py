"""Admins add products with /addproduct, end to end through the Telegram fake, with buyers
checking what they can see afterwards."""

from __future__ import annotations

import asyncio

import pytest

from bot import texts
from bot.admin import dialog
from bot.admin.product_texts import terms_warning
from bot.app import ShopApp
from bot.config import Settings
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from storage import stock
from storage.models import ProductKind
from tests.admin_product_steps import (
    PRICE_ASKED,
    all_products,
    button_texts,
    kind_and_rail,
    preview_of,
    wizard_to_kind,
)
from tests.conftest import ADMIN_ID, BUYER_ID, start_app
from tests.english import EN
from tests.people import Person, shown
from tests.story import add_product, open_card

# --- /addproduct ---------------------------------------------------------------------------------


async def test_wizard_adds_a_digital_text_product_that_buyers_see_as_previewed(
    app: ShopApp, telegram: FakeTelegram, admin: Person, buyer: Person
) -> None:
    title = "Tom & Jerry <Deluxe>"
    await admin.sends("/addproduct", "Send the title")
    echoed = await admin.sends(title, "description")
    assert title in shown(echoed)
    await admin.sends("Cat <b>&</b> mouse", "Send a photo")
    kinds = await admin.sends("/skip", "What kind of product")
    assert button_texts(kinds) == [
        "📄 Digital text",
        "🔑 Digital stock",
        "📦 Physical",
        "🛎 Service",
    ]
    rails = await admin.taps(kinds, "Digital text", "How do buyers pay")
    assert "Chosen: 📄 Digital text" in shown(kinds) and not kinds.buttons()
    await admin.taps(rails, "Stripe", PRICE_ASKED)  # the merchant's choice, warned below
    await admin.sends("0.10", "too little")  # Stripe's minimum: the price is asked again
    await admin.sends("nine", "not a price I can read")
    await admin.sends("9.99", "Send the delivery text")
    await admin.sends("/skip", "needs its delivery text")  # the goods can't be skipped
    await admin.sends("Download: https://files.example/tj.pdf <3", "category")
    confirm = await admin.sends("Cartoons & co", "Save this product?")
    assert "Cartoons & co" in shown(confirm) and "https://files.example/tj.pdf <3" in shown(confirm)
    assert "Price: $9.99 · 💳 Stripe" in shown(confirm) and terms_warning(EN) in shown(confirm)
    preview = preview_of(telegram, confirm)
    telegram.user_taps(ADMIN_ID, preview, preview.button("Buy")["callback_data"])
    await asyncio.sleep(0.2)
    assert telegram.answered_callbacks[-1]["text"].startswith("This is a preview")
    assert await all_products(app) == []

    saved = await admin.taps(confirm, "Save", "Saved")
    [item] = await all_products(app)
    assert f"as product #{item.id}" in shown(saved)
    assert f"https://t.me/shop_test_bot?start=p_{item.id}" in shown(saved)
    assert (item.title, item.description, item.price_minor, item.currency) == (
        title,
        "Cat <b>&</b> mouse",
        999,
        "usd",
    )
    assert item.kind is ProductKind.DIGITAL_TEXT and item.category == "Cartoons & co"
    assert item.delivery_text == "Download: https://files.example/tj.pdf <3" and item.active

    catalog = await buyer.sends("/catalog", "Catalog")
    assert button_texts(catalog)[0] == "Tom & Jerry <Deluxe> — $9.99"
    card = await open_card(telegram, BUYER_ID, item.id)
    assert card.text == preview.text and card.entities == preview.entities
    assert button_texts(card) == button_texts(preview)


async def test_wizard_adds_a_stock_product_with_a_photo_and_items(
    app: ShopApp, telegram: FakeTelegram, admin: Person, buyer: Person
) -> None:
    kinds = await wizard_to_kind(admin, "Game key", photo=True)
    await kind_and_rail(admin, kinds, "Digital stock", "Send instructions", price="5 eur")
    await admin.sends("Redeem on the store's website.", "Send the items")
    got = await admin.sends("KEY-1\nKEY-2\n\nKEY-1\nKEY-3", "Got 3 items")
    assert "(1 repeated" in shown(got)
    confirm = await admin.sends("Games", "Save this product?")
    preview = preview_of(telegram, confirm)
    assert preview.photo is not None and "€5.00" in shown(preview)
    assert "3 left in stock" in shown(preview)
    saved = await admin.taps(confirm, "Save", "Saved")
    assert "Items in stock: 3 (1 skipped)" in shown(saved)

    [item] = await all_products(app)
    assert item.kind is ProductKind.DIGITAL_STOCK and item.currency == "eur"
    assert item.photo == telegram.calls_of("sendPhoto")[0].params["photo"]
    assert item.photo is not None and "user" in item.photo  # the admin's own photo, reused
    assert app.db is not None and await stock.available(app.db.reader, item.id) == 3
    card = await open_card(telegram, BUYER_ID, item.id)
    assert card.photo == item.photo and card.caption == preview.caption


async def test_wizard_adds_a_physical_product_in_an_existing_category(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    await add_product(app, title="Old poster", category="Posters")
    kinds = await wizard_to_kind(admin, "Mug", description="A big mug.")
    await kind_and_rail(admin, kinds, "Physical", "note to the buyer", price="1000 jpy")
    await admin.sends("/skip", "Which countries")  # item 27: a physical product's own
    categories = await admin.sends("/skip", "Tap a category")
    assert button_texts(categories) == ["Posters", "No category"]
    confirm = await admin.taps(categories, "Posters", "Save this product?")
    assert "¥1,000" in shown(preview_of(telegram, confirm))
    await admin.taps(confirm, "Save", "Saved")
    mug = (await all_products(app))[-1]
    assert (mug.title, mug.kind, mug.category) == ("Mug", ProductKind.PHYSICAL, "Posters")
    assert (mug.price_minor, mug.currency, mug.delivery_text) == (1000, "jpy", "")


async def test_wizard_adds_a_service_without_category(
    app: ShopApp, telegram: FakeTelegram, admin: Person, buyer: Person
) -> None:
    kinds = await wizard_to_kind(admin, "Consultation")
    await kind_and_rail(admin, kinds, "Service", "your note", price="120")
    categories = await admin.sends("I will email you to book a time.", "Tap a category")
    confirm = await admin.taps(categories, "No category", "Save this product?")
    await admin.taps(confirm, "Save", "Saved")
    [item] = await all_products(app)
    assert item.kind is ProductKind.SERVICE and item.category is None
    assert item.delivery_text == "I will email you to book a time."
    catalog = await buyer.sends("/catalog", "Catalog")
    assert button_texts(catalog) == ["Consultation — $120.00", "🛒 Cart"]


async def test_cancel_midway_and_discard_at_the_end_save_nothing(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    await admin.sends("/addproduct", "Send the title")
    await admin.sends("Half done", "description")
    await admin.sends("/cancel", "Cancelled the new product")
    await admin.sends("/skip", "I don't know that command")  # the dialog is over
    telegram.user_sends(ADMIN_ID, "9.99")
    await admin.nothing_more()

    kinds = await wizard_to_kind(admin, "Almost")
    await kind_and_rail(admin, kinds, "Service", "your note")
    categories = await admin.sends("/skip", "Tap a category")
    confirm = await admin.taps(categories, "No category", "Save this product?")
    await admin.taps(confirm, "Cancel", "nothing was saved")
    assert await all_products(app) == []
    assert not confirm.buttons()


async def test_save_tapped_twice_saves_once_and_old_wizard_buttons_expire(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    kinds = await wizard_to_kind(admin, "Only once")
    await kind_and_rail(admin, kinds, "Service", "your note")
    categories = await admin.sends("/skip", "Tap a category")
    confirm = await admin.taps(categories, "No category", "Save this product?")
    save = confirm.button("Save")["callback_data"]
    telegram.user_taps(ADMIN_ID, confirm, save)
    telegram.user_taps(ADMIN_ID, confirm, save)
    await telegram.wait_for(ADMIN_ID, lambda m: "Saved" in shown(m))
    await asyncio.sleep(0.3)
    assert len(await all_products(app)) == 1
    # Item 27: an admin's expired button answers in admin words, not the buyer's /catalog.
    assert texts.admin_button_expired(EN) in [a["text"] for a in telegram.answered_callbacks]

    telegram.user_taps(ADMIN_ID, kinds, "aw:k:1:physical", check_keyboard=False)
    await asyncio.sleep(0.2)
    assert telegram.answered_callbacks[-1]["text"] == texts.admin_button_expired(EN)
    assert "/products" in texts.admin_button_expired(EN)


async def test_an_unfinished_wizard_times_out_and_says_so(
    settings: Settings,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dialog, "DIALOG_TIMEOUT", 0.5)
    app = await start_app(settings, telegram, stripe_api)
    try:
        admin = Person(telegram, ADMIN_ID)
        await admin.sends("/addproduct", "Send the title")
        await admin.sends("Forgotten", "description")
        closed = await telegram.wait_for(ADMIN_ID, lambda m: "No answer for" in shown(m))
        assert "closed the new product (/addproduct) — nothing was saved" in shown(closed)
        telegram.user_sends(ADMIN_ID, "A description nobody asked for")
        await admin.nothing_more()
        assert await all_products(app) == []
    finally:
        await app.stop()
