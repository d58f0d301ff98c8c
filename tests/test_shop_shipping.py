"""Service-level tests of the shipping use-cases (shop/shipping.py) on a real SQLite file: the
one refusal rule, one notice per change, and the delivered mark only after shipping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shop import shipping
from shop.shipping import ShipRefusal
from storage import orders
from storage.db import Database, fetch_all
from storage.models import Order, OrderStatus, ProductKind, ShippingStage
from tests.shop_records import add_product, new_order, scratch_db


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with scratch_db(tmp_path) as database:
        yield database


async def _order(db: Database, kind: ProductKind, *, paid: bool = True) -> Order:
    async with db.transaction() as tx:
        order = await new_order(tx, await add_product(tx, kind))
        for status in (OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID) if paid else ():
            assert await orders.transition(tx, order, status)
            order = await orders.get(tx, order.id) or order
    return order


async def _notices(db: Database) -> list[str]:
    rows = await fetch_all(db.reader, "SELECT dedupe_key FROM deliveries ORDER BY id")
    return [row[0] for row in rows]


async def test_refusals_change_nothing_and_owe_nothing(db: Database) -> None:
    wakes: list[None] = []
    digital = await _order(db, ProductKind.DIGITAL_TEXT)
    unpaid = await _order(db, ProductKind.PHYSICAL, paid=False)
    for order_id, expected in (
        (999, ShipRefusal.NO_ORDER),
        (digital.id, ShipRefusal.NOT_PHYSICAL),
        (unpaid.id, ShipRefusal.NOT_PAID),
    ):
        outcome = await shipping.ship(db, lambda: wakes.append(None), order_id, "1Z")
        assert outcome.refusal is expected
    assert not await shipping.mark_delivered(db, unpaid.id)
    assert await _notices(db) == [] and wakes == []


async def test_one_notice_per_change_then_delivered(db: Database) -> None:
    wakes: list[None] = []
    parcel = await _order(db, ProductKind.PHYSICAL)
    assert not await shipping.mark_delivered(db, parcel.id)  # not shipped yet

    async def ship(tracking: str | None) -> shipping.Shipped:
        return await shipping.ship(db, lambda: wakes.append(None), parcel.id, tracking)

    first = await ship(None)
    assert first.refusal is None and first.first
    again = await ship(None)
    assert again.refusal is ShipRefusal.ALREADY_SHIPPED
    for tracking in ("1Z", "1Z", "2Z"):
        await ship(tracking)
    assert await _notices(db) == [
        f"shipped:{parcel.id}",
        f"tracking:{parcel.id}:1",
        f"tracking:{parcel.id}:2",
    ]
    assert len(wakes) == 3  # one per notice owed; the refusals woke nobody
    assert await shipping.mark_delivered(db, parcel.id)
    stored = await orders.get(db.reader, parcel.id)
    assert stored is not None and stored.shipping_stage is ShippingStage.DELIVERED
    late = await ship("3Z")
    assert late.refusal is ShipRefusal.DELIVERED
