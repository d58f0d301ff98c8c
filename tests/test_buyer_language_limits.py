"""What the buyer gets stays within Telegram's limits in any language, however much longer a
translation runs than the English (issue 14, item 5): 200 units of a tap's answer, 1,024 of a
caption, 4,096 of a message, measured as Telegram counts them after reading the HTML — which
must stay valid. The merchant's titles give way, never our sentences.

Rendered in a language whose every sentence runs a third longer than the English (as Russian
or German do), left to right and right to left (where every value is also wrapped in
isolates), and in every language the shop ships.
"""

from __future__ import annotations

import gettext
import re
from dataclasses import replace

import pytest

from bot.buyer import cart_view, notices, support_texts, texts
from bot.texts import MAX_ALERT, MAX_CAPTION, MAX_TEXT, utf16_len
from sandbox.fake_telegram import MAX_INLINE_BUTTONS, parse_html
from shop.cart import Cart, CartFull, CartItem, Change, Changed, LineFull, NoneLeft
from shop.i18n import Lang, Languages
from storage.models import OrderLine, OrderStatus, Product, ProductKind, ProductRail, Rail
from tests.shop_records import order_record

TITLE = "🎁" * 48 + "&<" * 16  # a title at its longest (128 units): emoji, then what escaping grows


class Wordier(gettext.NullTranslations):
    """A language a third wordier than English: each sentence, then its first third again
    (placeholders and tags stay where the English has them)."""

    def gettext(self, message: str) -> str:
        return _wordier(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return _wordier(msgid1 if n == 1 else msgid2)


def _wordier(text: str) -> str:
    words = re.sub(r"\{[^{}]*\}|<[^>]*>", "", text)
    return f"{text} {words[: len(words) // 3].strip()}"


WORDIER = [Lang("ru", Wordier()), Lang("fa", Wordier())]
SHIPPED = list(Languages.load().offered)
every_language = pytest.mark.parametrize(
    "lang",
    WORDIER + SHIPPED,
    ids=[f"{lang.code}-wordier" for lang in WORDIER] + [lang.code for lang in SHIPPED],
)


def _product(number: int) -> Product:
    """A product at the longest: its title, a description far over any limit, the highest
    price, in one of two currencies."""
    return Product(
        id=number,
        title=TITLE,
        description="<&>" * 2000,
        price_minor=99_999_999,
        currency="usd" if number % 2 else "eur",
        photo=None,
        delivery_text="",
        active=True,
        position=number,
    )


def _shown(html: str) -> str:
    """What Telegram counts of our HTML (and a ValueError where it would refuse it)."""
    return parse_html(html)[0]


@every_language
def test_every_answer_to_a_tap_fits_and_only_titles_give_way(lang: Lang) -> None:
    titled = [
        texts.sold_out(lang, 0, TITLE),
        texts.sold_out(lang, 3, TITLE),
        texts.holding_too_many(lang, 0, TITLE),
        texts.holding_too_many(lang, 2, TITLE),
        texts.not_on_rail(lang, Rail.STARS, [TITLE] * 6),
        texts.not_on_rail(lang, Rail.STRIPE, [TITLE]),
        texts.mixed_currencies(lang, {"usd": [TITLE] * 3, "eur": [TITLE] * 8}),
        cart_view.added(lang, TITLE, 10, 10, 20),
        cart_view.added(lang, TITLE, 1, 10, 20),
        cart_view.refused(lang, LineFull(10), TITLE, 10),
        cart_view.refused(lang, NoneLeft(), TITLE, 1),
    ]
    plain = [
        texts.holding_too_many(lang, 0),
        texts.holding_too_many(lang, 2),
        texts.at_most(lang, 3),
        texts.at_most(lang, None),
        texts.sold_out(lang, 0),
        texts.sold_out(lang, 2),
        texts.product_unavailable(lang),
        texts.slow_down(lang),
        texts.too_many_open(lang),
        texts.checkout_failed(lang),
        texts.total_too_large(lang),
        texts.no_common_country(lang),
        texts.rail_changed(lang, Rail.STARS),
        texts.rail_changed(lang, Rail.STRIPE),
        texts.back_in_cart(lang, 19, 1),
        texts.resend_unavailable(lang),
        cart_view.refused(lang, CartFull(), TITLE, 0),
        cart_view.cart_changed(lang),
        cart_view.mixed_alert(lang),
        cart_view.too_big_for_one_receipt(lang),
        cart_view.empty_now(lang),
    ]
    for text in titled + plain:
        assert utf16_len(text) <= MAX_ALERT, text
        assert not text.endswith("…"), text  # the sentence whole: only a title was cut
    assert all("…" in text for text in titled[:7])  # the longest titles did give way
    assert utf16_len(cart_view.removed(lang, TITLE)) <= MAX_ALERT  # ends with the title


@every_language
def test_the_card_and_the_fullest_cart_fit(lang: Lang) -> None:
    product = _product(1)
    for limit in (MAX_CAPTION, MAX_TEXT):
        card = texts.product_card(lang, product, limit=limit, stock_left=5)
        assert utf16_len(_shown(card)) <= limit
        assert "<&>" * 20 in _shown(card)  # the description gave way, not the price below it
        assert _shown(card).rstrip().endswith(_shown(texts.stock_line(lang, 5)).strip())
    items = tuple(CartItem(n, _product(n), 10, 99_999_999, "usd", None, None) for n in range(1, 21))
    changes = [Changed(Change.PRICE, TITLE, 1, 99_999_998, "usd")] * 20
    page = cart_view.page(lang, Cart(items), changes, checking_out=True)
    assert utf16_len(_shown(page)) <= MAX_TEXT
    keyboard = cart_view.keyboard(lang, Cart(items)).inline_keyboard
    assert sum(map(len, keyboard)) <= MAX_INLINE_BUTTONS
    both = [replace(_product(n), rail=ProductRail.BOTH, stars_price=99_999) for n in range(1, 21)]
    stars = tuple(CartItem(p.id, p, 10, 1, "usd", None) for p in both)
    mixed_rails = stars[:10] + items[10:]
    for cart in (Cart(stars), Cart(mixed_rails)):
        assert utf16_len(_shown(cart_view.page(lang, cart, changes))) <= MAX_TEXT


@every_language
def test_the_order_s_messages_fit(lang: Lang) -> None:
    keys = [OrderLine(n, n, TITLE, ProductKind.DIGITAL_STOCK, 99_999, 10) for n in range(20)]
    order = order_record(
        lines=keys,
        amount_discount=500,
        amount_charged=sum(line.subtotal for line in keys) + 2_000,
        amount_refunded=700,
        status=OrderStatus.PARTIALLY_REFUNDED,
        tracking="T" * 64,
        expires_at=1_765_000_000,
    )
    delivered = notices.Delivered(
        {line.product_id: None for line in keys},
        {line.product_id: ["K" * 64] * 9 for line in keys},  # one short: a note says so
    )
    receipt = _shown(notices.receipt(lang, order, delivered))
    assert utf16_len(receipt) <= MAX_TEXT and "K" * 64 in receipt
    assert utf16_len(_shown(notices.resend(lang, order, delivered))) <= MAX_TEXT
    awaiting = replace(order, status=OrderStatus.AWAITING_PAYMENT, amount_charged=None)
    for html in (
        notices.pay_message(lang, awaiting),
        notices.order_held(lang, order),
        notices.order_failed(lang, order),
        notices.order_processing(lang, order),
        notices.order_expired(lang, order, cancelled=True),
        notices.held_notice(lang, order),
        notices.shipped_notice(lang, order),
        notices.tracking_notice(lang, order, "T" * 64),
        notices.refund_notice(lang, order),
        texts.orders_list(lang, [order] * 5, 0, 9),
        support_texts.pay_support(lang, None, "@" * 64, [order] * 5),
        support_texts.support_question(lang, TITLE, 1, "u" * 32, order, "&" * 5000),
    ):
        assert utf16_len(_shown(html)) <= MAX_TEXT
    button = notices.pay_button(lang, awaiting)
    assert utf16_len(button) <= 64  # a button a phone shows whole
