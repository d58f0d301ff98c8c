"""Records for the service-level tests (tests/test_shop_*.py): a scratch database and orders
written through the storage functions the shop itself uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from storage import orders, products
from storage.clock import now
from storage.db import Database
from storage.models import Order, ProductKind


@asynccontextmanager
async def scratch_db(folder: Path) -> AsyncIterator[Database]:
    """A migrated SQLite file in `folder`, closed afterwards."""
    database = await Database.open(folder / "shop.sqlite3")
    try:
        yield database
    finally:
        await database.close()


async def add_product(
    tx: aiosqlite.Connection, kind: ProductKind = ProductKind.DIGITAL_TEXT, price: int = 500
) -> int:
    return await products.add(tx, title="Key", price_minor=price, currency="eur", kind=kind)


async def new_order(
    tx: aiosqlite.Connection, product_id: int, *, buyer: int = 7, quantity: int = 1
) -> Order:
    """A pending order as checkout writes it (before its Checkout Session exists)."""
    product = await products.get(tx, product_id)
    assert product is not None
    return await orders.create(
        tx,
        buyer_user_id=buyer,
        buyer_chat_id=buyer * 10,
        buyer_name="Ada",
        lines=[
            orders.NewLine(product_id, product.title, product.kind, product.price_minor, quantity)
        ],
        currency=product.currency,
        expires_at=now() + 3600,
    )
