"""The words and buttons every product dialog shares — /addproduct, /products' Edit and
/stock — so that a field is asked for, and explained, the same way wherever it is typed."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.admin.fields import MAX_CATEGORY, MAX_ITEM_LINES
from bot.callbacks import CATEGORY_BUTTONS, Button
from bot.texts import MAX_DELIVERY_TEXT, clip
from storage.models import ProductKind

KIND_LABELS = {
    ProductKind.DIGITAL_TEXT: "📄 Digital text",
    ProductKind.DIGITAL_STOCK: "🔑 Digital stock",
    ProductKind.PHYSICAL: "📦 Physical",
    ProductKind.SERVICE: "🛎 Service",
}


KIND_HELP = {
    ProductKind.DIGITAL_TEXT: "the same text for every buyer (a download link, instructions)",
    ProductKind.DIGITAL_STOCK: "one unique item per unit from a pool you fill (keys, codes)",
    ProductKind.PHYSICAL: "shipped by you: checkout asks for the delivery address",
    ProductKind.SERVICE: "the buyer gets a confirmation and your note",
}


DELIVERY_LABELS = {
    ProductKind.DIGITAL_TEXT: "Delivery text",
    ProductKind.DIGITAL_STOCK: "Instructions",
    ProductKind.PHYSICAL: "Note to the buyer",
    ProductKind.SERVICE: "Your note",
}


PAYMENT_POLICY = (
    "⚖️ Telegram requires digital goods and services sold in bots to be paid in Telegram Stars; "
    "card payments via Stripe suit physical goods — make sure your product is allowed."
)


def price_hint(default_currency: str) -> str:
    return (
        "Send the <b>price</b>, e.g. <code>9.99</code>, <code>9.99 eur</code> or "
        f"<code>1000 jpy</code>. Without a currency it is {escape(default_currency.upper())}."
    )


def delivery_prompt(kind: ProductKind) -> str:
    limit = MAX_DELIVERY_TEXT
    if kind is ProductKind.DIGITAL_TEXT:
        return (
            "Send the <b>delivery text</b> every buyer receives after paying — a download link, "
            f"a code, instructions (up to {limit} characters)."
        )
    if kind is ProductKind.DIGITAL_STOCK:
        return (
            "Send <b>instructions</b> sent along with each item (how to redeem it; up to "
            f"{limit} characters), or /skip."
        )
    if kind is ProductKind.PHYSICAL:
        return (
            "Send a <b>note to the buyer</b> shown after paying (e.g. shipping times; up to "
            f"{limit} characters), or /skip."
        )
    return (
        "Send <b>your note</b> to the buyer shown after paying (e.g. how to book; up to "
        f"{limit} characters), or /skip."
    )


ITEMS_HINT = (
    "Send the <b>items</b>, one per line (or upload a .txt file, one item per line, up to 1 MB "
    f"and {MAX_ITEM_LINES:,} lines)."
)


def countries_hint(shop_countries: tuple[str, ...]) -> str:
    return (
        "Which <b>countries</b> do you ship it to? Send two-letter codes, e.g. "
        f"<code>US, CA, DE</code>, or /skip for the shop's list ({', '.join(shop_countries)})."
    )


def countries_line(countries: tuple[str, ...] | None) -> str:
    return ", ".join(countries) if countries else "the shop's list (SHIPPING_COUNTRIES)"


def category_keyboard(
    names: list[str], pick: Button, no_category: Button, owner: int
) -> InlineKeyboardMarkup:
    """Existing categories (by index: names may be long) and "No category"; `owner` is the
    first argument of both buttons (the draft's token, or the edited product's id)."""
    rows = [
        [InlineKeyboardButton(clip(name, 40), callback_data=pick.encode(owner, index))]
        for index, name in enumerate(names[:CATEGORY_BUTTONS])
    ]
    rows.append([InlineKeyboardButton("No category", callback_data=no_category.encode(owner))])
    return InlineKeyboardMarkup(rows)


CATEGORY_HINT = (
    f"Tap a <b>category</b>, choose No category, or send a new name (up to {MAX_CATEGORY} "
    "characters)."
)
