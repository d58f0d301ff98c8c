"""The merchant's own translations of their texts (tables `product_translations` and
`category_translations`, migration 0011): one function per question. A product's translation
holds a row per language whose fields are each NULL until the merchant writes them, and a NULL
field means "show the original"; which language anyone sees is decided in shop/translations.py.
Nothing here is ever written by machine translation, only by the admin's dialog."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from storage.clock import now
from storage.sql import Connection, Row, fetch_all

# A product's translatable texts, as its columns are named (here and in `products`). The
# column names below are put into SQL only after being checked against this list.
TEXT_FIELDS = ("title", "description", "delivery_text")


@dataclass(frozen=True)
class ProductTranslation:
    """A product's texts in one language; None: not translated (buyers see the original)."""

    product_id: int
    language: str
    title: str | None = None
    description: str | None = None
    delivery_text: str | None = None

    def text(self, field: str) -> str | None:
        return {
            "title": self.title,
            "description": self.description,
            "delivery_text": self.delivery_text,
        }[_checked(field)]

    @classmethod
    def from_row(cls, row: Row) -> ProductTranslation:
        return cls(
            product_id=row["product_id"],
            language=row["language"],
            title=row["title"],
            description=row["description"],
            delivery_text=row["delivery_text"],
        )


def _checked(field: str) -> str:
    if field not in TEXT_FIELDS:
        raise ValueError(f"not a translatable field: {field!r}")
    return field


# --- a product's texts ----------------------------------------------------------------------------


async def set_product_text(
    conn: Connection, product_id: int, language: str, field: str, text: str
) -> None:
    """Write one field of a product's translation, keeping the language's other fields."""
    column = _checked(field)
    await conn.execute(
        f"INSERT INTO product_translations (product_id, language, {column}, updated_at)"  # noqa: S608
        f" VALUES (?, ?, ?, ?) ON CONFLICT (product_id, language)"
        f" DO UPDATE SET {column} = excluded.{column}, updated_at = excluded.updated_at",
        (product_id, language, text, now()),
    )


async def clear_product_text(conn: Connection, product_id: int, language: str, field: str) -> bool:
    """Take one field's translation away (buyers then see the original); True when there was
    one. A language left with no field at all loses its row, so "translated into" stays true."""
    column = _checked(field)
    changed = await conn.execute(
        f"UPDATE product_translations SET {column} = NULL, updated_at = ?"  # noqa: S608
        f" WHERE product_id = ? AND language = ? AND {column} IS NOT NULL",
        (now(), product_id, language),
    )
    cleared = changed == 1
    await conn.execute(
        "DELETE FROM product_translations WHERE product_id = ? AND language = ?"
        " AND title IS NULL AND description IS NULL AND delivery_text IS NULL",
        (product_id, language),
    )
    return cleared


async def of_product(conn: Connection, product_id: int) -> dict[str, ProductTranslation]:
    """Every language a product has texts in (for the admin's overview), by language code."""
    rows = await fetch_all(
        conn,
        "SELECT * FROM product_translations WHERE product_id = ? ORDER BY language",
        (product_id,),
    )
    return {str(row["language"]): ProductTranslation.from_row(row) for row in rows}


async def for_products(
    conn: Connection, product_ids: Iterable[int], language: str
) -> dict[int, ProductTranslation]:
    """The translations of many products into one language in one query, by product id (a
    catalog page, a cart, an order's lines); products without one are left out."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    rows = await fetch_all(
        conn,
        f"SELECT * FROM product_translations WHERE language = ?"  # noqa: S608
        f" AND product_id IN ({marks})",
        (language, *ids),
    )
    return {int(row["product_id"]): ProductTranslation.from_row(row) for row in rows}


# --- category names -------------------------------------------------------------------------------


async def category_names(conn: Connection, language: str) -> dict[str, str]:
    """Every category's name in one language, by the category as products store it."""
    rows = await fetch_all(
        conn, "SELECT category, name FROM category_translations WHERE language = ?", (language,)
    )
    return {str(row["category"]): str(row["name"]) for row in rows}


async def names_of_category(conn: Connection, category: str) -> dict[str, str]:
    """One category's names, by language code (for the admin's overview)."""
    rows = await fetch_all(
        conn,
        "SELECT language, name FROM category_translations WHERE category = ? ORDER BY language",
        (category,),
    )
    return {str(row["language"]): str(row["name"]) for row in rows}


async def set_category_name(conn: Connection, category: str, language: str, name: str) -> None:
    await conn.execute(
        "INSERT INTO category_translations (category, language, name, updated_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (category, language)"
        " DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at",
        (category, language, name, now()),
    )


async def clear_category_name(conn: Connection, category: str, language: str) -> bool:
    """Take a category's name in one language away; True when there was one."""
    changed = await conn.execute(
        "DELETE FROM category_translations WHERE category = ? AND language = ?",
        (category, language),
    )
    return changed == 1
