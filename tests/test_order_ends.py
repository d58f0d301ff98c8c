"""Ending an order without delivery gives its reserved stock back in the same move, once, and
never for an order the allow-list does not let end (a real SQLite file, no stand-ins needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import orders, products, stock
from storage.clock import now
from storage.db import Database
from storage.models import Order, OrderStatus, ProductKind


async def _reserved_order(db: Database) -> tuple[int, Order]:
    async with db.transaction() as tx:
        product = await products.add(
            tx, title="Key", price_minor=500, currency="usd", kind=ProductKind.DIGITAL_STOCK
        )
        await stock.add_items(tx, product, ["A", "B", "C"])
        order = await orders.create(
            tx, buyer_user_id=1, buyer_chat_id=1, buyer_name="b", product_id=product,
            product_title="Key", quantity=2, unit_amount=500, currency="usd",
            expires_at=now() + 3600, product_kind=ProductKind.DIGITAL_STOCK,
        )  # fmt: skip
        assert await stock.reserve(tx, product, order.id, 2)
    return product, order


async def test_ending_an_unpaid_order_releases_its_stock_once(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "shop.db")
    try:
        product, order = await _reserved_order(db)
        assert await stock.available(db.reader, product) == 1
        async with db.transaction() as tx:
            assert await orders.end_unpaid(tx, order, OrderStatus.EXPIRED)
        assert await stock.available(db.reader, product) == 3
        async with db.transaction() as tx:  # the same decision again (a duplicate event)
            assert not await orders.end_unpaid(tx, order, OrderStatus.EXPIRED)
        assert await stock.available(db.reader, product) == 3
    finally:
        await db.close()


async def test_a_paid_order_cannot_be_ended_and_keeps_its_stock(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "shop.db")
    try:
        product, order = await _reserved_order(db)
        async with db.transaction() as tx:
            assert await orders.transition(tx, order, OrderStatus.PAID)
            paid = await orders.get(tx, order.id)
            assert paid is not None
            assert not await orders.end_unpaid(tx, paid, OrderStatus.FAILED)
            with pytest.raises(ValueError, match="not an end without delivery"):
                await orders.end_unpaid(tx, paid, OrderStatus.REFUNDED)
        assert await stock.available(db.reader, product) == 1
        assert await stock.reserved_for(db.reader, order.id) == 2
    finally:
        await db.close()
