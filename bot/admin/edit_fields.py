"""What a product's Edit offers and says: its fields (which ones a product has depends on its
kind and rail), their labels, the value as it is now and the prompt for a new one. The dialog
itself is bot/admin/product_edit.py."""

from __future__ import annotations

from html import escape

from bot.admin import fields as admin_fields
from bot.admin.product_texts import (
    CATEGORY_HINT,
    DELIVERY_LABELS,
    RAIL_RULE,
    countries_hint,
    countries_line,
    delivery_prompt,
    price_hint,
    rail_line,
    stars_hint,
)
from bot.texts import clip
from shop.context import Shop
from shop.money import format_money
from storage.models import STARS_CURRENCY, Product, ProductKind, Rail

# Editable fields, by their index in EDIT_FIELD buttons (new ones go last: old buttons keep
# their meaning).
FIELDS = (
    "title",
    "description",
    "price",
    "photo",
    "delivery",
    "category",
    "countries",
    "rail",
    "stars",
)
_FIELD_LABELS = {
    "title": "Title",
    "description": "Description",
    "price": "Price",
    "photo": "Photo",
    "category": "Category",
    "countries": "Ships to",
    "rail": "Payment",
    "stars": "Stars price",
}


def _has(product: Product, name: str) -> bool:
    """Only a physical product ships (countries) and it is Stripe's only (no Payment choice);
    a price by card only when Stripe sells it, a Stars price only when Stars do."""
    physical = product.kind is ProductKind.PHYSICAL
    return {
        "countries": physical,
        "rail": not physical,
        "price": product.sells_on(Rail.STRIPE),
        "stars": product.sells_on(Rail.STARS),
    }.get(name, True)


def fields_of(product: Product) -> list[tuple[int, str]]:
    """(index in FIELDS, name) of the fields this product has."""
    return [(index, name) for index, name in enumerate(FIELDS) if _has(product, name)]


def field_label(name: str, kind: ProductKind) -> str:
    return DELIVERY_LABELS[kind] if name == "delivery" else _FIELD_LABELS[name]


def current_value(product: Product, what: str) -> str:
    """The field as it is now (HTML), so the admin sees what they are replacing."""
    if what == "price":
        return escape(format_money(product.price_minor, product.currency))
    if what == "stars":
        return escape(format_money(product.stars_price or 0, STARS_CURRENCY))
    if what == "rail":
        return rail_line(product)
    if what == "photo":
        return "a photo" if product.photo else "no photo"
    if what == "category":
        return escape(product.category) if product.category else "no category"
    if what == "countries":
        return countries_line(product.shipping_countries)
    value = {"title": product.title, "description": product.description}.get(
        what, product.delivery_text
    )
    return escape(clip(value, 300)) if value else "empty"


def edit_prompt(product: Product, what: str, shop: Shop) -> str:
    label = field_label(what, product.kind)
    hints = {
        "title": f"Send the new <b>title</b> (1–{admin_fields.MAX_TITLE} characters).",
        "description": (
            f"Send the new <b>description</b> (up to {admin_fields.MAX_DESCRIPTION} characters), "
            "or /skip to remove it."
        ),
        "price": price_hint(shop.settings.default_currency),
        "photo": "Send the new <b>photo</b>, or /skip to remove it.",
        "delivery": delivery_prompt(product.kind),
        "category": CATEGORY_HINT,
        "countries": countries_hint(shop.settings.shipping_countries),
        "rail": f"{RAIL_RULE}\n\nTap how buyers pay; a price it adds is asked next.",
        "stars": stars_hint(),
    }
    return (
        f"✏️ <b>{label}</b> of <b>{escape(product.title)}</b>\n"
        f"Now: {current_value(product, what)}\n\n{hints[what]}\n\n/cancel keeps it as it is."
    )
