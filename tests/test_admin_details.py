"""The admin's smaller rough edges (item 27): answered questions lose their buttons, a stock
product without items can wait hidden, /stock alone offers the stock products, and a physical
product may ship to its own countries."""

from __future__ import annotations

import pytest

from bot.app import ShopApp
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from storage.models import ProductKind
from tests.conftest import ADMIN_ID
from tests.story import add_product
from tests.test_admin_products import Person, open_admin_card, shown, wizard_to_kind


@pytest.fixture
def admin(telegram: FakeTelegram) -> Person:
    return Person(telegram, ADMIN_ID)


def now_of(telegram: FakeTelegram, message: FakeMessage) -> FakeMessage:
    """The message as the chat shows it now (edits included)."""
    return next(m for m in telegram.messages(ADMIN_ID) if m.message_id == message.message_id)


async def test_wizard_questions_lose_their_buttons_once_answered(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    await add_product(app, title="Old poster", category="Posters")
    kinds = await wizard_to_kind(admin, "Mug")
    await admin.taps(kinds, "Service", "your note")
    categories = await admin.sends("/skip", "Tap a category")
    confirm = await admin.taps(categories, "Posters", "Save this product?")
    assert now_of(telegram, categories).buttons() == []
    await admin.sends("/cancel", "Cancelled the new product")
    assert now_of(telegram, confirm).buttons() == []  # no Save left to tap

    kinds = await wizard_to_kind(admin, "Cup")
    await admin.taps(kinds, "Service", "your note")
    categories = await admin.sends("/skip", "Tap a category")
    await admin.sends("Kitchen", "Save this product?")  # typed instead of tapped
    assert now_of(telegram, categories).buttons() == []


async def test_the_edit_menu_and_category_buttons_go_once_used(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    await add_product(app, title="Ebook")
    await add_product(app, title="Other", category="Books")
    card = await open_admin_card(admin, "Ebook")
    menu = await admin.taps(card, "Edit", "What do you want to change?")
    chooser = await admin.taps(menu, "Category", "Tap a category")
    assert now_of(telegram, menu).buttons() == []  # the field is chosen
    await admin.taps(chooser, "Books", "Category updated")
    assert now_of(telegram, chooser).buttons() == []
