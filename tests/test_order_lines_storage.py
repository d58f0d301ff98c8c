"""Orders of many lines in storage (issue 12): the migration that turns every existing order into
a one-line order without losing anything, and the sales figures counted from the lines."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import carts, orders, products, sales
from storage.db import Database
from storage.models import OrderStatus, ProductKind
from storage.sqlite import SqliteDatabase
from tests.old_databases import DAY, database_at_migration_0006
from tests.shop_records import add_product, new_order, scratch_db


@pytest.fixture
async def upgraded(tmp_path: Path) -> AsyncIterator[Database]:
    path = tmp_path / "shop.db"
    database_at_migration_0006(path)
    db = await SqliteDatabase.open(path)
    try:
        yield db
    finally:
        await db.close()


@pytest.mark.sqlite_file
async def test_every_order_becomes_a_one_line_order_with_nothing_lost(
    upgraded: Database,
) -> None:
    found = await orders.get_many(upgraded.reader, [1, 2, 3, 4])
    assert [(o.id, o.status) for o in found] == [
        (1, OrderStatus.FULFILLED),
        (2, OrderStatus.PARTIALLY_REFUNDED),
        (3, OrderStatus.EXPIRED),
        (4, OrderStatus.PAID),
    ]
    ebook, mugs, expired, mug = found
    [line] = mugs.lines
    assert (line.product_id, line.title, line.kind, line.unit_amount, line.quantity) == (
        2, "Mug", ProductKind.PHYSICAL, 1500, 2,
    )  # fmt: skip
    assert (mugs.amount_total, mugs.amount_refunded, mugs.refundable_amount) == (3000, 1000, 2000)
    assert mugs.ships and mugs.shipped_at == 2 * DAY and not ebook.ships
    assert (ebook.amount_discount, ebook.amount_paid, ebook.units) == (500, 1500, 1)
    assert mug.can_ship and not mugs.can_ship and expired.lines[0].title == "Ebook"
    assert await orders.count_to_ship(upgraded.reader) == 1
    assert await products.has_orders(upgraded.reader, 2)
    assert (await upgraded.reader.execute_fetchall("PRAGMA foreign_key_check")) == []


@pytest.mark.sqlite_file
async def test_sales_after_the_upgrade_are_the_sales_before_it(upgraded: Database) -> None:
    [usd] = await sales.totals(upgraded.reader, since=0)
    # Orders 1, 2 and 4 are sales: 2000 - 500 + 3000 + 1500, refunds 1000, units 1 + 2 + 1.
    assert (usd.orders, usd.units, usd.revenue, usd.refunded) == (3, 4, 6000, 1000)
    top = await sales.top_products(upgraded.reader, since=0)
    assert [(p.title, p.orders, p.units, p.revenue) for p in top] == [
        ("Mug", 2, 3, 4500),
        ("Ebook", 1, 1, 1500),
    ]
    [day_one] = await sales.totals(upgraded.reader, since=DAY + 30)  # a partial first day
    assert (day_one.orders, day_one.units, day_one.revenue) == (2, 3, 4500)


@pytest.mark.sqlite_file
async def test_a_two_line_order_counts_each_product_and_its_share_of_the_discount(
    upgraded: Database,
) -> None:
    async with upgraded.transaction() as tx:
        order = await orders.create(
            tx,
            buyer_user_id=8,
            buyer_chat_id=8,
            buyer_name="Bo",
            lines=[
                orders.NewLine(1, "Ebook", ProductKind.DIGITAL_TEXT, 2000, 1),
                orders.NewLine(2, "Mug", ProductKind.PHYSICAL, 1500, 2),
            ],
            currency="usd",
            expires_at=10 * DAY,
        )
        assert (order.amount_total, order.basket, order.ships) == (5000, "1x1,2x2", True)
        await orders.transition(
            tx, order, OrderStatus.PAID, paid_at=5 * DAY, amount_discount=1000,
            amount_charged=4000, payment_intent_id="pi_new",
        )  # fmt: skip
    [usd] = await sales.totals(upgraded.reader, since=5 * DAY)
    assert (usd.orders, usd.units, usd.revenue, usd.refunded) == (1, 3, 4000, 0)
    top = await sales.top_products(upgraded.reader, since=5 * DAY)
    # The $10 discount splits 2:3 like the subtotals ($20 and $30).
    assert [(p.title, p.units, p.revenue) for p in top] == [("Mug", 2, 2400), ("Ebook", 1, 1600)]
    paid = await orders.get(upgraded.reader, order.id)
    assert paid is not None
    async with upgraded.transaction() as tx:  # a refund moves the order level only
        await orders.transition(tx, paid, OrderStatus.PARTIALLY_REFUNDED, amount_refunded=700)
    [usd] = await sales.totals(upgraded.reader, since=5 * DAY)
    assert (usd.revenue, usd.refunded, usd.net) == (4000, 700, 3300)
    assert [p.revenue for p in await sales.top_products(upgraded.reader, since=5 * DAY)] == [
        2400,
        1600,
    ]
    [all_time] = await sales.totals(upgraded.reader, since=0)
    assert (all_time.orders, all_time.units, all_time.revenue) == (4, 7, 10_000)


@pytest.mark.sqlite_file
async def test_order_lines_are_history(upgraded: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="never updated"):
        async with upgraded.transaction() as tx:
            await tx.execute("UPDATE order_lines SET unit_amount = 1 WHERE order_id = 1")


async def test_order_lines_are_history_on_every_engine(tmp_path: Path) -> None:
    """The rule is the schema's, so a hand-made UPDATE meets it on PostgreSQL too."""
    async with scratch_db(tmp_path) as db:
        async with db.transaction() as tx:
            order = await new_order(tx, await add_product(tx))
        with pytest.raises(db.dialect.errors, match="never updated"):
            async with db.transaction() as tx:
                await tx.execute(
                    "UPDATE order_lines SET unit_amount = 1 WHERE order_id = ?", (order.id,)
                )
        assert (await orders.get(db.reader, order.id)) == order


@pytest.mark.sqlite_file
async def test_an_order_needs_one_to_a_hundred_lines(upgraded: Database) -> None:
    with pytest.raises(ValueError, match="1 to 100 lines"):
        async with upgraded.transaction() as tx:
            await orders.create(
                tx, buyer_user_id=8, buyer_chat_id=8, buyer_name="", lines=[],
                currency="usd", expires_at=DAY,
            )  # fmt: skip


@pytest.mark.sqlite_file
async def test_the_cart_keeps_a_line_per_product_and_loses_deleted_products(
    upgraded: Database,
) -> None:
    async def add(buyer: int, product_id: int, quantity: int, price: int) -> int:
        async with upgraded.transaction() as tx:
            return await carts.add(
                tx, buyer, product_id=product_id, quantity=quantity, unit_amount=price,
                currency="usd",
            )  # fmt: skip

    assert await add(9, 1, 2, 2000) == 2
    assert await add(9, 1, 9, 2100) == 10  # onto its line, at most 10, at the newer price
    assert await add(9, 2, 1, 1500) == 1
    async with upgraded.transaction() as tx:
        await tx.execute(
            "INSERT INTO products (id, title, price_minor, currency, created_at, updated_at)"
            " VALUES (3, 'Poster', 900, 'usd', 0, 0)"
        )
    await add(9, 3, 1, 900)
    await add(10, 3, 1, 900)
    cart = await carts.lines(upgraded.reader, 9)
    assert [(line.product_id, line.quantity, line.unit_amount) for line in cart] == [
        (1, 10, 2100), (2, 1, 1500), (3, 1, 900),
    ]  # fmt: skip
    async with upgraded.transaction() as tx:
        assert await products.delete(tx, 3) == "deleted"
        assert await products.delete(tx, 2) == "archived"  # it has orders
        assert await carts.set_quantity(tx, 9, 1, 0)
    assert await carts.lines(upgraded.reader, 9) == []
    assert await carts.count(upgraded.reader, 10) == 0
