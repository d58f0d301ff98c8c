"""The buyer's cart in the chat, end to end: real PTB and stripe SDKs over HTTP to the stand-ins,
a real SQLite file, the real app. A buyer fills a cart from product cards, changes it in the
cart view, checks out once and gets one receipt — through duplicate and reordered events and a
restart; the cart keeps its place in the catalog and the cards, and asks before emptying."""

from __future__ import annotations

from pathlib import Path

from bot import callbacks as cb
from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from storage.models import OrderStatus
from tests.cart_steps import (
    ADDRESS,
    EBOOK_TEXT,
    add_from_card,
    now_of,
    open_cart,
    shop_of_three,
    tap_and_see,
)
from tests.conftest import BUYER_ID, settings_for, start_app
from tests.people import shown
from tests.story import (
    _has_pay_button,
    add_product,
    order_of,
    session_of,
    settled,
    tap_answer,
)


async def _fill_from_cards(telegram: FakeTelegram, products: tuple[int, ...]) -> None:
    """The buyer adds the key ×2 (the last two), the ebook, the mug and a sticker from their
    cards; each card counts the cart's lines."""
    key, *others = products
    toast, card = await add_from_card(telegram, BUYER_ID, key, quantity=2)
    assert toast == "Added: Game key × 2 — cart has 1 product"
    assert card.button("Cart (1)") and card.button("Qty 2")  # the card counts the line
    for product_id in others:
        toast, card = await add_from_card(telegram, BUYER_ID, product_id)
    assert toast == "Added: Sticker × 1 — cart has 4 products"


async def _change_in_the_view(telegram: FakeTelegram, mug: int, sticker: int) -> FakeMessage:
    """Subtotals and total, then + and − on the mug and ✕ on the sticker, edited in place."""
    view = await open_cart(telegram, BUYER_ID)
    text = shown(view)
    assert "Your cart · 4 products" in text
    assert "2 × $4.99 = $9.98" in text and "1 × $12.00 = $12.00" in text
    assert "Total: $42.98" in text and view.button("Checkout · $42.98")
    _, view = await tap_and_see(
        telegram, BUYER_ID, view, cb.CART_MORE.encode(mug), "2 × $18.00 = $36.00"
    )
    _, view = await tap_and_see(
        telegram, BUYER_ID, view, cb.CART_LESS.encode(mug), "1 × $18.00 = $18.00"
    )
    answer, view = await tap_and_see(
        telegram, BUYER_ID, view, cb.CART_REMOVE.encode(sticker), "3 products"
    )
    assert answer == "Removed: Sticker" and "Sticker" not in shown(view)
    assert "Total: $39.98" in shown(view)
    return view


async def _check_out_twice(
    telegram: FakeTelegram, stripe_api: FakeStripe, view: FakeMessage
) -> tuple[FakeMessage, str]:
    """Checkout: one pay message whose session has three line items and asks for an address;
    a second tap finds the same link (the keys its order holds are still this buyer's, so the
    cart is not "changed" under them)."""
    edits = view.edits
    telegram.user_taps(BUYER_ID, view, cb.CART_CHECKOUT.encode())
    pay = await telegram.wait_for(
        BUYER_ID, lambda m: m.message_id > view.message_id and _has_pay_button(m)
    )
    assert pay.button("Pay $39.98")
    session_id = session_of(stripe_api, pay)
    items = stripe_api.line_items(session_id)
    assert [(i["description"], i["quantity"], i["amount_total"]) for i in items] == [
        ("Game key", 2, 998), ("Ebook", 1, 1200), ("Mug", 1, 1800),
    ]  # fmt: skip
    assert stripe_api.sessions[session_id]["shipping_address_collection"] is not None
    again = await tap_answer(telegram, BUYER_ID, view, cb.CART_CHECKOUT.encode())
    assert again == ""  # no alert: neither "your cart changed" nor a refusal
    await telegram.wait_for(
        BUYER_ID, lambda m: m.message_id > pay.message_id and _has_pay_button(m)
    )
    assert len(stripe_api.sessions) == 1 and now_of(telegram, BUYER_ID, view).edits == edits
    return pay, session_id


def _one_receipt(telegram: FakeTelegram, pay: FakeMessage) -> None:
    """One receipt, the first pay message edited once: two distinct keys, the ebook's text,
    the shipping note; one "Payment received"."""
    receipts = [m for m in telegram.messages(BUYER_ID) if "Your purchase" in shown(m)]
    assert [m.message_id for m in receipts] == [pay.message_id]
    receipt = shown(receipts[0])
    keys = {k for k in ("KEY-0000", "KEY-0001") if k in receipt}
    assert len(keys) == 2 and EBOOK_TEXT in receipt and "We'll ship it to" in receipt
    assert "1 Main St" in receipt
    goods_edits = [
        c
        for c in telegram.calls_of("editMessageText")
        if c.status == 200 and "Your purchase" in str(c.params.get("text"))
    ]
    assert len(goods_edits) == 1
    notices = [m for m in telegram.messages(BUYER_ID) if "Payment received" in shown(m)]
    assert len(notices) == 1


async def test_a_cart_of_three_kinds_is_filled_changed_paid_once_and_delivered_once(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    settings = settings_for(tmp_path, telegram, stripe_api)
    app = await start_app(settings, telegram, stripe_api)
    try:
        key, ebook, mug = await shop_of_three(app, keys=2)  # the two keys are the last ones
        sticker = await add_product(app, title="Sticker", price_minor=300)
        await _fill_from_cards(telegram, (key, ebook, mug, sticker))
        view = await _change_in_the_view(telegram, mug, sticker)
        pay, session_id = await _check_out_twice(telegram, stripe_api, view)
        stripe_api.pay(session_id, shipping=ADDRESS)
        completed = stripe_api.session_event("checkout.session.completed", session_id)
        stale = stripe_api.make_event(
            "checkout.session.expired", {**stripe_api.sessions[session_id], "status": "expired"}
        )
        for event in (completed, stale, completed):  # a duplicate, and the old expiry after it
            assert (await stripe_api.deliver(event))[0] == 200
        await settled(app)
    finally:
        await app.stop()

    app = await start_app(settings, telegram, stripe_api)  # the same database, a new process
    try:
        assert (await stripe_api.deliver(completed))[0] == 200
        await settled(app)
        assert (await order_of(app, session_id)).status is OrderStatus.FULFILLED
        empty = await open_cart(telegram, BUYER_ID)
        assert "Your cart is empty" in shown(empty)  # what was paid for left the cart
    finally:
        await app.stop()
    _one_receipt(telegram, pay)


async def test_the_cart_is_in_the_catalog_and_on_every_card(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    key, ebook, _ = await shop_of_three(app)
    _, card = await add_from_card(telegram, BUYER_ID, ebook)
    assert card.button("Cart (1)")
    toast, card = await add_from_card(telegram, BUYER_ID, ebook, quantity=3)
    assert toast == "Added: Ebook × 3 (now × 4) — cart has 1 product"
    telegram.user_sends(BUYER_ID, "/catalog")
    catalog = await telegram.wait_for(BUYER_ID, lambda m: "Catalog" in shown(m))
    assert catalog.buttons()[-1]["text"] == "🛒 Cart (1)"
    _, view = await tap_and_see(
        telegram, BUYER_ID, catalog, catalog.button("Cart (1)")["callback_data"], "4 × $12.00"
    )
    assert view.message_id == catalog.message_id  # the catalog became the cart, in place
    _, view = await tap_and_see(telegram, BUYER_ID, view, cb.CATALOG.encode(0), "Catalog")

    before = len(telegram.messages(BUYER_ID))  # the card's Cart comes as a new message
    telegram.user_taps(BUYER_ID, card, card.button("Cart (1)")["callback_data"])
    await telegram.wait_for(BUYER_ID, lambda m: "4 × $12.00" in shown(m))
    assert len(telegram.messages(BUYER_ID)) == before + 1 and now_of(telegram, BUYER_ID, card)

    _, card = await add_from_card(telegram, BUYER_ID, key, quantity=5)
    refusal = await tap_answer(
        telegram, BUYER_ID, card, card.button("Add to cart")["callback_data"]
    )
    assert refusal == "No more of “Game key” left: your cart already has every one there is."
    assert telegram.answered_callbacks[-1]["show_alert"] is True
    view = await open_cart(telegram, BUYER_ID)
    answer = await tap_answer(telegram, BUYER_ID, view, cb.CART_MORE.encode(key))
    assert answer == "Only 5 left in stock."


async def test_empty_cart_asks_first_and_an_empty_cart_leads_to_the_catalog(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    _, ebook, mug = await shop_of_three(app)
    for product_id in (ebook, mug):
        await add_from_card(telegram, BUYER_ID, product_id)
    view = await open_cart(telegram, BUYER_ID)
    _, asked = await tap_and_see(
        telegram, BUYER_ID, view, cb.CART_EMPTY.encode(), "Empty your cart?"
    )
    assert "all 2 products" in shown(asked)
    _, view = await tap_and_see(
        telegram, BUYER_ID, asked, asked.button("Keep my cart")["callback_data"], "Total: $30.00"
    )
    await tap_and_see(telegram, BUYER_ID, view, cb.CART_EMPTY.encode(), "Empty your cart?")
    answer, view = await tap_and_see(
        telegram, BUYER_ID, view, cb.CART_EMPTY_YES.encode(), "Your cart is empty"
    )
    assert answer == "Your cart is empty."
    assert [b["text"] for b in view.buttons()] == ["🛍️ Browse the catalog"]
    await tap_and_see(
        telegram, BUYER_ID, view, view.button("Browse the catalog")["callback_data"], "Catalog"
    )


async def test_the_cart_survives_a_restart(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    settings = settings_for(tmp_path, telegram, stripe_api)
    app = await start_app(settings, telegram, stripe_api)
    try:
        key, ebook, _ = await shop_of_three(app)
        await add_from_card(telegram, BUYER_ID, key, quantity=2)
        await add_from_card(telegram, BUYER_ID, ebook)
    finally:
        await app.stop()
    app = await start_app(settings, telegram, stripe_api)
    try:
        view = await open_cart(telegram, BUYER_ID)
        assert "2 × $4.99 = $9.98" in shown(view) and "Total: $21.98" in shown(view)
    finally:
        await app.stop()
