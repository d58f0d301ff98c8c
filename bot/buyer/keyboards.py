"""The buyer's inline keyboards, labelled in the buyer's language. Every callback is a
`bot.callbacks` button, so each fits Telegram's 64 bytes and reaches exactly one handler; the
data is the same in every language."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks as cb
from bot.buyer import cart_view, notices, texts
from bot.callbacks import MAX_QUANTITY
from bot.shared import page_row
from bot.texts import clip
from shop.i18n import Lang
from storage.models import Order, Product, Rail


def start_menu(lang: Lang) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    lang.t("🛍️ Browse the catalog"), callback_data=cb.CATALOG.encode(0)
                )
            ],
            [InlineKeyboardButton(lang.t("📦 My orders"), callback_data=cb.ORDERS.encode(0))],
        ]
    )


def categories(
    lang: Lang, groups: list[tuple[str, int, int]], *, cart_lines: int = 0
) -> InlineKeyboardMarkup:
    """One button per category (a group is named by its first product's id in callbacks),
    then the buyer's cart."""
    rows = [
        [
            InlineKeyboardButton(
                lang.t(
                    "{category} ({count})",
                    category=clip(name, texts.PAGE_TITLE_CHARS)
                    if name
                    else texts.other_category(lang),
                    count=lang.number(count),
                ),
                callback_data=cb.CATEGORY.encode(first_id, 0),
            )
        ]
        for name, count, first_id in groups
    ]
    rows.append([cart_view.cart_button(lang, cart_lines, cb.CART_HERE)])
    return InlineKeyboardMarkup(rows)


def catalog(
    lang: Lang,
    products: list[Product],
    page: int,
    pages: int,
    *,
    group: int | None = None,
    cart_lines: int = 0,
) -> InlineKeyboardMarkup:
    """A page of products; inside a category (`group`) with a way back to the categories;
    the buyer's cart (`cart_lines`: its lines) last."""
    rows = [
        [InlineKeyboardButton(texts.catalog_button(lang, p), callback_data=cb.PRODUCT.encode(p.id))]
        for p in products
    ]
    if pages > 1:
        rows.append(
            page_row(lang, cb.CATALOG, page, pages)
            if group is None
            else page_row(lang, cb.CATEGORY, page, pages, group)
        )
    last = [cart_view.cart_button(lang, cart_lines, cb.CART_HERE)]
    if group is not None:
        back = lang.t("‹ Categories")
        last.insert(0, InlineKeyboardButton(back, callback_data=cb.CATALOG.encode(0)))
    rows.append(last)
    return InlineKeyboardMarkup(rows)


def card_buttons(
    lang: Lang,
    product: Product,
    quantity: int,
    *,
    stock_left: int | None = None,
    cart_lines: int = 0,
) -> InlineKeyboardMarkup:
    """Quantity −/+, Buy now and Add to cart (both with that quantity), the way back and the
    cart (`cart_lines`: its lines; it opens as a new message, the card stays); a sold-out
    product gets no Buy or Add, only the ways out."""
    back = [
        InlineKeyboardButton(lang.t("‹ Catalog"), callback_data=cb.CATALOG.encode(0)),
        cart_view.cart_button(lang, cart_lines, cb.CART_NEW),
    ]
    most = MAX_QUANTITY if stock_left is None else min(MAX_QUANTITY, stock_left)
    if most < 1:
        return InlineKeyboardMarkup([back])
    quantity = min(max(quantity, 1), most)
    less = max(quantity - 1, 1)
    more = (
        cb.QUANTITY.encode(product.id, quantity + 1)
        if quantity < most
        else cb.AT_MOST.encode(product.id)  # answered with why there is no more
    )
    shown = lang.t("Qty {quantity}", quantity=lang.number(quantity))
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("−", callback_data=cb.QUANTITY.encode(product.id, less)),
                InlineKeyboardButton(shown, callback_data=cb.LABEL.encode()),
                InlineKeyboardButton("+", callback_data=more),
            ],
            *_buy_rows(lang, product, quantity),
            back,
        ]
    )


def _buy_rows(lang: Lang, product: Product, quantity: int) -> list[list[InlineKeyboardButton]]:
    """Buy on each rail the product sells on (`Product.sells_on` decides), for `quantity`,
    and Add to cart: one row, or two when both Buy buttons are offered."""
    buys = []
    if product.sells_on(Rail.STRIPE):
        total = lang.money(product.price_minor * quantity, product.currency)
        label = (
            lang.nt("⚡ Buy {n} — {total}", "⚡ Buy {n} — {total}", quantity, total=total)
            if quantity > 1
            else lang.t("⚡ Buy now — {total}", total=total)
        )
        buys.append(InlineKeyboardButton(label, callback_data=cb.BUY.encode(product.id, quantity)))
    if product.sells_on(Rail.STARS):
        stars, _ = product.price_on(Rail.STARS)
        buys.append(
            InlineKeyboardButton(
                texts.stars_buy_button(lang, stars * quantity),
                callback_data=cb.STARS_BUY.encode(product.id, quantity),
            )
        )
    add = InlineKeyboardButton(
        lang.t("🛒 Add to cart"), callback_data=cb.CART_ADD.encode(product.id, quantity)
    )
    return [[*buys, add]] if len(buys) == 1 else [buys, [add]]


def buy_again(lang: Lang, order: Order) -> InlineKeyboardMarkup:
    """For an order that will not be paid: a one-line order back to its product's card, a
    cart's order its lines back into the cart (the products and quantities only: prices are
    read again at checkout)."""
    data = (
        cb.PRODUCT.encode(order.lines[0].product_id)
        if len(order.lines) == 1
        else cb.BUY_AGAIN.encode(order.id)
    )
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(lang.t("🔁 Buy again"), callback_data=data)]]
    )


def pay(lang: Lang, order: Order) -> InlineKeyboardMarkup:
    assert order.checkout_url is not None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(notices.pay_button(lang, order), url=order.checkout_url)]]
    )


def orders(lang: Lang, orders: list[Order], page: int, pages: int) -> InlineKeyboardMarkup | None:
    rows = [
        [
            InlineKeyboardButton(
                lang.t("📨 Send order #{number} again", number=o.id),
                callback_data=cb.SEND_AGAIN.encode(o.id),
            )
        ]
        for o in orders
        if o.can_resend
    ]
    if pages > 1:
        rows.append(page_row(lang, cb.ORDERS, page, pages))
    return InlineKeyboardMarkup(rows) if rows else None
