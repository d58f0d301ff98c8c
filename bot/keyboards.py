"""Inline keyboards. Every callback goes through `callbacks.encode`, so each fits 64 bytes."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import texts
from bot.callbacks import MAX_QUANTITY, encode
from shop.money import format_money
from storage.models import Order, Product


def _nav_row(action: str, page: int, pages: int, *lead: int) -> list[InlineKeyboardButton]:
    """‹ Back · n/m · Next › — `lead` are the action's arguments before the page number."""
    row = []
    if page > 0:
        row.append(InlineKeyboardButton("‹ Back", callback_data=encode(action, *lead, page - 1)))
    row.append(InlineKeyboardButton(f"{page + 1}/{pages}", callback_data=encode("noop")))
    if page + 1 < pages:
        row.append(InlineKeyboardButton("Next ›", callback_data=encode(action, *lead, page + 1)))
    return row


def start_menu() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("🛍️ Browse the catalog", callback_data=encode("cat", 0))],
            [InlineKeyboardButton("📦 My orders", callback_data=encode("ord", 0))],
        ]
    )


def categories(groups: list[tuple[str, int, int]]) -> InlineKeyboardMarkup:
    """One button per category; a group is named by its first product's id in callbacks."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    f"{texts.clip(name, texts.PAGE_TITLE_CHARS) if name else 'Other'} ({count})",
                    callback_data=encode("cc", first_id, 0),
                )
            ]
            for name, count, first_id in groups
        ]
    )


def catalog(
    products: list[Product], page: int, pages: int, *, group: int | None = None
) -> InlineKeyboardMarkup:
    """A page of products; inside a category (`group`) with a way back to the categories."""
    rows = [
        [InlineKeyboardButton(texts.catalog_button(p), callback_data=encode("prod", p.id))]
        for p in products
    ]
    if pages > 1:
        rows.append(
            _nav_row("cat", page, pages) if group is None else _nav_row("cc", page, pages, group)
        )
    if group is not None:
        rows.append([InlineKeyboardButton("‹ Categories", callback_data=encode("cat", 0))])
    return InlineKeyboardMarkup(rows)


def product_card(
    product: Product, quantity: int, *, stock_left: int | None = None
) -> InlineKeyboardMarkup:
    """Quantity −/+ and Buy; a sold-out product gets no Buy button, only the way back."""
    back = [InlineKeyboardButton("‹ Catalog", callback_data=encode("cat", 0))]
    most = MAX_QUANTITY if stock_left is None else min(MAX_QUANTITY, stock_left)
    if most < 1:
        return InlineKeyboardMarkup([back])
    quantity = min(max(quantity, 1), most)
    less = max(quantity - 1, 1)
    more = (
        encode("qty", product.id, quantity + 1)
        if quantity < most
        else encode("max", product.id)  # answered with why there is no more
    )
    total = format_money(product.price_minor * quantity, product.currency)
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("−", callback_data=encode("qty", product.id, less)),
                InlineKeyboardButton(f"Qty {quantity}", callback_data=encode("noop")),
                InlineKeyboardButton("+", callback_data=more),
            ],
            [
                InlineKeyboardButton(
                    f"🛒 Buy {quantity} — {total}" if quantity > 1 else f"🛒 Buy — {total}",
                    callback_data=encode("buy", product.id, quantity),
                )
            ],
            back,
        ]
    )


def buy_again(order: Order) -> InlineKeyboardMarkup:
    """Back to the product's card, for an order that will not be paid."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton("🔁 Buy again", callback_data=encode("prod", order.product_id))]]
    )


def pay(order: Order) -> InlineKeyboardMarkup:
    assert order.checkout_url is not None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(texts.pay_button(order), url=order.checkout_url)]]
    )


def orders(orders: list[Order], page: int, pages: int) -> InlineKeyboardMarkup | None:
    rows = [
        [InlineKeyboardButton(f"📨 Send order #{o.id} again", callback_data=encode("again", o.id))]
        for o in orders
        if o.can_resend
    ]
    if pages > 1:
        rows.append(_nav_row("ord", page, pages))
    return InlineKeyboardMarkup(rows) if rows else None
