"""Service-level tests of the catalog use-cases (shop/catalog.py) on a real SQLite file: a
stock product saved hidden appears with its first items, edits and order changes stick, and
a product with orders is archived rather than erased."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from shop import catalog
from storage import products
from storage.db import Database
from storage.models import Product, ProductKind
from tests.shop_records import add_product, new_order, scratch_db


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with scratch_db(tmp_path) as database:
        yield database


async def _stored(db: Database, product_id: int) -> Product:
    product = await products.get(db.reader, product_id)
    assert product is not None
    return product


async def test_a_hidden_stock_product_is_shown_by_its_first_items(db: Database) -> None:
    async with db.transaction() as tx:
        template_id = await add_product(tx, ProductKind.DIGITAL_STOCK)
    template = await _stored(db, template_id)
    draft = replace(template, title="Keys")
    saved, added, skipped = await catalog.add_product(db, draft, [], hidden=True)
    assert (added, skipped) == (0, 0) and not saved.buyable and saved.show_when_stocked
    upload = await catalog.upload_stock(db, saved.id, ["a", "b", "a"])
    assert upload == catalog.StockUpload(added=2, skipped=1, available=2, shown=True)
    assert (await _stored(db, saved.id)).buyable
    again = await catalog.upload_stock(db, saved.id, ["c"])
    assert again.available == 3 and not again.shown  # shown once, by the first upload


async def test_edit_hide_move_and_delete(db: Database) -> None:
    async with db.transaction() as tx:
        first, second = await add_product(tx), await add_product(tx)
        await new_order(tx, second)
    await catalog.edit_product(db, first, title="Renamed", price_minor=900)
    renamed = await _stored(db, first)
    assert (renamed.title, renamed.price_minor) == ("Renamed", 900)
    await catalog.set_visible(db, first, False)
    assert not (await _stored(db, first)).buyable
    assert not await catalog.move_product(db, first, -1)  # already first
    assert await catalog.move_product(db, first, 1)
    assert await catalog.delete_product(db, second) == "archived"  # it has an order
    assert await catalog.delete_product(db, first) == "deleted"
    assert await products.get(db.reader, first) is None
