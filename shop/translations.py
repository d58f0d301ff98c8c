"""The merchant's own translations: a buyer sees a product's title, description and delivery
text, and a category's name, in their language where the merchant wrote one, and the original
otherwise (issue 14, item 4). Nothing the merchant typed is ever machine-translated: every
translation here was typed by an admin in /products → a product → 🌐 Translations.

Reading: `localized` (many products, one query) and `localized_one` give products whose texts
are already in the buyer's language, so whatever renders them (the catalog, the card, the
cart, checkout's line titles and Stripe's line items, the goods message) needs no second path;
`category_names` + `category_name` do the same for categories.

Writing: one transaction per change, as shop/catalog.py does for the originals. A translation
follows the very rules of the field it translates (length as Telegram counts it, one line for a
title, a delivery text that is not empty): the admin dialog checks it with the same functions
/addproduct and Edit use (bot/admin/fields.py), so no second copy of a limit exists to drift.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from shop.i18n import Lang, Languages
from storage import products, translations
from storage.db import Database
from storage.models import Product
from storage.sql import Connection
from storage.translations import TEXT_FIELDS, ProductTranslation

__all__ = [
    "TEXT_FIELDS",
    "ProductTranslations",
    "category_name",
    "category_names",
    "localized",
    "localized_category",
    "localized_one",
    "remove_category_name",
    "remove_text",
    "set_category_name",
    "set_text",
    "translatable",
    "translations_of",
]


def translatable(languages: Languages) -> tuple[Lang, ...]:
    """The languages a merchant can translate into: every offered one but the default, which
    is the language the originals are written in."""
    return tuple(lang for lang in languages.offered if lang.code != languages.default.code)


# --- what buyers see ------------------------------------------------------------------------------


def _applied(product: Product, translation: ProductTranslation | None) -> Product:
    """The product with each translated text in place of the original; a field without a
    translation (NULL, or empty) keeps the original, so a buyer never sees a blank title."""
    if translation is None:
        return product
    return replace(
        product,
        title=translation.title or product.title,
        description=translation.description or product.description,
        delivery_text=translation.delivery_text or product.delivery_text,
    )


async def localized(conn: Connection, items: Sequence[Product], language: str) -> list[Product]:
    """`items` in the same order, each with its texts in `language` where the merchant wrote
    them: one query however many products."""
    found = await translations.for_products(conn, (p.id for p in items), language)
    return [_applied(product, found.get(product.id)) for product in items]


async def localized_one(conn: Connection, product: Product, language: str) -> Product:
    """One product with its texts in `language` where the merchant wrote them."""
    return (await localized(conn, [product], language))[0]


async def category_names(conn: Connection, language: str) -> dict[str, str]:
    """Every category's name in `language` that the merchant wrote, by the stored category (read
    once per page, then `category_name` for each category shown)."""
    return await translations.category_names(conn, language)


def category_name(names: Mapping[str, str], category: str) -> str:
    """A category as a buyer reads it: its name in their language, else as the merchant named it.
    Only for display: buttons and queries go on naming the category as stored."""
    return names.get(category) or category


async def localized_category(conn: Connection, category: str, language: str) -> str:
    """One category's display name in `language`."""
    return category_name(await category_names(conn, language), category)


# --- what the admin sees and changes --------------------------------------------------------------


@dataclass(frozen=True)
class ProductTranslations:
    """Everything translated of one product: its texts by language, and its category's names
    by language (empty when it has no category)."""

    texts: Mapping[str, ProductTranslation] = field(default_factory=dict)
    category: Mapping[str, str] = field(default_factory=dict)

    def text(self, language: str, name: str) -> str | None:
        """A field's translation into `language`, or None."""
        found = self.texts.get(language)
        return found.text(name) if found is not None else None

    def done(self, language: str, *, has_category: bool) -> int:
        """How many of the product's parts (its three texts, and its category's name when it
        has one) are translated into `language`."""
        texts = sum(self.text(language, name) is not None for name in TEXT_FIELDS)
        return texts + int(has_category and language in self.category)


async def translations_of(conn: Connection, product: Product) -> ProductTranslations:
    """A product's translations and its category's names, for the admin's overview."""
    texts = await translations.of_product(conn, product.id)
    names = await translations.names_of_category(conn, product.category) if product.category else {}
    return ProductTranslations(texts, names)


async def _manageable(tx: Connection, product_id: int) -> bool:
    product = await products.get(tx, product_id)
    return product is not None and not product.archived


async def set_text(db: Database, product_id: int, language: str, name: str, text: str) -> bool:
    """Store a translated text, checked by the caller with the original field's rule; False
    (nothing stored) when the product was deleted or archived meanwhile."""
    async with db.transaction() as tx:
        if not await _manageable(tx, product_id):
            return False
        await translations.set_product_text(tx, product_id, language, name, text)
        return True


async def remove_text(db: Database, product_id: int, language: str, name: str) -> bool:
    """Take a translated text away (buyers then see the original); False when there was none."""
    async with db.transaction() as tx:
        return await translations.clear_product_text(tx, product_id, language, name)


async def set_category_name(db: Database, category: str, language: str, name: str) -> None:
    """Store a category's name in `language`, checked by the caller like a category's name."""
    async with db.transaction() as tx:
        await translations.set_category_name(tx, category, language, name)


async def remove_category_name(db: Database, category: str, language: str) -> bool:
    """Take a category's name in `language` away; False when there was none."""
    async with db.transaction() as tx:
        return await translations.clear_category_name(tx, category, language)
