"""/language in the middle of something (issue 14, tests: "/language switching mid-dialog"): an
admin halfway through the real /addproduct wizard, a buyer with a cart open, a buyer whose
/paysupport question is open. The switch is answered in Spanish, the dialog neither takes
/language for an answer nor ends, and goes on from the step it was at.

The app runs on the test's own catalog (tests/language_catalogs.py): the wizard's, the cart's
and the question's texts stay English there, so the steps are found by their English words
whatever language the person picked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import callbacks as cb
from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from storage import carts
from tests.admin_product_steps import all_products, kind_and_rail
from tests.cart_steps import add_from_card, open_cart, tap_and_see
from tests.conftest import ADMIN_ID, BUYER_ID
from tests.language_catalogs import CHOSEN_ES, MENU_EN, MENU_ES, app_speaking, chosen
from tests.people import Person, shown
from tests.story import add_product


@pytest.fixture
async def app(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> AsyncIterator[ShopApp]:
    async with app_speaking(tmp_path, telegram, stripe_api) as speaking:
        yield speaking


async def test_an_admin_switches_language_halfway_through_addproduct_and_carries_on(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    await admin.sends("/addproduct", "Send the title")
    await admin.sends("Tea set", "description")
    menu = await admin.sends("/language", MENU_EN)
    await admin.taps(menu, "Español", CHOSEN_ES)
    await admin.nothing_more()  # the wizard took neither the command nor the tap as an answer
    assert await chosen(app, ADMIN_ID) == "es"

    await admin.sends("Fine porcelain", "Send a photo")  # still at the description step
    kinds = await admin.sends("/skip", "What kind of product")
    # Again while the wizard waits for a button of its own: the menu is in Spanish now.
    menu = await admin.sends("/language", MENU_ES)
    await admin.taps(menu, "Español", CHOSEN_ES)
    await admin.nothing_more()
    await kind_and_rail(admin, kinds, "Digital text", "Send the delivery text")
    await admin.sends("Download: https://files.example/tea.pdf", "category")
    confirm = await admin.sends("Kitchen", "Save this product?")
    await admin.taps(confirm, "Save", "Saved")

    [product] = await all_products(app)
    assert (product.title, product.description, product.category) == (
        "Tea set",
        "Fine porcelain",
        "Kitchen",
    )
    assert product.delivery_text == "Download: https://files.example/tea.pdf"


async def test_a_buyer_switches_language_with_the_cart_open_and_the_cart_carries_on(
    app: ShopApp, telegram: FakeTelegram, buyer: Person
) -> None:
    ebook = await add_product(app, title="Ebook", price_minor=1200)
    await add_from_card(telegram, BUYER_ID, ebook)
    view = await open_cart(telegram, BUYER_ID)
    assert "Ebook" in shown(view)

    menu = await buyer.sends("/language", MENU_EN)
    await buyer.taps(menu, "Español", CHOSEN_ES)
    await buyer.nothing_more()

    # The cart's own buttons go on working on the same message.
    await tap_and_see(telegram, BUYER_ID, view, cb.CART_MORE.encode(ebook), "Ebook")
    assert app.db is not None
    assert await carts.quantity_of(app.db.reader, BUYER_ID, ebook) == 2
    await buyer.sends("/language", MENU_ES)  # and every update after the choice speaks it


async def test_a_buyer_switches_language_with_a_paysupport_question_open_and_still_asks(
    app: ShopApp, telegram: FakeTelegram, buyer: Person
) -> None:
    await buyer.sends("/paysupport", "You have no orders yet")  # the question is open
    menu = await buyer.sends("/language", MENU_EN)
    await buyer.taps(menu, "Español", CHOSEN_ES)
    await buyer.sends("I was charged twice", "passed your question on")
    asked = await telegram.wait_for(ADMIN_ID, lambda m: "I was charged twice" in shown(m))
    assert "Payment support question" in shown(asked)
