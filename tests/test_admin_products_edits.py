"""Admins manage the catalog with /products: edit, hide, reorder and delete, and buyers see it."""

from __future__ import annotations

import asyncio

from bot.app import ShopApp
from sandbox.fake_telegram import FakeTelegram
from storage import orders, products, stock
from storage.models import ProductKind
from tests.admin_product_steps import all_products, button_texts, open_admin_card, product
from tests.conftest import ADMIN_ID, BUYER_ID
from tests.people import Person, shown
from tests.story import add_product, open_card

# --- /products -----------------------------------------------------------------------------------


async def test_products_lists_state_kind_price_and_stock(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    await add_product(app, title="Ebook", price_minor=1250)
    keys = await add_product(app, title="Keys", kind=ProductKind.DIGITAL_STOCK, active=False)
    for number in range(9):
        await add_product(app, title=f"Filler {number}")
    assert app.db is not None
    async with app.db.transaction() as tx:
        await stock.add_items(tx, keys, ["A", "B"])
    listing = await admin.sends("/products", "Products")
    assert "11 in all · page 1 of 2" in shown(listing)
    assert "✅ shown · 📄 Digital text · $12.50" in shown(listing)
    assert "🙈 hidden · 🔑 Digital stock · $9.99 · 2 available · 0 reserved" in shown(listing)
    assert len([t for t in button_texts(listing) if t.startswith("#")]) == 8
    page2 = await admin.taps(listing, "Next", "page 2 of 2")
    assert page2.message_id == listing.message_id
    assert [t for t in button_texts(page2) if t.startswith("#")] == [
        "#9 Filler 6",
        "#10 Filler 7",
        "#11 Filler 8",
    ]


async def test_edit_price_bad_then_good_and_buyers_see_the_new_price(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    product_id = await add_product(app, title="Ebook", price_minor=999)
    card = await open_admin_card(admin, "Ebook")
    fields = await admin.taps(card, "Edit", "What do you want to change?")
    prompt = await admin.taps(fields, "Price", "Now: $9.99")
    assert prompt.message_id != card.message_id
    await admin.sends("0.10", "too little")
    updated = await admin.sends("12.50 eur", "Price updated")
    assert "💰 €12.50" in shown(updated)
    assert (await product(app, product_id)).price_minor == 1250
    buyer_card = await open_card(telegram, BUYER_ID, product_id)
    assert "€12.50" in shown(buyer_card)


async def test_edit_title_category_and_removing_the_description(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    product_id = await add_product(app, title="Ebook", description="Old words.")
    await add_product(app, title="Other", category="Books")
    card = await open_admin_card(admin, "Ebook")
    fields = await admin.taps(card, "Edit", "What do you want to change?")
    await admin.taps(fields, "Title", "Send the new title")
    await admin.sends("x" * 129, "the most is 128")
    updated = await admin.sends("Ebook <2nd edition>", "Title updated")
    fields = await admin.taps(updated, "Edit", "What do you want to change?")
    await admin.taps(fields, "Description", "or /skip to remove it")
    updated = await admin.sends("/skip", "Description updated")
    fields = await admin.taps(updated, "Edit", "What do you want to change?")
    chooser = await admin.taps(fields, "Category", "Tap a category")
    updated = await admin.taps(chooser, "Books", "Category updated")
    fields = await admin.taps(updated, "Edit", "What do you want to change?")
    await admin.taps(fields, "Photo", "Send the new photo")
    await admin.sends("a photo, honestly", "Please send a photo")
    updated = await admin.sends_photo("Photo updated")
    assert "🖼 Photo: yes" in shown(updated)
    edited = await product(app, product_id)
    assert (edited.title, edited.description, edited.category) == (
        "Ebook <2nd edition>",
        "",
        "Books",
    )
    assert edited.photo is not None
    buyer_card = await open_card(telegram, BUYER_ID, product_id)
    assert buyer_card.photo == edited.photo and "Ebook <2nd edition>" in shown(buyer_card)


async def test_one_dialog_at_a_time_and_quick_stock_keeps_the_wizard_going(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    keys = await add_product(app, title="Keys", kind=ProductKind.DIGITAL_STOCK)
    await admin.sends("/addproduct", "Send the title")
    await admin.sends("Draft", "description")
    await admin.sends(f"/stock {keys}\nK-1", "added 1 item")  # done at once: no new dialog
    await admin.sends("Still the wizard's description", "Send a photo")

    card = await open_admin_card(admin, "Keys")
    fields = await admin.taps(card, "Edit", "What do you want to change?")
    prompt = await admin.taps(fields, "Price", "Now: $9.99")
    assert "Left the new product (/addproduct) unfinished: nothing was saved" in shown(prompt)
    await admin.sends("4.00", "Price updated")  # the edit got it, not the wizard
    assert [p.title for p in await all_products(app)] == ["Keys"]
    assert (await product(app, keys)).price_minor == 400


async def test_hide_then_show_again(
    app: ShopApp, telegram: FakeTelegram, admin: Person, buyer: Person
) -> None:
    product_id = await add_product(app, title="Ebook")
    card = await open_admin_card(admin, "Ebook")
    card = await admin.taps(card, "Hide", "Hidden from buyers")
    await buyer.sends("/catalog", "no products yet")
    await buyer.sends(f"/start p_{product_id}", "no longer available")
    card = await admin.taps(card, "Show", "Shown in the catalog")
    catalog = await buyer.sends("/catalog", "Catalog")
    assert button_texts(catalog) == ["Ebook — $9.99", "🛒 Cart"]


async def test_reorder_moves_products_for_buyers_too(
    app: ShopApp, telegram: FakeTelegram, admin: Person, buyer: Person
) -> None:
    for title in ("Alpha", "Beta", "Gamma"):
        await add_product(app, title=title)
    card = await open_admin_card(admin, "Gamma")
    assert "place 3 of 3" in shown(card)
    card = await admin.taps(card, "Move up", "place 2 of 3")
    card = await admin.taps(card, "Move up", "place 1 of 3")
    telegram.user_taps(ADMIN_ID, card, card.button("Move up")["callback_data"])
    await asyncio.sleep(0.3)
    assert telegram.answered_callbacks[-1]["text"] == "Already first."
    card = await admin.taps(card, "Move down", "place 2 of 3")
    listing = await admin.taps(card, "All products", "Products")
    assert [t for t in button_texts(listing) if t.startswith("#")] == [
        "#1 Alpha",
        "#3 Gamma",
        "#2 Beta",
    ]
    catalog = await buyer.sends("/catalog", "Catalog")
    assert button_texts(catalog) == ["Alpha — $9.99", "Gamma — $9.99", "Beta — $9.99", "🛒 Cart"]


async def test_delete_erases_an_unordered_product_and_archives_an_ordered_one(
    app: ShopApp, telegram: FakeTelegram, admin: Person, buyer: Person
) -> None:
    unordered = await add_product(app, title="Nobody wants")
    ordered = await add_product(app, title="Popular")
    assert app.db is not None
    async with app.db.transaction() as tx:
        await orders.create(
            tx,
            buyer_user_id=BUYER_ID,
            buyer_chat_id=BUYER_ID,
            buyer_name="Buyer",
            lines=[orders.NewLine(ordered, "Popular", ProductKind.DIGITAL_TEXT, 999, 1)],
            currency="usd",
            expires_at=2_000_000_000,
        )

    card = await open_admin_card(admin, "Nobody wants")
    ask = await admin.taps(card, "Delete", "Delete Nobody wants?")
    card = await admin.taps(ask, "No, keep it", "place")  # changed their mind
    ask = await admin.taps(card, "Delete", "Delete Nobody wants?")
    done = await admin.taps(ask, "Yes, delete", "was deleted")
    assert await products.get(app.db.reader, unordered) is None

    listing = await admin.taps(done, "All products", "Products")
    card = await admin.taps(listing, "Popular", "place")
    ask = await admin.taps(card, "Delete", "Delete Popular?")
    await admin.taps(ask, "Yes, delete", "was archived")
    archived = await product(app, ordered)
    assert archived.archived and not archived.active
    assert await orders.get(app.db.reader, 1) is not None
    await admin.sends("/products", "No products yet")
    await buyer.sends(f"/start p_{ordered}", "no longer available")
