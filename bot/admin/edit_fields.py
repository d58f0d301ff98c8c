"""What a product's Edit offers and says: its fields (which ones a product has depends on its
kind and rail), their labels, the value as it is now and the prompt for a new one. The dialog
itself is bot/admin/product_edit.py."""

from __future__ import annotations

from html import escape

from bot.admin import fields as admin_fields
from bot.admin.product_texts import (
    category_hint,
    countries_hint,
    countries_line,
    delivery_label,
    delivery_prompt,
    price_hint,
    rail_line,
    rail_rule,
    stars_hint,
)
from bot.texts import clip
from shop.context import Shop
from shop.i18n import N_, Lang
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
    "title": N_("Title"),
    "description": N_("Description"),
    "price": N_("Price"),
    "photo": N_("Photo"),
    "category": N_("Category"),
    "countries": N_("Ships to"),
    "rail": N_("Payment"),
    "stars": N_("Stars price"),
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


def field_label(lang: Lang, name: str, kind: ProductKind) -> str:
    if name == "delivery":
        return delivery_label(lang, kind)
    return lang.t(_FIELD_LABELS[name])


def current_value(lang: Lang, product: Product, what: str) -> str:
    """The field as it is now (HTML), so the admin sees what they are replacing."""
    if what == "price":
        return escape(lang.money(product.price_minor, product.currency))
    if what == "stars":
        return escape(lang.money(product.stars_price or 0, STARS_CURRENCY))
    if what == "rail":
        return rail_line(lang, product)
    if what == "photo":
        return lang.t("a photo") if product.photo else lang.t("no photo")
    if what == "category":
        return escape(product.category) if product.category else lang.t("no category")
    if what == "countries":
        return countries_line(lang, product.shipping_countries)
    value = {"title": product.title, "description": product.description}.get(
        what, product.delivery_text
    )
    return escape(clip(value, 300)) if value else lang.t("empty")


def _hint(lang: Lang, product: Product, what: str, shop: Shop) -> str:
    """What to send for the field, with its rules."""
    if what == "title":
        return lang.t(
            "Send the new <b>title</b> (1–{most} characters).", most=admin_fields.MAX_TITLE
        )
    if what == "description":
        return lang.t(
            "Send the new <b>description</b> (up to {most} characters), or /skip to remove it.",
            most=admin_fields.MAX_DESCRIPTION,
        )
    if what == "photo":
        return lang.t("Send the new <b>photo</b>, or /skip to remove it.")
    if what == "rail":
        return lang.t(
            "{rule}\n\nTap how buyers pay; a price it adds is asked next.", rule=rail_rule(lang)
        )
    hints = {
        "price": lambda: price_hint(lang, shop.settings.default_currency),
        "delivery": lambda: delivery_prompt(lang, product.kind),
        "category": lambda: category_hint(lang),
        "countries": lambda: countries_hint(lang, shop.settings.shipping_countries),
        "stars": lambda: stars_hint(lang),
    }
    return hints[what]()


def edit_prompt(lang: Lang, product: Product, what: str, shop: Shop) -> str:
    return lang.t(
        "✏️ <b>{field}</b> of <b>{title}</b>\nNow: {value}\n\n{hint}\n\n/cancel keeps it as it is.",
        field=field_label(lang, what, product.kind),
        title=escape(product.title),
        value=current_value(lang, product, what),
        hint=_hint(lang, product, what, shop),
    )
