"""The words and buttons every product dialog shares — /addproduct, /products' Edit and
/stock — so that a field is asked for, and explained, the same way wherever it is typed."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.admin.fields import MAX_CATEGORY, MAX_ITEM_LINES
from bot.callbacks import CATEGORY_BUTTONS, Button
from bot.texts import MAX_DELIVERY_TEXT, clip
from shop.catalog import MAX_STARS_PRICE, default_rail, risks_the_terms
from shop.money import format_money
from storage.models import STARS_CURRENCY, Product, ProductKind, ProductRail, Rail

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


RAIL_LABELS = {
    ProductRail.STRIPE: "💳 Stripe",
    ProductRail.STARS: "⭐ Telegram Stars",
    ProductRail.BOTH: "💳 + ⭐ Both",
}

RAIL_HELP = {
    ProductRail.STRIPE: "cards through Stripe Checkout, on a web page",
    ProductRail.STARS: "paid inside Telegram, in whole Stars",
    ProductRail.BOTH: "the buyer picks; you set a price for each",
}

# Telegram's bot developer terms, §6: digital goods and services only for Stars (§6.2), a
# payment provider for physical goods and services (§6.1).
RAIL_RULE = (
    "⚖️ Telegram's bot developer terms (§6) require digital goods and services sold in a bot to "
    "be paid in Telegram Stars; physical goods and services may be paid through a provider "
    "such as Stripe."
)

PHYSICAL_NOT_STARS = (
    "A physical product is paid through Stripe: Telegram Stars are for digital goods and "
    "services, and only Stripe Checkout asks for the delivery address."
)

TERMS_WARNING = (
    "⚠️ Digital goods sold by card only: Telegram's terms require Stars for them, and a bot "
    "that takes other payments for digital goods may be removed. Edit › Payment adds Stars."
)


# The same warning, short, under a product in the /products list.
LIST_WARNING = "⚠️ card only: Telegram's terms want Stars for digital goods"


def rail_prompt(kind: ProductKind, kind_label: str) -> str:
    rails = "\n".join(f"{RAIL_LABELS[r]} — {RAIL_HELP[r]}" for r in ProductRail)
    suggested = RAIL_LABELS[default_rail(kind)]
    note = f"\n\n{PHYSICAL_NOT_STARS}" if kind is ProductKind.PHYSICAL else ""
    return (
        f"How do buyers <b>pay</b> for it?\n\n{RAIL_RULE}\n\n{rails}\n\n"
        f"Suggested for {kind_label}: <b>{suggested}</b>.{note}"
    )


def rail_keyboard(kind: ProductKind, pick: Button, owner: int) -> InlineKeyboardMarkup:
    """Stripe / Stars / Both, the suggested one marked; `owner` is the buttons' first argument
    (the draft's token, or the edited product's id)."""
    suggested = default_rail(kind)
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    RAIL_LABELS[rail] + (" · suggested" if rail is suggested else ""),
                    callback_data=pick.encode(owner, rail.value),
                )
            ]
            for rail in ProductRail
        ]
    )


def stars_hint() -> str:
    return (
        "Send the price in <b>Telegram Stars</b>: a whole number from 1 to "
        f"{MAX_STARS_PRICE:,}, e.g. <code>150</code>."
    )


def prices_html(product: Product) -> str:
    """What a buyer pays, per rail: "$9.99", "⭐ 150" or "$9.99 · ⭐ 150"."""
    prices = []
    if product.sells_on(Rail.STRIPE):
        prices.append(escape(format_money(product.price_minor, product.currency)))
    if product.sells_on(Rail.STARS) and product.stars_price is not None:
        prices.append(escape(format_money(product.stars_price, STARS_CURRENCY)))
    return " · ".join(prices)


def rail_line(product: Product) -> str:
    """Its prices and rail, "$9.99 · 💳 Stripe", plus the terms' warning where it applies."""
    line = f"{prices_html(product)} · {RAIL_LABELS[product.rail]}"
    return f"{line}\n{TERMS_WARNING}" if risks_the_terms(product) else line


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
