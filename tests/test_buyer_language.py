"""The buyer's side in the buyer's language (issue 14): the language a buyer's Telegram app
reports picks how the shop speaks to them and writes their money, and their order keeps it —
Stripe's Checkout gets it as `locale`, and what the outbox sends later (the receipt) speaks it
whatever the app says by then.

Stories over the Telegram and Stripe stand-ins. Messages are found by their buttons' callback
data and links, never by their English words, and every expected amount, date and list comes
from Babel, so the stories hold once the catalogs carry the translations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from babel.dates import format_date
from babel.lists import format_list
from babel.numbers import format_currency

from bot import callbacks as cb
from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from storage.db import fetch_one
from tests.conftest import BUYER_ID
from tests.people import shown
from tests.stars_steps import next_invoice, order_by_ref, stars_ebook, stars_key
from tests.story import add_product, order_of, pay_and_notify, session_of, settled, tap_answer

PRICE = 999  # the stories' ebook: $9.99


def usd(amount: int, locale: str) -> str:
    """A dollar amount as Babel writes it for `locale`, independently of the shop's code."""
    return format_currency(Decimal(amount).scaleb(-2), "USD", locale=locale)


class Buyer:
    """A buyer whose Telegram app reports `language_code` with every message they send (taps
    carry the language of their last message, as with the real client's user object)."""

    def __init__(self, telegram: FakeTelegram, language_code: str) -> None:
        self.telegram = telegram
        self.language_code = language_code

    def _last(self) -> int:
        return max((m.message_id for m in self.telegram.messages(BUYER_ID)), default=0)

    async def sends(self, text: str, wanted: Callable[[FakeMessage], bool]) -> FakeMessage:
        """Send `text`; the bot's first new message that is `wanted`."""
        seen = self._last()
        self.telegram.user_sends(BUYER_ID, text, language_code=self.language_code)
        return await self.telegram.wait_for(BUYER_ID, lambda m: m.message_id > seen and wanted(m))

    async def taps(
        self, message: FakeMessage, data: str, wanted: Callable[[FakeMessage], bool]
    ) -> FakeMessage:
        """Tap the button carrying `data`; the bot's first new message that is `wanted`."""
        seen = self._last()
        self.telegram.user_taps(BUYER_ID, message, data)
        return await self.telegram.wait_for(BUYER_ID, lambda m: m.message_id > seen and wanted(m))

    async def card(self, product_id: int) -> FakeMessage:
        """The product's card, opened from its deep link."""
        return await self.sends(f"/start p_{product_id}", _carries(f"{cb.CART_ADD.prefix}:"))

    async def buys_now(self, product_id: int) -> FakeMessage:
        """Buy now on the product's card: the order message with its Pay link."""
        card = await self.card(product_id)
        return await self.taps(card, cb.BUY.encode(product_id, 1), _has_link)


def _carries(data: str) -> Callable[[FakeMessage], bool]:
    return lambda m: any(str(b.get("callback_data", "")).startswith(data) for b in m.buttons())


def _has_link(message: FakeMessage) -> bool:
    return any(b.get("url") for b in message.buttons())


def _now(telegram: FakeTelegram, message: FakeMessage) -> FakeMessage:
    return next(m for m in telegram.messages(BUYER_ID) if m.message_id == message.message_id)


async def test_a_spanish_speaking_buyer_sees_spanish_money_and_pays_on_a_spanish_checkout(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    product_id = await add_product(app, price_minor=PRICE)
    buyer = Buyer(telegram, "es")
    price = usd(PRICE, "es")
    assert price == "9,99\xa0US$"  # Babel's Spanish: the currency after the amount

    card = await buyer.card(product_id)
    assert price in shown(card) and "$9.99" not in shown(card)
    assert any(price in b["text"] for b in card.buttons())  # Buy now — 9,99 US$
    pay_message = await buyer.taps(card, cb.BUY.encode(product_id, 1), _has_link)
    assert price in shown(pay_message) and "$9.99" not in shown(pay_message)
    assert any(price in b["text"] for b in pay_message.buttons() if b.get("url"))

    session_id = session_of(stripe_api, pay_message)
    assert stripe_api.sessions[session_id]["locale"] == "es"
    order = await order_of(app, session_id)
    assert order.language == "es"
    # The link's expiry: the date as Spanish writes it, in UTC, the zone spelled out.
    expiry = dt.datetime.fromtimestamp(order.expires_at, dt.UTC)
    assert format_date(expiry, "medium", locale="es") in shown(pay_message)
    assert "UTC" in shown(pay_message)


async def test_a_spanish_buyer_reads_the_shop_in_spanish_from_start_to_receipt(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """The shipped Spanish catalog, end to end: the texts are the translator's words (written
    out here, not rendered through our own code), the money Spanish, Checkout in Spanish."""
    product_id = await add_product(app, price_minor=PRICE)
    buyer = Buyer(telegram, "es")
    price = usd(PRICE, "es")
    welcome = await buyer.sends("/start", lambda m: "bienvenida" in shown(m))
    assert "Explora el catálogo" in shown(welcome) and "Welcome" not in shown(welcome)
    helped = await buyer.sends("/help", lambda m: "Cómo funciona" in shown(m))
    assert "Paga en la página segura de Stripe" in shown(helped)

    card = await buyer.card(product_id)
    labels = [b["text"] for b in card.buttons()]
    assert f"⚡ Comprar ya — {price}" in labels and "🛒 Al carrito" in labels
    pay_message = await buyer.taps(card, cb.BUY.encode(product_id, 1), _has_link)
    assert f"Pagar {price}" in [b["text"] for b in pay_message.buttons() if b.get("url")]
    session_id = session_of(stripe_api, pay_message)
    assert stripe_api.sessions[session_id]["locale"] == "es"

    assert await pay_and_notify(stripe_api, session_id) == 200
    await settled(app)
    texts = [shown(m) for m in telegram.messages(BUYER_ID)]
    assert any("🎉 Pago recibido para el pedido #" in text for text in texts)
    assert not any("Payment received" in text or "Thank you" in text for text in texts)


@pytest.mark.parametrize(
    ("language_code", "stored", "checkout_locale", "money_locale"),
    [
        ("pt-BR", "pt_BR", "pt-BR", "pt_BR"),
        ("pt-br", "pt_BR", "pt-BR", "pt_BR"),  # as Telegram's clients write it
        ("uk", "uk", "auto", "uk"),  # Stripe's Checkout has no Ukrainian: it follows the browser
        ("en", "en", "en", "en"),
    ],
)
async def test_checkout_s_locale_follows_the_buyer_s_language(
    app: ShopApp,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    language_code: str,
    stored: str,
    checkout_locale: str,
    money_locale: str,
) -> None:
    product_id = await add_product(app, price_minor=PRICE)
    pay_message = await Buyer(telegram, language_code).buys_now(product_id)
    assert usd(PRICE, money_locale) in shown(pay_message)
    session_id = session_of(stripe_api, pay_message)
    assert stripe_api.sessions[session_id]["locale"] == checkout_locale
    assert (await order_of(app, session_id)).language == stored


async def test_the_receipt_speaks_the_order_s_language_after_the_buyer_s_app_changed(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    product_id = await add_product(app, price_minor=PRICE)
    pay_message = await Buyer(telegram, "es").buys_now(product_id)
    session_id = session_of(stripe_api, pay_message)
    # The buyer switches their Telegram app to English before paying: the chat follows...
    english = Buyer(telegram, "en")
    listed = await english.sends("/orders", lambda m: "$9.99" in shown(m))
    assert usd(PRICE, "es") not in shown(listed)
    assert await pay_and_notify(stripe_api, session_id) == 200
    await settled(app)
    # ...but the receipt the outbox edits into the order's message is the Spanish order's.
    receipt = _now(telegram, pay_message)
    assert "files.example/ebook.pdf" in shown(receipt) and not receipt.buttons()
    assert usd(PRICE, "es") in shown(receipt) and "$9.99" not in shown(receipt)
    assert (await order_of(app, session_id)).language == "es"


async def test_the_cart_s_checkout_keeps_the_buyer_s_language(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    product_id = await add_product(app, price_minor=PRICE)
    buyer = Buyer(telegram, "es")
    card = await buyer.card(product_id)
    await tap_answer(telegram, BUYER_ID, card, cb.CART_ADD.encode(product_id, 1))
    view = await buyer.sends("/cart", _carries(cb.CART_CHECKOUT.encode()))
    assert usd(PRICE, "es") in shown(view)
    assert any(usd(PRICE, "es") in b["text"] for b in view.buttons())  # Checkout · 9,99 US$
    pay_message = await buyer.taps(view, cb.CART_CHECKOUT.encode(), _has_link)
    session_id = session_of(stripe_api, pay_message)
    assert stripe_api.sessions[session_id]["locale"] == "es"
    order = await order_of(app, session_id)
    assert order.from_cart and order.language == "es"


async def test_a_stars_order_keeps_the_buyer_s_language_and_its_invoice_speaks_it(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    key, ebook = await stars_key(app, keys=3), await stars_ebook(app)
    buyer = Buyer(telegram, "es")
    card = await buyer.card(key)
    invoice = await buyer.taps(card, cb.STARS_BUY.encode(key, 1), lambda m: m.invoice is not None)
    assert (await order_by_ref(app, invoice)).language == "es"
    # A cart of two lines is one invoice whose description lists them as Spanish lists do.
    for product_id, quantity in ((key, 2), (ebook, 1)):
        card = await buyer.card(product_id)
        add = cb.CART_ADD.encode(product_id, quantity)
        if quantity > 1:  # + first: the card's Add to cart then adds that many
            telegram.user_taps(BUYER_ID, card, cb.QUANTITY.encode(product_id, quantity))
            await telegram.wait_for(BUYER_ID, _carries(add))
        await tap_answer(telegram, BUYER_ID, card, add)
    view = await buyer.sends("/cart", _carries(cb.CART_STARS.encode()))
    telegram.user_taps(BUYER_ID, view, cb.CART_STARS.encode())
    paid_in_stars = await next_invoice(telegram, BUYER_ID, view.message_id)
    assert paid_in_stars.invoice is not None
    order = await order_by_ref(app, paid_in_stars)
    assert order.language == "es" and len(order.lines) == 2
    listed = format_list(["2 × Game key", "1 × Ebook"], locale="es")
    assert listed == "2 × Game key y 1 × Ebook"
    assert paid_in_stars.invoice.description == listed


async def test_a_persian_buyer_s_receipt_is_right_to_left_html_with_latin_names_isolated(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """Persian, end to end: Telegram's HTML parser (the stand-in's, as strict) takes every
    message, the merchant's Latin title keeps its own direction inside the Persian sentence
    (wrapped in Unicode isolates, FSI … PDI), and nothing is English but the merchant's words."""
    title = "Async <Python> & Co"
    product_id = await add_product(app, title=title, price_minor=PRICE)
    pay_message = await Buyer(telegram, "fa").buys_now(product_id)
    session_id = session_of(stripe_api, pay_message)
    assert stripe_api.sessions[session_id]["locale"] == "auto"  # Checkout has no Persian
    assert await pay_and_notify(stripe_api, session_id) == 200
    await settled(app)
    assert app.db is not None
    row = await fetch_one(app.db.reader, "SELECT COUNT(*) FROM deliveries WHERE status = 'failed'")
    assert row is not None and row[0] == 0  # Telegram took every message: the HTML parsed
    receipt = _now(telegram, pay_message)
    text = shown(receipt)
    assert "سفارش" in text  # "order", in the translator's words
    assert f"\u2068{title}\u2069" in text  # the title, escaped and isolated, reads as typed
    assert "files.example/ebook.pdf" in text
    english = {"order", "Order", "Total", "paid", "Payment", "Thank"}
    assert not [word for word in english if word in text.replace(title, "")]
