"""`python -m storage.copy` sums the aggregates once instead of through the target's triggers
(storage/aggregates_rebuild.py: the triggers make a copy quadratic in the orders). These are
the promises that choice must keep: the sums equal, row for row, what SQLite's triggers kept
(uneven discounts spread over lines and rounded line by line, refunds, several days and
currencies), so that one revenue off by one refuses the copy; the triggers fire again on the
target after a copy, and after a copy that failed, wherever it failed; and pausing them needs
no more than owning the tables, as the shop's own database user does."""

from __future__ import annotations

import asyncio
import contextlib
import io
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from storage import orders, products
from storage.aggregates_rebuild import AGGREGATE_TRIGGERS, trigger_states
from storage.clock import now
from storage.copy import main
from storage.db import Database, SqliteFile, fetch_one, open_database
from storage.sql import Connection
from testkit.postgres import USER, PostgresCluster
from tests.shop_records import new_order

pytestmark = pytest.mark.postgresql_only

DAY = 86_400
# Every aggregate row with a figure that is not zero (a row of zeros reads as no row).
_NON_ZERO = {
    "order_counts": "SELECT status, n FROM order_counts WHERE n <> 0",
    "sales_daily": "SELECT day, currency, orders, revenue, refunded FROM sales_daily"
    " WHERE orders <> 0 OR revenue <> 0 OR refunded <> 0",
    "sales_total": "SELECT currency, orders, revenue, refunded FROM sales_total"
    " WHERE orders <> 0 OR revenue <> 0 OR refunded <> 0",
    "product_sales_daily": "SELECT day, currency, product_id, orders, units, revenue"
    " FROM product_sales_daily WHERE orders <> 0 OR units <> 0 OR revenue <> 0",
    "product_sales_total": "SELECT currency, product_id, orders, units, revenue"
    " FROM product_sales_total WHERE orders <> 0 OR units <> 0 OR revenue <> 0",
}


@asynccontextmanager
async def _opened(url: str) -> AsyncIterator[Database]:
    from bot.config import database_target

    db = await open_database(database_target(url))
    try:
        yield db
    finally:
        await db.close()


async def _line(tx: Connection, product_id: int, quantity: int) -> orders.NewLine:
    product = await products.get(tx, product_id)
    assert product is not None
    return orders.NewLine(product_id, product.title, product.kind, product.price_minor, quantity)


async def _shop_with_uneven_discounts(path: Path) -> None:
    """Orders whose discounts do not divide evenly over their lines, paid on two days in two
    currencies, then fulfilled, partly or fully refunded, or never paid; SQLite's triggers keep
    the aggregates as the shop moves each order on (raw UPDATEs, as its transitions write)."""
    db = await open_database(SqliteFile(path))
    today = now() - now() % DAY
    try:
        async with db.transaction() as tx:
            mug = await products.add(tx, title="Mug", price_minor=333, currency="usd")
            pen = await products.add(tx, title="Pen", price_minor=777, currency="usd")
            lamp = await products.add(tx, title="Lamp", price_minor=1001, currency="usd")
            tea = await products.add(tx, title="Tea", price_minor=499, currency="eur")
            stories = [
                # lines, currency, discount, paid at, final status, refunded
                ([(mug, 3), (pen, 1), (lamp, 2)], "usd", 101, today + 60, "fulfilled", 0),
                ([(mug, 1), (lamp, 1)], "usd", 7, today - DAY, "partially_refunded", 500),
                ([(tea, 2)], "eur", 0, today - DAY, "refunded", 998),
                ([(pen, 2)], "usd", 0, None, "expired", 0),
            ]
            for n, (lines, currency, discount, paid_at, status, refunded) in enumerate(stories):
                order = await orders.create(
                    tx, buyer_user_id=100 + n, buyer_chat_id=100 + n, buyer_name="Ada",
                    lines=[await _line(tx, p, q) for p, q in lines], currency=currency,
                    expires_at=now() + 3600, from_cart=len(lines) > 1,
                )  # fmt: skip
                if paid_at is not None:
                    await tx.execute(
                        "UPDATE orders SET status = 'paid', paid_at = ?, amount_discount = ?"
                        " WHERE id = ?",
                        (paid_at, discount, order.id),
                    )
                await tx.execute(
                    "UPDATE orders SET status = ?, amount_refunded = ? WHERE id = ?",
                    (status, refunded, order.id),
                )
            await new_order(tx, pen)  # still pending
    finally:
        await db.close()


async def _copy(source: Path, target: str) -> tuple[int, str]:
    """`python -m storage.copy` in this process: its exit status and its stderr."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = await asyncio.to_thread(main, [f"sqlite:///{source}", target])
    return status, err.getvalue()


async def _rows(db: Database, sql: str) -> list[tuple[object, ...]]:
    return sorted(tuple(row) for row in await db.reader.execute_fetchall(sql))


async def _held(url: str) -> int:
    async with _opened(url) as db:
        row = await fetch_one(
            db.reader, "SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM order_counts)"
        )
        return int(row[0]) if row else -1


async def _triggers_fire(url: str) -> None:
    """Every trigger of the target is on, and a new order, then its payment, moves the order
    counts, the sales and the product's sales, as in the shop."""
    async with _opened(url) as db:
        states = await trigger_states(db.reader)
        assert set(AGGREGATE_TRIGGERS) <= set(states)
        assert set(states.values()) == {"O"}, states
        row = await fetch_one(db.reader, "SELECT MIN(id) FROM products WHERE currency = 'usd'")
        assert row is not None
        product_id = int(row[0])
        figures = (
            "SELECT (SELECT COALESCE(SUM(n), 0) FROM order_counts WHERE status = 'paid'),"
            " (SELECT COALESCE(SUM(orders), 0) FROM sales_total WHERE currency = 'usd'),"
            " (SELECT COALESCE(SUM(units), 0) FROM product_sales_total"
            f"   WHERE product_id = {product_id})"
        )
        before = await fetch_one(db.reader, figures)
        async with db.transaction() as tx:
            order = await new_order(tx, product_id, buyer=999, quantity=2)
            await tx.execute(
                "UPDATE orders SET status = 'paid', paid_at = ? WHERE id = ?", (now(), order.id)
            )
        after = await fetch_one(db.reader, figures)
        assert before is not None and after is not None
        assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 2]


async def test_the_sums_equal_sqlite_s_triggers_and_one_revenue_off_refuses_the_copy(
    tmp_path: Path, postgres_cluster: PostgresCluster
) -> None:
    source = tmp_path / "shop.db"
    await _shop_with_uneven_discounts(source)
    target = postgres_cluster.create_database(f"copy_{uuid.uuid4().hex[:10]}")
    assert await _copy(source, target) == (0, "")
    async with _opened(f"sqlite:///{source}") as old, _opened(target) as new:
        for table, sql in _NON_ZERO.items():
            assert await _rows(new, sql) == await _rows(old, sql), table
            assert await _rows(new, sql), table
        # The discounts were spread over the lines and rounded line by line: the products'
        # revenue is not the orders' (usd: 5,007 against 5,004).
        by_products = await fetch_one(
            new.reader, "SELECT SUM(revenue) FROM product_sales_total WHERE currency = 'usd'"
        )
        by_orders = await fetch_one(
            new.reader, "SELECT revenue FROM sales_total WHERE currency = 'usd'"
        )
        assert by_products is not None and by_orders is not None
        assert (int(by_products[0]), int(by_orders[0])) == (5007, 5004)

    with sqlite3.connect(source) as conn:
        conn.execute(
            "UPDATE product_sales_total SET revenue = revenue + 1"
            " WHERE product_id = (SELECT MIN(product_id) FROM product_sales_total)"
        )
    another = postgres_cluster.create_database(f"copy_{uuid.uuid4().hex[:10]}")
    status, err = await _copy(source, another)
    assert status == 1 and "product_sales_total rebuilt differently" in err, err
    assert await _held(another) == 0


async def test_the_triggers_fire_on_the_target_after_a_copy(
    tmp_path: Path, postgres_cluster: PostgresCluster
) -> None:
    await _shop_with_uneven_discounts(tmp_path / "shop.db")
    target = postgres_cluster.create_database(f"copy_{uuid.uuid4().hex[:10]}")
    assert await _copy(tmp_path / "shop.db", target) == (0, "")
    await _triggers_fire(target)


@pytest.mark.parametrize(
    ("spoil", "says"),
    [
        # a row the target refuses, met while the triggers are paused
        (
            "INSERT INTO category_translations (category, language, name, updated_at)"
            " VALUES ('extras', 'de', 'Extras', 'yesterday')",
            "yesterday",
        ),
        # figures that disagree, found after the triggers are on again
        ("UPDATE order_counts SET n = n + 1", "order_counts rebuilt differently"),
    ],
)
async def test_the_triggers_fire_on_the_target_after_a_copy_that_failed(
    tmp_path: Path, postgres_cluster: PostgresCluster, spoil: str, says: str
) -> None:
    await _shop_with_uneven_discounts(tmp_path / "shop.db")
    with sqlite3.connect(tmp_path / "shop.db") as conn:
        conn.execute(spoil)
    target = postgres_cluster.create_database(f"copy_{uuid.uuid4().hex[:10]}")
    status, err = await _copy(tmp_path / "shop.db", target)
    assert status == 1 and says in err, err
    assert await _held(target) == 0
    async with _opened(target) as db, db.transaction() as tx:
        await products.add(tx, title="Key", price_minor=500, currency="usd")
    await _triggers_fire(target)


async def test_a_copy_needs_only_to_own_the_target_not_a_superuser(
    tmp_path: Path, postgres_cluster: PostgresCluster
) -> None:
    """Pausing a trigger is the tables' owner's right: a merchant's database user that owns
    its database (and so the tables the migrations create) copies into it."""
    role = f"merchant_{uuid.uuid4().hex[:8]}"
    name = f"copy_{uuid.uuid4().hex[:10]}"
    postgres_cluster.psql(f"CREATE ROLE {role} LOGIN NOSUPERUSER")
    postgres_cluster.psql(f'CREATE DATABASE "{name}" OWNER {role}')
    target = postgres_cluster.url(name).replace(f"://{USER}@", f"://{role}@")
    await _shop_with_uneven_discounts(tmp_path / "shop.db")
    assert await _copy(tmp_path / "shop.db", target) == (0, "")
    await _triggers_fire(target)
