"""Sales figures for /sales, computed by SQLite in aggregate queries.

The windows read the aggregates that triggers keep beside the orders (migrations 0003 and 0007),
in two levels: per order (orders, revenue, refunds) and per product from the order lines
(orders, units, revenue). "All time" reads one row per currency (× product) from `sales_total`
and `product_sales_total`, any other window one row per UTC day × currency (× product) from
`sales_daily` and `product_sales_daily` for its whole days, plus, when it starts mid-day (the
last 7 and 30 days), the orders of that first partial day through the `orders_by_paid_at` index
(`INDEXED BY` makes SQLite refuse to run rather than silently scan the table should the index
ever go). So /sales costs the same at a million orders as at a thousand, and no row reaches
Python.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.models import OrderStatus
from storage.sql import Connection

# An order counts as a sale once paid, whatever happened after: refunds are shown beside the
# revenue rather than hiding the sale.
SALE_STATES = (
    OrderStatus.PAID,
    OrderStatus.FULFILLED,
    OrderStatus.PARTIALLY_REFUNDED,
    OrderStatus.REFUNDED,
)
_STATES_SQL = ", ".join(f"'{state.value}'" for state in SALE_STATES)
DAY = 86_400

# A window's sales as rows to be summed: whole days from the daily rollups, then the orders paid
# between `since` and the first midnight at or after it (none when the window starts at
# midnight, as "today" does). Per order: (currency, orders, revenue, refunded); per product,
# from the lines: (currency, product_id, orders, units, revenue), a line's revenue being its
# subtotal less its share of the order's discount, as migration 0007 counts it.
_ORDER_DAYS = (
    "SELECT currency, orders AS n, revenue AS r, refunded AS f FROM sales_daily WHERE day >= ?"
    " UNION ALL"
    " SELECT currency, 1, amount_total - amount_discount, amount_refunded"
    " FROM orders INDEXED BY orders_by_paid_at"
    f" WHERE paid_at >= ? AND paid_at < ? AND status IN ({_STATES_SQL})"  # noqa: S608
)
_ORDER_ALL_TIME = "SELECT currency, orders AS n, revenue AS r, refunded AS f FROM sales_total"
_PRODUCT_DAYS = (
    "SELECT currency, product_id, orders AS n, units AS u, revenue AS r"
    " FROM product_sales_daily WHERE day >= ?"
    " UNION ALL"
    " SELECT o.currency, l.product_id, 1, l.quantity,"
    "  l.unit_amount * l.quantity - o.amount_discount * l.unit_amount * l.quantity / o.amount_total"
    " FROM orders AS o INDEXED BY orders_by_paid_at JOIN order_lines AS l ON l.order_id = o.id"
    f" WHERE o.paid_at >= ? AND o.paid_at < ? AND o.status IN ({_STATES_SQL})"  # noqa: S608
)
_PRODUCT_ALL_TIME = (
    "SELECT currency, product_id, orders AS n, units AS u, revenue AS r FROM product_sales_total"
)


def _window(since: int, *, days: str, all_time: str) -> tuple[str, tuple[int, ...]]:
    """The rows of the window starting at `since` and their parameters."""
    if since <= 0:
        return all_time, ()
    first_day = -(-since // DAY)  # the first midnight at or after `since`, as a day number
    return days, (first_day, since, first_day * DAY)


def _order_window(since: int) -> tuple[str, tuple[int, ...]]:
    return _window(since, days=_ORDER_DAYS, all_time=_ORDER_ALL_TIME)


def _product_window(since: int) -> tuple[str, tuple[int, ...]]:
    return _window(since, days=_PRODUCT_DAYS, all_time=_PRODUCT_ALL_TIME)


@dataclass(frozen=True)
class CurrencyTotals:
    """One currency's sales in a window; amounts in minor units, revenue net of the discounts
    promotion codes gave (what the orders were sold for, migration 0005)."""

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


async def totals(conn: Connection, *, since: int) -> list[CurrencyTotals]:
    """Sales paid at or after `since` (unix seconds; 0 for all time), one row per currency."""
    by_order, order_args = _order_window(since)
    by_product, product_args = _product_window(since)
    rows = await conn.execute_fetchall(
        "SELECT currency, SUM(n), SUM(u), SUM(r), SUM(f) FROM ("
        f" SELECT currency, n, 0 AS u, r, f FROM ({by_order}) AS o"  # noqa: S608 - constants only
        f" UNION ALL SELECT currency, 0, u, 0, 0 FROM ({by_product}) AS p"
        ") AS t GROUP BY currency HAVING SUM(n) > 0 ORDER BY currency",
        (*order_args, *product_args),
    )
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


async def top_products(conn: Connection, *, since: int, limit: int = 5) -> list[ProductSales]:
    """The `limit` best-selling products by revenue in each currency, paid at or after
    `since`; ordered by currency, then rank. Amounts in different currencies are never added
    together, so each currency has its own ranking."""
    window, args = _product_window(since)
    rows = await conn.execute_fetchall(
        "SELECT product_id, title, currency, orders, units, revenue, rank FROM ("
        " SELECT w.product_id, p.title AS title, w.currency AS currency, SUM(w.n) AS orders,"
        "  SUM(w.u) AS units, SUM(w.r) AS revenue,"
        "  ROW_NUMBER() OVER ("
        "   PARTITION BY w.currency ORDER BY SUM(w.r) DESC, w.product_id"
        "  ) AS rank"
        f" FROM ({window}) AS w"  # noqa: S608 - constants only
        " JOIN products AS p ON p.id = w.product_id"
        " GROUP BY w.product_id, p.id, w.currency HAVING SUM(w.n) > 0"
        ") AS ranked WHERE rank <= ? ORDER BY currency, rank",
        (*args, limit),
    )
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
