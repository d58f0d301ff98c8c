"""The aggregate tables summed from the orders in one statement each, for a bulk load.

The triggers of migration 0011 (PostgreSQL) keep order_counts, sales_daily, sales_total,
product_sales_daily and product_sales_total one order and one line at a time. That is right
for a running shop, and quadratic for a load of many orders in one transaction: each order's
trigger upserts the same few rows (its status's count, its currency's total, its product's
total), every upsert leaves a row version that no one may prune before the transaction ends,
and the next upsert of that row walks past all of them. At 8,000 orders one upsert of
`sales_total` reads 58 pages for two live rows (10 at 1,000), and a copy of 40,000 orders took
40 s. So a bulk load (`python -m storage.copy`, bench/growth_postgres.py) pauses the
aggregate triggers, writes the rows, and sums each aggregate table once with the statements
here: linear in the orders.

This is the one place those sums are written. They mirror the triggers' arithmetic: a sale is
`is_sale(status, paid_at)` (the migration's own function), its day `paid_at / 86400`, an
order's revenue its total less its discount, a line's revenue its subtotal less its share of
the order's discount in proportion to the subtotal, rounded toward zero line by line. The copy
holds them to the triggers: before it commits, every non-zero aggregate row must equal the one
SQLite's triggers built from the same orders (storage/copy_checks.py), so a sum that drifts
from the triggers (one revenue off by one) fails every copy instead of reaching /sales.
"""

from __future__ import annotations

from storage.sql import Connection, fetch_all

_SALE = "is_sale(o.status, o.paid_at)"
_LINE_REVENUE = (
    "l.unit_amount * l.quantity - o.amount_discount * l.unit_amount * l.quantity / o.amount_total"
)

# One INSERT … SELECT per aggregate table (storage/copy_tables.py's REBUILT), into empty tables.
REBUILD = (
    "INSERT INTO order_counts (status, n) SELECT status, COUNT(*) FROM orders GROUP BY status",
    "INSERT INTO sales_daily (day, currency, orders, revenue, refunded)"
    " SELECT o.paid_at / 86400, o.currency, COUNT(*), SUM(o.amount_total - o.amount_discount),"
    f" SUM(o.amount_refunded) FROM orders o WHERE {_SALE} GROUP BY 1, 2",
    "INSERT INTO sales_total (currency, orders, revenue, refunded)"
    " SELECT o.currency, COUNT(*), SUM(o.amount_total - o.amount_discount),"
    f" SUM(o.amount_refunded) FROM orders o WHERE {_SALE} GROUP BY 1",
    "INSERT INTO product_sales_daily (day, currency, product_id, orders, units, revenue)"
    " SELECT o.paid_at / 86400, o.currency, l.product_id, COUNT(*), SUM(l.quantity),"
    f" SUM({_LINE_REVENUE}) FROM orders o JOIN order_lines l ON l.order_id = o.id"
    f" WHERE {_SALE} GROUP BY 1, 2, 3",
    "INSERT INTO product_sales_total (currency, product_id, orders, units, revenue)"
    f" SELECT o.currency, l.product_id, COUNT(*), SUM(l.quantity), SUM({_LINE_REVENUE})"
    f" FROM orders o JOIN order_lines l ON l.order_id = o.id WHERE {_SALE} GROUP BY 1, 2",
)

# The triggers that write those tables (migration 0011), by table: the ones a bulk load
# pauses. The statement trigger that takes the serial-writes lock (lock_order_writes) and the
# one that keeps order lines unchanged stay on: neither writes an aggregate.
AGGREGATE_TRIGGERS = (
    ("orders", "order_counts_move"),
    ("orders", "order_sales_move"),
    ("order_lines", "product_sales_line"),
)

_STATES = (
    "SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t"
    " JOIN pg_class c ON c.oid = t.tgrelid"
    " WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal"
)


async def pause_aggregate_triggers(conn: Connection) -> None:
    """Switch the aggregate triggers off, inside the caller's transaction (PostgreSQL).

    `ALTER TABLE … DISABLE TRIGGER` is what the tables' owner, the shop's own database user,
    may do (`session_replication_role` needs a superuser); like all DDL on PostgreSQL it is
    transactional, so a load that fails and rolls back leaves them on, as they were, and no
    other session ever sees them off: the ALTER holds a lock on orders and order_lines that
    makes every other writer wait until the load commits or rolls back."""
    for table, trigger in AGGREGATE_TRIGGERS:
        await conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")


async def resume_aggregate_triggers(conn: Connection) -> None:
    """Switch them on again, in the same transaction, before it commits: the next order the
    shop takes moves the aggregates as every order did before the move."""
    for table, trigger in AGGREGATE_TRIGGERS:
        await conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")


async def trigger_states(conn: Connection) -> dict[tuple[str, str], str]:
    """Every user trigger of the schema, by (table, trigger): 'O' when it fires, 'D' when it
    is disabled (pg_trigger.tgenabled). For checks and tests."""
    rows = await fetch_all(conn, _STATES)
    return {(str(row[0]), str(row[1])): str(row[2]) for row in rows}


async def rebuild_aggregates(conn: Connection) -> None:
    """Sum every aggregate table from the orders and their lines (the tables must be empty,
    the aggregate triggers paused while the orders arrived)."""
    for statement in REBUILD:
        await conn.execute(statement)
