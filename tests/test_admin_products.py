"""Admins manage the catalog from the chat — /addproduct, /products, /stock — end to end through
the Telegram fake, with buyers checking what they can see afterwards."""

from __future__ import annotations

import asyncio

import pytest

from bot import admin_products, texts
from bot.app import ShopApp
from bot.config import Settings
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from storage import orders, products, stock
from storage.models import Product, ProductKind
from tests.conftest import ADMIN_ID, BUYER_ID, start_app
from tests.story import add_product, open_card


def shown(message: FakeMessage) -> str:
    """What a person reads on the message: its text, or a photo's caption."""
    return message.text or message.caption or ""


class Person:
    """Someone in a private chat with the bot: they act, then wait for the bot's answer."""

    def __init__(self, telegram: FakeTelegram, user_id: int) -> None:
        self.telegram = telegram
        self.user_id = user_id

    def _snapshot(self) -> tuple[int, dict[int, int]]:
        messages = self.telegram.messages(self.user_id)
        last = max((m.message_id for m in messages), default=0)
        return last, {m.message_id: m.edits for m in messages}

    async def _answer(self, snapshot: tuple[int, dict[int, int]], expect: str) -> FakeMessage:
        last, edits = snapshot

        def fresh(m: FakeMessage) -> bool:
            changed = m.message_id > last or m.edits > edits.get(m.message_id, 0)
            return changed and expect in shown(m)

        return await self.telegram.wait_for(self.user_id, fresh)

    async def sends(self, text: str, expect: str) -> FakeMessage:
        snapshot = self._snapshot()
        self.telegram.user_sends(self.user_id, text)
        return await self._answer(snapshot, expect)

    async def sends_photo(self, expect: str) -> FakeMessage:
        snapshot = self._snapshot()
        self.telegram.user_sends_photo(self.user_id)
        return await self._answer(snapshot, expect)

    async def sends_file(self, name: str, content: bytes, expect: str) -> FakeMessage:
        snapshot = self._snapshot()
        self.telegram.user_sends_document(self.user_id, name, content)
        return await self._answer(snapshot, expect)

    async def taps(self, message: FakeMessage, button: str, expect: str) -> FakeMessage:
        snapshot = self._snapshot()
        self.telegram.user_taps(self.user_id, message, message.button(button)["callback_data"])
        return await self._answer(snapshot, expect)

    async def nothing_more(self) -> None:
        """Give the bot time to (wrongly) answer, then check that it did not."""
        before = self._snapshot()
        await asyncio.sleep(0.4)
        assert self._snapshot() == before


@pytest.fixture
def admin(telegram: FakeTelegram) -> Person:
    return Person(telegram, ADMIN_ID)


@pytest.fixture
def buyer(telegram: FakeTelegram) -> Person:
    return Person(telegram, BUYER_ID)


async def all_products(app: ShopApp) -> list[Product]:
    assert app.db is not None
    return await products.list_all(app.db.reader, offset=0, limit=100)


async def product(app: ShopApp, product_id: int) -> Product:
    assert app.db is not None
    found = await products.get(app.db.reader, product_id)
    assert found is not None
    return found


async def wizard_to_kind(
    admin: Person,
    title: str,
    *,
    description: str = "/skip",
    price: str = "9.99",
    photo: bool = False,
) -> FakeMessage:
    """/addproduct up to the kind buttons."""
    await admin.sends("/addproduct", "Send the title")
    await admin.sends(title, "description")
    await admin.sends(description, "Send the price")
    await admin.sends(price, "Send a photo")
    if photo:
        return await admin.sends_photo("What kind of product")
    return await admin.sends("/skip", "What kind of product")


def preview_of(telegram: FakeTelegram, confirm: FakeMessage) -> FakeMessage:
    """The buyer-view card the wizard sent just before its Save / Cancel message."""
    return next(m for m in telegram.messages(ADMIN_ID) if m.message_id == confirm.message_id - 1)


def button_texts(message: FakeMessage) -> list[str]:
    return [button["text"] for button in message.buttons()]


# --- /addproduct ---------------------------------------------------------------------------------


async def test_wizard_adds_a_digital_text_product_that_buyers_see_as_previewed(
    app: ShopApp, telegram: FakeTelegram, admin: Person, buyer: Person
) -> None:
    title = "Tom & Jerry <Deluxe>"
    await admin.sends("/addproduct", "Send the title")
    echoed = await admin.sends(title, "description")
    assert title in shown(echoed)
    await admin.sends("Cat <b>&</b> mouse", "Send the price")
    await admin.sends("0.10", "too little")  # Stripe's minimum: the price is asked again
    await admin.sends("nine", "not a price I can read")
    await admin.sends("9.99", "Send a photo")
    kinds = await admin.sends("/skip", "What kind of product")
    assert "Telegram requires digital goods and services sold in bots" in shown(kinds)
    assert button_texts(kinds) == [
        "📄 Digital text",
        "🔑 Digital stock",
        "📦 Physical",
        "🛎 Service",
    ]
    await admin.taps(kinds, "Digital text", "Send the delivery text")
    assert "Chosen: 📄 Digital text" in shown(kinds) and not kinds.buttons()
    await admin.sends("/skip", "needs its delivery text")  # the goods can't be skipped
    await admin.sends("Download: https://files.example/tj.pdf <3", "category")
    confirm = await admin.sends("Cartoons & co", "Save this product?")
    assert "Cartoons & co" in shown(confirm) and "https://files.example/tj.pdf <3" in shown(confirm)
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
    kinds = await wizard_to_kind(admin, "Game key", price="5 eur", photo=True)
    await admin.taps(kinds, "Digital stock", "Send instructions")
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
    kinds = await wizard_to_kind(admin, "Mug", description="A big mug.", price="1000 jpy")
    await admin.taps(kinds, "Physical", "note to the buyer")
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
    kinds = await wizard_to_kind(admin, "Consultation", price="120")
    await admin.taps(kinds, "Service", "your note")
    categories = await admin.sends("I will email you to book a time.", "Tap a category")
    confirm = await admin.taps(categories, "No category", "Save this product?")
    await admin.taps(confirm, "Save", "Saved")
    [item] = await all_products(app)
    assert item.kind is ProductKind.SERVICE and item.category is None
    assert item.delivery_text == "I will email you to book a time."
    catalog = await buyer.sends("/catalog", "Catalog")
    assert button_texts(catalog) == ["Consultation — $120.00"]


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
    await admin.taps(kinds, "Service", "your note")
    categories = await admin.sends("/skip", "Tap a category")
    confirm = await admin.taps(categories, "No category", "Save this product?")
    await admin.taps(confirm, "Cancel", "nothing was saved")
    assert await all_products(app) == []
    assert not confirm.buttons()


async def test_save_tapped_twice_saves_once_and_old_wizard_buttons_expire(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    kinds = await wizard_to_kind(admin, "Only once")
    await admin.taps(kinds, "Service", "your note")
    categories = await admin.sends("/skip", "Tap a category")
    confirm = await admin.taps(categories, "No category", "Save this product?")
    save = confirm.button("Save")["callback_data"]
    telegram.user_taps(ADMIN_ID, confirm, save)
    telegram.user_taps(ADMIN_ID, confirm, save)
    await telegram.wait_for(ADMIN_ID, lambda m: "Saved" in shown(m))
    await asyncio.sleep(0.3)
    assert len(await all_products(app)) == 1
    # Item 27: an admin's expired button answers in admin words, not the buyer's /catalog.
    assert texts.admin_button_expired() in [a["text"] for a in telegram.answered_callbacks]

    telegram.user_taps(ADMIN_ID, kinds, "aw:1:k:physical", check_keyboard=False)
    await asyncio.sleep(0.2)
    assert telegram.answered_callbacks[-1]["text"] == texts.admin_button_expired()
    assert "/products" in texts.admin_button_expired()


async def test_an_unfinished_wizard_times_out_and_says_so(
    settings: Settings,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(admin_products, "DIALOG_TIMEOUT", 0.5)
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


# --- /products -----------------------------------------------------------------------------------


async def open_admin_card(admin: Person, title: str) -> FakeMessage:
    listing = await admin.sends("/products", "Products")
    return await admin.taps(listing, title, "place")


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
    await admin.sends("Still the wizard's description", "Send the price")

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
    assert button_texts(catalog) == ["Ebook — $9.99"]


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
    assert button_texts(catalog) == ["Alpha — $9.99", "Gamma — $9.99", "Beta — $9.99"]


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
            product_id=ordered,
            product_title="Popular",
            quantity=1,
            unit_amount=999,
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


# --- /stock --------------------------------------------------------------------------------------


async def test_stock_by_message_and_by_txt_file(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    product_id = await add_product(app, title="Keys", kind=ProductKind.DIGITAL_STOCK)
    added = await admin.sends(f"/stock {product_id}\nKEY-A\nKEY-B\nKEY-A", "added 2 items")
    assert "skipped 1" in shown(added) and "Available now: 2" in shown(added)

    await admin.sends(f"/stock {product_id}", "Items for Keys")
    await admin.sends_file("keys.pdf", b"%PDF-1.4", "not a .txt file")
    await admin.sends_file("latin1.txt", "KÉY".encode("latin-1"), "not UTF-8")
    added = await admin.sends_file("keys.txt", b"\xef\xbb\xbfKEY-B\r\nKEY-C\n\nKEY-D\n", "added 2")
    assert "skipped 1" in shown(added) and "Available now: 4" in shown(added)
    assert app.db is not None and await stock.available(app.db.reader, product_id) == 4
    assert [c.status for c in telegram.calls_of("getFile")] == [200, 200]
    telegram.user_sends(ADMIN_ID, "KEY-E")  # the dialog is over: nothing is added
    await admin.nothing_more()


async def test_stock_explains_wrong_ids_and_kinds(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    text_product = await add_product(app, title="Ebook")
    await admin.sends("/stock", "No stock products yet")  # item 27: /stock alone offers a list
    await admin.sends("/stock abc", "Usage")
    await admin.sends("/stock ²", "Usage")  # isdigit() says yes, int() said ValueError
    await admin.sends("/stock #١", "Usage")  # int() would have read it as product 1
    await admin.sends("/stock 99\nKEY", "There is no product #99")
    await admin.sends(f"/stock {text_product}\nKEY", "only stock products have items")


# --- non-admins ----------------------------------------------------------------------------------


async def test_non_admins_get_the_buyer_answers_and_no_shop_data(
    app: ShopApp, telegram: FakeTelegram, buyer: Person
) -> None:
    product_id = await add_product(app, title="Secret stock", delivery_text="TOP-SECRET")
    for command in ("/addproduct", "/products", f"/stock {product_id}\nKEY"):
        await buyer.sends(command, "I don't know that command")
    reply = telegram.messages(BUYER_ID)[-1]
    before = len(telegram.messages(BUYER_ID))
    for forged in (
        f"ap:o:{product_id}",
        f"ap:delok:{product_id}",
        f"ap:v:{product_id}:0",
        f"ap:f:{product_id}:2",
        "ap:l:0",
        "aw:1:save",
    ):
        telegram.user_taps(BUYER_ID, reply, forged, check_keyboard=False)
    telegram.user_sends(BUYER_ID, "0.50")  # as if answering an edit prompt
    await asyncio.sleep(0.5)
    answers = [a["text"] for a in telegram.answered_callbacks[-6:]]
    assert answers == [texts.unknown_button()] * 6
    # A buyer's plain message is answered with how to reach the merchant (item 25), and
    # nothing else: no edit prompt, no shop data.
    [answer] = telegram.messages(BUYER_ID)[before:]
    assert "passed your message on to the merchant" in shown(answer)
    unchanged = await product(app, product_id)
    assert unchanged.active and unchanged.price_minor == 999
    assert not any("TOP-SECRET" in shown(m) for m in telegram.messages(BUYER_ID))
