"""A rail per product (issue 13, item 1) at the admin's edge, end to end through the Telegram
stand-in: /addproduct suggests Telegram Stars for digital goods and Stripe for the rest, asks
only the prices the chosen rail needs and refuses Stars for physical goods; /products shows
each rail's price, warns about digital goods sold by card only, and edits Payment and the
Stars price."""

from __future__ import annotations

import asyncio

from bot.admin.product_texts import list_warning, physical_not_stars, rail_rule, terms_warning
from bot.app import ShopApp
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from storage.models import ProductKind, ProductRail
from tests.admin_product_steps import (
    PRICE_ASKED,
    STARS_ASKED,
    all_products,
    button_texts,
    kind_and_rail,
    open_admin_card,
    preview_of,
    product,
    wizard_to_kind,
)
from tests.conftest import ADMIN_ID, BUYER_ID
from tests.english import EN
from tests.people import Person, shown
from tests.story import add_product, open_card

SUGGESTED = " · suggested"


async def _refusal(telegram: FakeTelegram, message: FakeMessage, button: str) -> str:
    """Tap a button and return the alert it is answered with."""
    answered = len(telegram.answered_callbacks)
    telegram.user_taps(ADMIN_ID, message, message.button(button)["callback_data"])
    for _ in range(50):
        if len(telegram.answered_callbacks) > answered:
            answer = telegram.answered_callbacks[answered]
            assert answer["show_alert"]
            return str(answer["text"])
        await asyncio.sleep(0.05)
    raise AssertionError(f"no answer to {button}")


async def test_digital_kinds_suggest_stars_and_the_others_stripe_with_the_rule_explained(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    suggested = {
        "Digital text": "⭐ Telegram Stars",
        "Digital stock": "⭐ Telegram Stars",
        "Physical": "💳 Stripe",
        "Service": "💳 Stripe",
    }
    for kind, rail in suggested.items():
        kinds = await wizard_to_kind(admin, f"A {kind}")
        question = await admin.taps(kinds, kind, "How do buyers pay")
        assert rail_rule(EN).replace("<b>", "").replace("</b>", "") in shown(question)
        assert [text for text in button_texts(question) if text.endswith(SUGGESTED)] == [
            rail + SUGGESTED
        ]
        assert len(button_texts(question)) == 3
        await admin.sends("/cancel", "nothing was saved")
    assert await all_products(app) == []


async def test_a_stars_only_ebook_skips_the_card_price_and_keeps_stars_whole(
    app: ShopApp, telegram: FakeTelegram, admin: Person, buyer: Person
) -> None:
    kinds = await wizard_to_kind(admin, "Tom & <Jerry>")
    question = await admin.taps(kinds, "Digital text", "How do buyers pay")
    await admin.taps(question, "Stars", STARS_ASKED)
    assert "Chosen: ⭐ Telegram Stars" in shown(question) and not question.buttons()
    await admin.sends("1.5", "Stars are whole")
    await admin.sends("0", "at least 1 Star")
    await admin.sends("10001", "at most 10,000 Stars")
    await admin.sends("9.99 usd", "whole number of Stars")
    await admin.sends("1,500", "Send the delivery text")  # no price by card was asked
    categories = await admin.sends("Download: https://files.example/tj.pdf", "category")
    confirm = await admin.taps(categories, "No category", "Save this product?")
    assert "Price: ⭐ 1,500 · ⭐ Telegram Stars" in shown(confirm)
    assert terms_warning(EN) not in shown(confirm)
    assert "⭐ 1,500" in shown(preview_of(telegram, confirm))  # as buyers will see it
    await admin.taps(confirm, "Save", "Saved")

    [ebook] = await all_products(app)
    assert (ebook.rail, ebook.stars_price) == (ProductRail.STARS, 1500)
    assert (ebook.price_minor, ebook.currency) == (1500, "xtr")  # no stale card price
    assert "⭐ 1,500" in shown(await open_card(telegram, BUYER_ID, ebook.id))


async def test_both_asks_the_card_price_then_the_stars_price(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    kinds = await wizard_to_kind(admin, "Game key")
    await kind_and_rail(
        admin, kinds, "Digital stock", "Send instructions", rail="Both", price="5 eur", stars="250"
    )
    await admin.sends("/skip", "Send the items")
    categories = await admin.sends("KEY-1", "Got 1 item")
    confirm = await admin.taps(categories, "No category", "Save this product?")
    assert "Price: €5.00 · ⭐ 250 · 💳 + ⭐ Both" in shown(confirm)
    await admin.taps(confirm, "Save", "Saved")
    [key] = await all_products(app)
    assert (key.rail, key.stars_price, key.price_minor, key.currency) == (
        ProductRail.BOTH,
        250,
        500,
        "eur",
    )


async def test_a_physical_product_cannot_be_sold_for_stars(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    kinds = await wizard_to_kind(admin, "Mug")
    question = await admin.taps(kinds, "Physical", "How do buyers pay")
    assert physical_not_stars(EN) in shown(question)
    assert await _refusal(telegram, question, "Stars") == physical_not_stars(EN)
    assert await _refusal(telegram, question, "Both") == physical_not_stars(EN)
    assert len(question.buttons()) == 3  # still asking
    await admin.taps(question, "Stripe", PRICE_ASKED)
    await admin.sends("12", "note to the buyer")
    await admin.sends("/skip", "Which countries")
    categories = await admin.sends("/skip", "Tap a category")
    confirm = await admin.taps(categories, "No category", "Save this product?")
    assert "Price: $12.00 · 💳 Stripe" in shown(confirm) and "⚠️" not in shown(confirm)
    await admin.taps(confirm, "Save", "Saved")
    [mug] = await all_products(app)
    assert (mug.kind, mug.rail, mug.stars_price) == (ProductKind.PHYSICAL, ProductRail.STRIPE, None)

    card = await open_admin_card(admin, "Mug")
    menu = await admin.taps(card, "Edit", "What do you want to change?")
    assert "Payment" not in button_texts(menu) and "Stars price" not in button_texts(menu)
    forged = f"ae:r:{mug.id}:stars"
    telegram.user_taps(ADMIN_ID, menu, forged, check_keyboard=False)
    await asyncio.sleep(0.3)
    assert (await product(app, mug.id)).rail is ProductRail.STRIPE


async def test_products_warns_about_a_card_only_ebook_and_not_about_a_mug(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    await add_product(app, title="Tom & <Jerry>")  # an ebook from before the rails: Stripe
    await add_product(app, title="Mug", kind=ProductKind.PHYSICAL, price_minor=1200)
    await add_product(
        app,
        title="Key",
        kind=ProductKind.DIGITAL_STOCK,
        rail=ProductRail.BOTH,
        stars_price=75,
    )
    listing = await admin.sends("/products", "Products")
    text = shown(listing)
    assert text.count(list_warning(EN)) == 1
    ebook_at, warning_at, mug_at = (
        text.index(s) for s in ("Tom & <Jerry>", list_warning(EN), "Mug")
    )
    assert ebook_at < warning_at < mug_at  # under the ebook
    assert "🔑 Digital stock · $9.99 · ⭐ 75 · 0 available" in text

    ebook = await open_admin_card(admin, "Tom & <Jerry>")
    assert "💰 $9.99 · 💳 Stripe" in shown(ebook) and terms_warning(EN) in shown(ebook)
    mug = await open_admin_card(admin, "Mug")
    assert "💰 $12.00 · 💳 Stripe" in shown(mug) and "⚠️" not in shown(mug)


async def test_editing_payment_asks_only_the_price_a_rail_adds(
    app: ShopApp, telegram: FakeTelegram, admin: Person, buyer: Person
) -> None:
    product_id = await add_product(app, title="Ebook", price_minor=999)
    card = await open_admin_card(admin, "Ebook")
    menu = await admin.taps(card, "Edit", "What do you want to change?")
    question = await admin.taps(menu, "Payment", "Tap how buyers pay")
    assert "Now: $9.99 · 💳 Stripe" in shown(question)
    await admin.taps(question, "Stars", "needs a price in Stars")
    await admin.sends("many", "whole number of Stars")
    updated = await admin.sends("120", "Payment updated")
    assert "💰 ⭐ 120 · ⭐ Telegram Stars" in shown(updated) and "⚠️" not in shown(updated)
    stored = await product(app, product_id)
    assert (stored.rail, stored.stars_price, stored.price_minor, stored.currency) == (
        ProductRail.STARS,
        120,
        120,
        "xtr",
    )
    assert "⭐ 120" in shown(await open_card(telegram, BUYER_ID, product_id))

    menu = await admin.taps(updated, "Edit", "What do you want to change?")
    assert "Price" not in button_texts(menu) and "Stars price" in button_texts(menu)
    await admin.taps(menu, "Stars price", "Now: ⭐ 120")
    await admin.sends("20000", "at most 10,000 Stars")
    updated = await admin.sends("99", "Stars price updated")
    assert (await product(app, product_id)).price_minor == 99  # the shown price follows

    menu = await admin.taps(updated, "Edit", "What do you want to change?")
    question = await admin.taps(menu, "Payment", "Tap how buyers pay")
    await admin.taps(question, "Both", "needs a price by card")
    updated = await admin.sends("4.50 eur", "Payment updated")
    assert "💰 €4.50 · ⭐ 99 · 💳 + ⭐ Both" in shown(updated)

    menu = await admin.taps(updated, "Edit", "What do you want to change?")
    question = await admin.taps(menu, "Payment", "Tap how buyers pay")
    updated = await admin.taps(question, "Stripe", "Payment updated")  # nothing to ask
    assert "💰 €4.50 · 💳 Stripe" in shown(updated) and terms_warning(EN) in shown(updated)
    stored = await product(app, product_id)
    assert (stored.rail, stored.stars_price, stored.price_minor, stored.currency) == (
        ProductRail.STRIPE,
        None,
        450,
        "eur",
    )
