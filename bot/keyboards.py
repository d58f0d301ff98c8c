"""Inline keyboards. Every callback goes through `callbacks.encode`, so each fits 64 bytes."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import texts
from bot.callbacks import MAX_QUANTITY, encode
from bot.money import format_money
from storage.models import Order, Product


def _nav_row(action: str, page: int, pages: int) -> list[InlineKeyboardButton]:
    row = []
    if page > 0:
        row.append(InlineKeyboardButton("‹ Back", callback_data=encode(action, page - 1)))
    row.append(InlineKeyboardButton(f"{page + 1}/{pages}", callback_data=encode("noop")))
    if page + 1 < pages:
        row.append(InlineKeyboardButton("Next ›", callback_data=encode(action, page + 1)))
    return row


def start_menu() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("🛍️ Browse the catalog", callback_data=encode("cat", 0))],
            [InlineKeyboardButton("📦 My orders", callback_data=encode("ord", 0))],
        ]
    )


def catalog(products: list[Product], page: int, pages: int) -> InlineKeyboardMarkup:
    rows = [
        [InlineKeyboardButton(texts.catalog_button(p), callback_data=encode("prod", p.id))]
        for p in products
    ]
    if pages > 1:
        rows.append(_nav_row("cat", page, pages))
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
    less, more = max(quantity - 1, 1), min(quantity + 1, most)
    total = format_money(product.price_minor * quantity, product.currency)
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("−", callback_data=encode("qty", product.id, less)),
                InlineKeyboardButton(f"Qty {quantity}", callback_data=encode("noop")),
                InlineKeyboardButton("+", callback_data=encode("qty", product.id, more)),
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


def pay(order: Order) -> InlineKeyboardMarkup:
    assert order.checkout_url is not None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(texts.pay_button(order), url=order.checkout_url)]]
    )


def orders(orders: list[Order], page: int, pages: int) -> InlineKeyboardMarkup | None:
    rows = [
        [InlineKeyboardButton(f"📨 Send order #{o.id} again", callback_data=encode("again", o.id))]
        for o in orders
        if o.is_paid
    ]
    if pages > 1:
        rows.append(_nav_row("ord", page, pages))
    return InlineKeyboardMarkup(rows) if rows else None
