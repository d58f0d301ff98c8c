"""The merchant's own translations on a real SQLite file: storage writes and clears one field
at a time, `localized` puts a language's texts in place of the originals (field by field, one
query for a whole page) and category names fall back to the original likewise."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shop import catalog, translations
from shop.i18n import Languages
from storage import products
from storage import translations as stored
from storage.db import Database, fetch_all
from storage.models import Product
from storage.translations import ProductTranslation
from tests.backend import sqlite_reader
from tests.shop_records import new_order, scratch_db


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with scratch_db(tmp_path) as database:
        yield database


async def _product(db: Database, **fields: object) -> Product:
    values: dict[str, object] = {
        "title": "Mug",
        "description": "A blue mug.",
        "delivery_text": "Thanks!",
        "price_minor": 900,
        "currency": "usd",
    }
    values.update(fields)
    async with db.transaction() as tx:
        product_id = await products.add(tx, **values)  # type: ignore[arg-type]
    found = await products.get(db.reader, product_id)
    assert found is not None
    return found


async def _rows(db: Database) -> list[tuple[object, ...]]:
    rows = await fetch_all(
        db.reader,
        "SELECT product_id, language, title, description, delivery_text"
        " FROM product_translations ORDER BY product_id, language",
    )
    return [tuple(row) for row in rows]


# --- storage --------------------------------------------------------------------------------------


async def test_fields_are_written_and_cleared_one_at_a_time(db: Database) -> None:
    mug = await _product(db)
    async with db.transaction() as tx:
        await stored.set_product_text(tx, mug.id, "es", "title", "Taza")
        await stored.set_product_text(tx, mug.id, "es", "description", "Una taza azul.")
        await stored.set_product_text(tx, mug.id, "es", "title", "Taza azul")  # replaced
        await stored.set_product_text(tx, mug.id, "ru", "delivery_text", "Спасибо!")
    assert await _rows(db) == [
        (mug.id, "es", "Taza azul", "Una taza azul.", None),
        (mug.id, "ru", None, None, "Спасибо!"),
    ]
    assert await stored.of_product(db.reader, mug.id) == {
        "es": ProductTranslation(mug.id, "es", "Taza azul", "Una taza azul.", None),
        "ru": ProductTranslation(mug.id, "ru", None, None, "Спасибо!"),
    }
    async with db.transaction() as tx:
        assert await stored.clear_product_text(tx, mug.id, "es", "title")
        assert not await stored.clear_product_text(tx, mug.id, "es", "title")  # already gone
        assert not await stored.clear_product_text(tx, mug.id, "fa", "title")  # never there
    assert await _rows(db) == [
        (mug.id, "es", None, "Una taza azul.", None),
        (mug.id, "ru", None, None, "Спасибо!"),
    ]
    async with db.transaction() as tx:  # the last field of a language takes its row along
        assert await stored.clear_product_text(tx, mug.id, "ru", "delivery_text")
    assert await _rows(db) == [(mug.id, "es", None, "Una taza azul.", None)]


async def test_only_the_translatable_columns_are_accepted(db: Database) -> None:
    mug = await _product(db)
    async with db.transaction() as tx:
        for write in (
            stored.set_product_text(tx, mug.id, "es", "price_minor", "1"),
            stored.set_product_text(tx, mug.id, "es", "title = 'x', language", "x"),
        ):
            with pytest.raises(ValueError, match="not a translatable field"):
                await write
        with pytest.raises(ValueError, match="not a translatable field"):
            await stored.clear_product_text(tx, mug.id, "es", "updated_at")
    assert await _rows(db) == []


async def test_many_products_in_one_language(db: Database) -> None:
    mug, pen, cap = await _product(db), await _product(db, title="Pen"), await _product(db)
    async with db.transaction() as tx:
        await stored.set_product_text(tx, mug.id, "es", "title", "Taza")
        await stored.set_product_text(tx, pen.id, "es", "title", "Bolígrafo")
        await stored.set_product_text(tx, pen.id, "pt_BR", "title", "Caneta")
    found = await stored.for_products(db.reader, [cap.id, pen.id, mug.id, pen.id], "es")
    assert {pid: t.title for pid, t in found.items()} == {mug.id: "Taza", pen.id: "Bolígrafo"}
    assert await stored.for_products(db.reader, [], "es") == {}
    assert list(await stored.for_products(db.reader, [pen.id], "pt_BR")) == [pen.id]


async def test_category_names_per_language(db: Database) -> None:
    async with db.transaction() as tx:
        await stored.set_category_name(tx, "Kitchen", "es", "Cocina")
        await stored.set_category_name(tx, "Kitchen", "pt_BR", "Cozinha")
        await stored.set_category_name(tx, "Books", "es", "Libro")
        await stored.set_category_name(tx, "Books", "es", "Libros")  # replaced
    assert await stored.category_names(db.reader, "es") == {"Kitchen": "Cocina", "Books": "Libros"}
    assert await stored.names_of_category(db.reader, "Kitchen") == {
        "es": "Cocina",
        "pt_BR": "Cozinha",
    }
    async with db.transaction() as tx:
        assert await stored.clear_category_name(tx, "Kitchen", "es")
        assert not await stored.clear_category_name(tx, "Kitchen", "es")
    assert await stored.category_names(db.reader, "es") == {"Books": "Libros"}
    assert await stored.category_names(db.reader, "ru") == {}


async def test_a_deleted_product_takes_its_translations_along(db: Database) -> None:
    mug = await _product(db)
    async with db.transaction() as tx:
        await stored.set_product_text(tx, mug.id, "es", "title", "Taza")
    assert await catalog.delete_product(db, mug.id) == "deleted"
    assert await _rows(db) == []


# --- what buyers see ------------------------------------------------------------------------------


async def test_localized_replaces_each_translated_field_and_keeps_the_rest(db: Database) -> None:
    mug, pen, cap = await _product(db), await _product(db, title="Pen"), await _product(db)
    async with db.transaction() as tx:
        await stored.set_product_text(tx, mug.id, "es", "title", "Taza")
        await stored.set_product_text(tx, mug.id, "es", "delivery_text", "¡Gracias!")
        await stored.set_product_text(tx, pen.id, "es", "description", "Un bolígrafo.")
        await stored.set_product_text(tx, pen.id, "es", "title", "")  # never shown blank
        await stored.set_product_text(tx, cap.id, "ru", "title", "Кепка")
    page = await translations.localized(db.reader, [pen, cap, mug], "es")
    assert [(p.id, p.title, p.description, p.delivery_text) for p in page] == [
        (pen.id, "Pen", "Un bolígrafo.", "Thanks!"),
        (cap.id, "Mug", "A blue mug.", "Thanks!"),  # only a Russian title: the original here
        (mug.id, "Taza", "A blue mug.", "¡Gracias!"),
    ]
    assert page[2].price_minor == mug.price_minor and page[2].kind is mug.kind
    assert await translations.localized(db.reader, [mug, pen], "en") == [mug, pen]
    assert await translations.localized(db.reader, [], "es") == []
    assert (await translations.localized_one(db.reader, cap, "ru")).title == "Кепка"
    assert await translations.localized_one(db.reader, cap, "es") == cap


@pytest.mark.sqlite_file
async def test_a_whole_page_is_localized_in_one_query(db: Database) -> None:
    page = [await _product(db, title=f"Item {n}") for n in range(8)]
    async with db.transaction() as tx:
        for product in page[::2]:
            await stored.set_product_text(tx, product.id, "es", "title", f"Artículo {product.id}")
    statements: list[str] = []
    await sqlite_reader(db).set_trace_callback(statements.append)
    try:
        shown = await translations.localized(db.reader, page, "es")
    finally:
        await sqlite_reader(db).set_trace_callback(None)
    assert [s for s in statements if "product_translations" in s] == statements
    assert len(statements) == 1
    assert [p.title for p in shown] == [
        f"Artículo {p.id}" if n % 2 == 0 else p.title for n, p in enumerate(page)
    ]


async def test_category_names_fall_back_to_the_original(db: Database) -> None:
    async with db.transaction() as tx:
        await stored.set_category_name(tx, "Kitchen", "es", "Cocina")
    names = await translations.category_names(db.reader, "es")
    assert translations.category_name(names, "Kitchen") == "Cocina"
    assert translations.category_name(names, "Garden") == "Garden"
    assert await translations.localized_category(db.reader, "Kitchen", "es") == "Cocina"
    assert await translations.localized_category(db.reader, "Kitchen", "ru") == "Kitchen"


# --- the admin's use-cases ------------------------------------------------------------------------


async def test_translatable_languages_are_the_offered_ones_but_the_default() -> None:
    languages = Languages.load(["en", "es", "fa"], default="es")
    assert [lang.code for lang in translations.translatable(languages)] == ["en", "fa"]
    assert translations.translatable(Languages.load(["en"])) == ()


async def test_use_cases_refuse_a_product_that_is_gone(db: Database) -> None:
    mug, sold = await _product(db), await _product(db, title="Sold")
    async with db.transaction() as tx:
        await new_order(tx, sold.id)
    assert await translations.set_text(db, mug.id, "es", "title", "Taza")
    assert await catalog.delete_product(db, sold.id) == "archived"
    assert not await translations.set_text(db, sold.id, "es", "title", "Vendido")
    assert not await translations.set_text(db, 9999, "es", "title", "Nada")
    assert await _rows(db) == [(mug.id, "es", "Taza", None, None)]
    assert await translations.remove_text(db, mug.id, "es", "title")
    assert not await translations.remove_text(db, mug.id, "es", "title")
    assert await _rows(db) == []


async def test_the_admin_overview_counts_what_is_done(db: Database) -> None:
    mug = await _product(db, category="Kitchen")
    pen = await _product(db, title="Pen")
    await translations.set_text(db, mug.id, "es", "title", "Taza")
    await translations.set_text(db, mug.id, "es", "description", "Una taza.")
    await translations.set_category_name(db, "Kitchen", "es", "Cocina")
    await translations.set_category_name(db, "Kitchen", "ru", "Кухня")
    found = await translations.translations_of(db.reader, mug)
    assert found.text("es", "title") == "Taza" and found.text("es", "delivery_text") is None
    assert found.text("ru", "title") is None
    assert found.done("es", has_category=True) == 3
    assert found.done("ru", has_category=True) == 1
    assert found.done("ru", has_category=False) == 0
    assert await translations.remove_category_name(db, "Kitchen", "ru")
    assert not await translations.remove_category_name(db, "Kitchen", "ru")
    assert (await translations.translations_of(db.reader, mug)).category == {"es": "Cocina"}
    empty = await translations.translations_of(db.reader, pen)
    assert (dict(empty.texts), dict(empty.category)) == ({}, {})
