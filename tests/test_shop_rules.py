"""Service-level tests of the rules decided once in shop/ and storage/models.py: each over a
real SQLite file or on the records themselves, without the chat or the HTTP edge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from shop.stripe_facts import SessionFacts, target_status
from shop.unpaid import end_unpaid
from storage import orders, products, stock
from storage.clock import now
from storage.db import Database
from storage.models import Order, OrderStatus, ProductKind
from tests.shop_records import add_product, new_order, scratch_db

FACTS = SessionFacts(
    session_id="cs_test_1",
    order_id=1,
    order_ref="abc",
    status="open",
    payment_status="unpaid",
    amount_total=500,
    currency="eur",
    payment_intent=None,
    livemode=False,
)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with scratch_db(tmp_path) as database:
        yield database


async def _order_holding(
    db: Database, items: int, quantity: int, product_id: int = 0, buyer: int = 7
) -> Order:
    """A pending order reserving `quantity` items of a stock product (a new one with `items`
    in its pool, unless `product_id` names one)."""
    async with db.transaction() as tx:
        if not product_id:
            product_id = await add_product(tx, ProductKind.DIGITAL_STOCK)
            await stock.add_items(tx, product_id, [f"key-{n}" for n in range(items)])
        order = await new_order(tx, product_id, buyer=buyer, quantity=quantity)
        assert await stock.reserve(tx, product_id, order.id, quantity)
    return order


@pytest.mark.parametrize(
    ("status", "payment_status", "target"),
    [
        ("complete", "paid", OrderStatus.PAID),
        ("complete", "no_payment_required", OrderStatus.PAID),
        ("complete", "unpaid", OrderStatus.PROCESSING),
        ("expired", "unpaid", OrderStatus.EXPIRED),
        ("open", "unpaid", None),
        (None, None, None),
    ],
)
def test_target_status_is_one_table_for_every_caller(
    status: str | None, payment_status: str | None, target: OrderStatus | None
) -> None:
    facts = replace(FACTS, status=status, payment_status=payment_status)
    assert target_status(facts) is target


async def test_end_unpaid_releases_the_stock_and_a_late_second_ending_changes_nothing(
    db: Database,
) -> None:
    order = await _order_holding(db, items=3, quantity=2)
    assert await stock.available(db.reader, order.lines[0].product_id) == 1
    async with db.transaction() as tx:
        assert await end_unpaid(tx, order, OrderStatus.EXPIRED)
    assert await stock.available(db.reader, order.lines[0].product_id) == 3
    # A second buyer reserves the released items; a late second ending must not free them.
    second = await _order_holding(db, 0, 3, product_id=order.lines[0].product_id, buyer=8)
    async with db.transaction() as tx:
        assert not await end_unpaid(tx, order, OrderStatus.FAILED)
    assert await stock.reserved_for(db.reader, second.id) == 3
    ended = await orders.get(db.reader, order.id)
    assert ended is not None and ended.status is OrderStatus.EXPIRED


async def test_the_record_rules_on_a_stored_order(db: Database) -> None:
    order = await _order_holding(db, items=1, quantity=1)
    assert order.carries_reference(order.ref)
    assert not order.carries_reference(None) and not order.carries_reference("other")
    assert order.amount_paid == 500 and order.refundable_amount == 0
    discounted = replace(order, amount_discount=100)
    assert discounted.amount_paid == 400  # our price less the discount until Stripe charges
    charged = replace(discounted, amount_charged=450, payment_intent_id="pi_1", amount_refunded=50)
    assert charged.amount_paid == 450 and charged.refundable_amount == 400
    assert not order.can_ship  # digital, and unpaid
    parcel = replace(order, ships=True, status=OrderStatus.PAID)
    assert parcel.can_ship
    assert not replace(parcel, shipped_at=now()).can_ship
    assert not replace(parcel, status=OrderStatus.REFUNDED).can_ship


async def test_only_a_listed_product_is_buyable(db: Database) -> None:
    order = await _order_holding(db, items=1, quantity=1)
    product = await products.get(db.reader, order.lines[0].product_id)
    assert product is not None and product.buyable
    assert not replace(product, active=False).buyable
    assert not replace(product, archived=True).buyable
