"""Telegram measures its limits in UTF-16 code units (an emoji is two): the admin is told at
once when a field would not fit, and what is already stored is still shown (items 18, 19)."""

from __future__ import annotations

from bot.app import ShopApp
from sandbox.fake_telegram import FakeTelegram, utf16_len
from storage import stock
from storage.models import ProductKind
from tests.admin_product_steps import all_products, kind_and_rail, wizard_to_kind
from tests.conftest import BUYER_ID
from tests.people import Person, shown
from tests.story import add_product, open_card


async def test_emoji_fields_are_measured_as_telegram_counts_them(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    await admin.sends("/addproduct", "Send the title")
    await admin.sends("😀" * 65, "the most is 128")  # 65 characters, 130 units
    await admin.sends("Smiles", "description")
    refused = await admin.sends("😀" * 800, "the most is 800")
    assert "1,600 characters (emoji and some symbols count as two)" in shown(refused)
    await admin.sends("😀" * 400, "Send a photo")  # exactly 800 units: fine
    kinds = await admin.sends("/skip", "What kind of product")
    await kind_and_rail(admin, kinds, "Digital text", "Send the delivery text")
    refused = await admin.sends("🎁" * 2100, "the most is 3,000")  # would fail delivery for good
    assert "4,200 characters" in shown(refused)
    categories = await admin.sends("🎁" * 1500, "category")  # 3,000 units: fine
    confirm = await admin.taps(categories, "No category", "Save this product?")
    await admin.taps(confirm, "Save", "Saved")
    [item] = await all_products(app)
    assert utf16_len(item.description) == 800 and utf16_len(item.delivery_text) == 3000


async def test_a_long_emoji_description_still_fits_a_photo_card(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    # Stored before the rule above (or by hand): the card clips it to Telegram's 1,024 units.
    product_id = await add_product(
        app, title="🌟" * 60, description="😀" * 800, photo="https://img.example/p.jpg"
    )
    card = await open_card(telegram, BUYER_ID, product_id)
    assert card.caption is not None and utf16_len(card.caption) <= 1024
    assert card.caption.endswith("$9.99") and "😀…" in card.caption


async def test_stock_lines_split_only_at_newlines_and_control_characters_are_refused(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    product_id = await add_product(app, title="Keys", kind=ProductKind.DIGITAL_STOCK)
    refused = await admin.sends(
        f"/stock {product_id}\nKEY-A\nKEY\x0cB\nKEY\x1eC\nKEY-D", "control characters"
    )
    assert "2 lines contain" in shown(refused) and "lines 2, 3" in shown(refused)
    assert app.db is not None and await stock.available(app.db.reader, product_id) == 0

    await admin.sends(f"/stock {product_id}", "Items for Keys")
    refused = await admin.sends_file(
        "keys.txt", "KEY-1\r\nKEY\u20282\nKEY\x003\n".encode(), "control characters"
    )
    assert "2 lines contain" in shown(refused) and "lines 2, 3" in shown(refused)
    added = await admin.sends_file("keys.txt", b"KEY-1\r\nKEY-2\r\n", "added 2 items")
    assert "Available now: 2" in shown(added)
    items = sorted(
        row["content"]
        for row in await app.db.reader.execute_fetchall(
            "SELECT content FROM stock_items WHERE product_id = ?", (product_id,)
        )
    )
    assert items == ["KEY-1", "KEY-2"]
    # An item is measured as Telegram counts it too: 200 emoji are 400 units, over 256.
    skipped = await admin.sends(f"/stock {product_id}\n{'🔑' * 200}\n{'🔑' * 128}", "added 1")
    assert "skipped 1" in shown(skipped) and f"over {stock.MAX_ITEM_CHARS}" in shown(skipped)


async def test_the_wizard_refuses_control_characters_in_items_too(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    kinds = await wizard_to_kind(admin, "Codes")
    await kind_and_rail(admin, kinds, "Digital stock", "Send instructions", rail="Stars")
    await admin.sends("/skip", "Send the items")
    await admin.sends("CODE-1\nCODE\x0c2", "1 line contain")
    await admin.sends("CODE-1\nCODE-2", "Got 2 items")
