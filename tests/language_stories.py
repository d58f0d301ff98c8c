"""The buyer's and the admin's stories, driven by callback data and the shape of the bot's
answers (never by their words), so they play in any language: the pseudo-locale's check
(tests/test_pseudo_locale.py) and every shipped language (tests/test_every_language.py)."""

from __future__ import annotations

from bot import callbacks as cb
from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from storage.models import ProductKind, ProductRail
from tests.cart_steps import stock_product
from tests.conftest import ADMIN_ID, BUYER_ID
from tests.pseudo_steps import (
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


async def buyer_story(
    app: ShopApp,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    buyer: PseudoPerson,
    admin: PseudoPerson,
) -> None:
    """Catalog, Buy now and pay, a Stars invoice paid, a cart checked out, /orders and Send
    again, /help, and refusals (an admin's command, forged buttons, a product gone)."""
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


async def admin_story(
    app: ShopApp,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    buyer: PseudoPerson,
    admin: PseudoPerson,
) -> None:
    """/addproduct to its Save, /products → Edit, /stock (and a wrong id), /orders → detail →
    refund → cancel, /refund partial and whole (and a wrong id), /sales and a window."""
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
