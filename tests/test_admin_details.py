"""The admin's smaller rough edges (item 27): answered questions lose their buttons, a stock
product without items can wait hidden, /stock alone offers the stock products, and a physical
product may ship to its own countries."""

from __future__ import annotations

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from tests.admin_product_steps import (
    all_products,
    kind_and_rail,
    open_admin_card,
    wizard_to_kind,
)
from tests.conftest import ADMIN_ID, BUYER_ID, OTHER_BUYER_ID
from tests.people import Person, shown
from tests.story import add_product, buy, open_card, session_of


def now_of(telegram: FakeTelegram, message: FakeMessage) -> FakeMessage:
    """The message as the chat shows it now (edits included)."""
    return next(m for m in telegram.messages(ADMIN_ID) if m.message_id == message.message_id)


async def test_wizard_questions_lose_their_buttons_once_answered(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    await add_product(app, title="Old poster", category="Posters")
    kinds = await wizard_to_kind(admin, "Mug")
    await kind_and_rail(admin, kinds, "Service", "your note")
    categories = await admin.sends("/skip", "Tap a category")
    confirm = await admin.taps(categories, "Posters", "Save this product?")
    assert now_of(telegram, categories).buttons() == []
    await admin.sends("/cancel", "Cancelled the new product")
    assert now_of(telegram, confirm).buttons() == []  # no Save left to tap

    kinds = await wizard_to_kind(admin, "Cup")
    await kind_and_rail(admin, kinds, "Service", "your note")
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


async def test_a_stock_product_without_items_can_wait_hidden_until_stocked(
    app: ShopApp, telegram: FakeTelegram, admin: Person, buyer: Person
) -> None:
    kinds = await wizard_to_kind(admin, "Game key")
    await kind_and_rail(admin, kinds, "Digital stock", "Send instructions")
    await admin.sends("/skip", "Send the items")
    categories = await admin.sends("/skip", "No items yet")
    confirm = await admin.taps(categories, "No category", "Keep it hidden until")
    assert [b["text"] for b in confirm.buttons()] == [
        "✅ Save, hidden until stocked",
        "Save and show it now",
        "✖️ Cancel",
    ]
    saved = await admin.taps(confirm, "hidden until stocked", "Saved")
    assert "Hidden until it has items" in shown(saved)
    [item] = await all_products(app)
    assert not item.active and item.show_when_stocked
    await buyer.sends("/catalog", "no products yet")  # not "Sold out" in the catalog

    choices = await admin.sends("/stock", "Which product gets items?")
    assert [b["text"] for b in choices.buttons()] == [f"#{item.id} Game key · 0 left"]
    await admin.taps(choices, "Game key", "Items for Game key")
    assert now_of(telegram, choices).buttons() == []
    added = await admin.sends("KEY-1\nKEY-2", "added 2 items")
    assert "it is now shown in the catalog" in shown(added)
    catalog = await buyer.sends("/catalog", "Catalog")
    assert [b["text"] for b in catalog.buttons()] == ["Game key — $9.99", "🛒 Cart"]
    more = await admin.sends(f"/stock {item.id}\nKEY-3", "added 1 item")
    assert "now shown" not in shown(more)


async def test_a_physical_product_ships_to_its_own_countries(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe, admin: Person
) -> None:
    kinds = await wizard_to_kind(admin, "Mug")
    await kind_and_rail(admin, kinds, "Physical", "note to the buyer")
    await admin.sends("/skip", "Which countries do you ship it to?")
    await admin.sends("nl, Atlantis", "doesn't ship to ATLANTIS")
    categories = await admin.sends("nl be", "Ships to NL, BE")
    confirm = await admin.taps(categories, "No category", "Save this product?")
    assert "Ships to: NL, BE" in shown(confirm)
    await admin.taps(confirm, "Save", "Saved")
    [mug] = await all_products(app)
    assert mug.shipping_countries == ("NL", "BE")
    pay = await buy(telegram, BUYER_ID, await open_card(telegram, BUYER_ID, mug.id))
    params = stripe_api.sessions[session_of(stripe_api, pay)]
    assert params["shipping_address_collection"]["allowed_countries"] == ["NL", "BE"]

    card = await open_admin_card(admin, "Mug")
    assert "🌍 Ships to: NL, BE" in shown(card)
    menu = await admin.taps(card, "Edit", "What do you want to change?")
    await admin.taps(menu, "Ships to", "Which countries")
    updated = await admin.sends("/skip", "Ships to updated")
    assert "Ships to: the shop's list" in shown(updated)
    other = OTHER_BUYER_ID  # the first buyer's open payment link would be reused
    again = await buy(telegram, other, await open_card(telegram, other, mug.id))
    params = stripe_api.sessions[session_of(stripe_api, again)]
    assert params["shipping_address_collection"]["allowed_countries"] == [
        "US", "CA", "GB", "DE", "FR"
    ]  # fmt: skip

    ebook = await add_product(app, title="Ebook")
    card = await open_admin_card(admin, "Ebook")
    menu = await admin.taps(card, "Edit", "What do you want to change?")
    assert not [b for b in menu.buttons() if "Ships to" in b["text"]]
    assert ebook
