"""Sales figures for /sales, computed by SQLite in aggregate queries.

Every query walks the `orders_by_paid_at` index over the window (`INDEXED BY` makes SQLite
refuse to run rather than silently scan the table should the index ever go), so the cost grows
with the sales in the window, not with every order ever made, and no row reaches Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from storage.models import OrderStatus

# An order counts as a sale once paid, whatever happened after: refunds are shown beside the
# revenue rather than hiding the sale.
SALE_STATES = (
    OrderStatus.PAID,
    OrderStatus.FULFILLED,
    OrderStatus.PARTIALLY_REFUNDED,
    OrderStatus.REFUNDED,
)
_STATES_SQL = ", ".join(f"'{state.value}'" for state in SALE_STATES)


@dataclass(frozen=True)
class CurrencyTotals:
    """One currency's sales in a window; amounts in minor units."""

    currency: str
    orders: int
    units: int
    revenue: int
    refunded: int

    @property
    def net(self) -> int:
        return self.revenue - self.refunded


@dataclass(frozen=True)
class ProductSales:
    """One product's sales in one currency in a window, with its rank in that currency."""

    product_id: int
    title: str
    currency: str
    orders: int
    units: int
    revenue: int
    rank: int


async def totals(conn: aiosqlite.Connection, *, since: int) -> list[CurrencyTotals]:
    """Sales paid at or after `since` (unix seconds; 0 for all time), one row per currency."""
    async with conn.execute(
        "SELECT currency, COUNT(*), SUM(quantity), SUM(amount_total), SUM(amount_refunded)"
        " FROM orders INDEXED BY orders_by_paid_at"
        f" WHERE paid_at >= ? AND status IN ({_STATES_SQL})"  # noqa: S608 - constants only
        " GROUP BY currency ORDER BY currency",
        (since,),
    ) as cursor:
        rows = await cursor.fetchall()
    return [
        CurrencyTotals(
            currency=row[0],
            orders=int(row[1]),
            units=int(row[2]),
            revenue=int(row[3]),
            refunded=int(row[4]),
        )
        for row in rows
    ]


async def top_products(
    conn: aiosqlite.Connection, *, since: int, limit: int = 5
) -> list[ProductSales]:
    """The `limit` best-selling products by revenue in each currency, paid at or after
    `since`; ordered by currency, then rank. Amounts in different currencies are never added
    together, so each currency has its own ranking."""
    async with conn.execute(
        "SELECT product_id, title, currency, orders, units, revenue, rank FROM ("
        " SELECT o.product_id, p.title AS title, o.currency AS currency, COUNT(*) AS orders,"
        "  SUM(o.quantity) AS units, SUM(o.amount_total) AS revenue,"
        "  ROW_NUMBER() OVER ("
        "   PARTITION BY o.currency ORDER BY SUM(o.amount_total) DESC, o.product_id"
        "  ) AS rank"
        " FROM orders AS o INDEXED BY orders_by_paid_at"
        " JOIN products AS p ON p.id = o.product_id"
        f" WHERE o.paid_at >= ? AND o.status IN ({_STATES_SQL})"  # noqa: S608 - constants only
        " GROUP BY o.product_id, o.currency"
        ") WHERE rank <= ? ORDER BY currency, rank",
        (since, limit),
    ) as cursor:
        rows = await cursor.fetchall()
    return [
        ProductSales(
            product_id=int(row[0]),
            title=row[1],
            currency=row[2],
            orders=int(row[3]),
            units=int(row[4]),
            revenue=int(row[5]),
            rank=int(row[6]),
        )
        for row in rows
    ]
