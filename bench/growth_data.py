"""Scenario 4's data: a year of a shop's orders generated straight into SQLite, at any size.

The orders go in with executemany in one transaction, on a database the shop's own migrations
created, spread evenly over the year before now, so every window of /sales holds the same share
of them at every size and growth shows up as growth. One seeded generator: the same orders on
every run, and on both engines (bench/growth_postgres.py loads the very same rows into
PostgreSQL with COPY).
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

YEAR = 365 * 86_400
PROBE_BUYER = 799_999  # has exactly PROBE_ORDERS orders at every size
PROBE_ORDERS = 20
PRODUCTS = 20
CHUNK = 50_000
# (status, share) — most orders end fulfilled; the rest as a shop sees them over a year.
MIX = (
    ("fulfilled", 0.88),
    ("paid", 0.01),
    ("refunded", 0.02),
    ("partially_refunded", 0.01),
    ("expired", 0.05),
    ("failed", 0.02),
    ("awaiting_payment", 0.01),
)
PAID = frozenset({"fulfilled", "paid", "refunded", "partially_refunded"})
ORDER_COLUMNS = (
    "id, ref, buyer_user_id, buyer_chat_id, buyer_name, basket, amount_total, currency, status,"
    " checkout_session_id, checkout_url, expires_at, payment_intent_id, message_id,"
    " failure_reason, created_at, updated_at, paid_at, amount_refunded"
)
LINE_COLUMNS = "order_id, line_no, product_id, title, kind, unit_amount, quantity"
PRODUCT_COLUMNS = "id, title, price_minor, currency, position, created_at, updated_at"
DELIVERY_COLUMNS = (
    "dedupe_key, order_id, kind, chat_id, status, attempts, next_attempt_at, created_at, sent_at"
)
_PAID_AT = 17  # paid_at's place in an order row
STATUSES = [s for s, _ in MIX]
WEIGHTS = [w for _, w in MIX]


Rows = list[tuple[tuple[object, ...], tuple[object, ...]]]  # (order row, its one line)


def product_rows(at: int) -> list[tuple[int, str, int, str, int, int, int]]:
    """PRODUCTS products (PRODUCT_COLUMNS), the last fifth in eur."""
    rows = []
    for p in range(1, PRODUCTS + 1):
        currency = "eur" if p > PRODUCTS * 0.8 else "usd"
        rows.append((p, f"Product {p}", 500 + 250 * p, currency, p, at - YEAR, at - YEAR))
    return rows


def prices(products: list[tuple[int, str, int, str, int, int, int]]) -> dict[int, tuple[int, str]]:
    """Each product's price and currency by id."""
    return {row[0]: (row[2], row[3]) for row in products}


def delivery_rows(orders: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """A goods delivery, sent when the order was paid (DELIVERY_COLUMNS), for each paid one."""
    return [
        (f"goods:{r[0]}", r[0], "goods", r[3], "sent", 1, r[_PAID_AT], r[_PAID_AT], r[_PAID_AT])
        for r in orders
        if r[_PAID_AT]
    ]


def _add_products(conn: sqlite3.Connection, at: int) -> dict[int, tuple[int, str]]:
    """PRODUCTS products, the last fifth in eur; their prices by id."""
    products = product_rows(at)
    conn.executemany(
        f"INSERT INTO products ({PRODUCT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
        products,
    )
    return prices(products)


@dataclass
class OrderRows:
    """Order rows in the orders table's column order, drawn from one seeded generator."""

    rng: random.Random
    prices: dict[int, tuple[int, str]]
    count: int
    at: int
    pool: int = field(init=False)
    probe_every: int = field(init=False)

    def __post_init__(self) -> None:
        self.pool = max(self.count // 5, 10)
        self.probe_every = self.count // PROBE_ORDERS

    def rows(self, first: int, last: int) -> Rows:
        """(order row, its one line) for orders `first` to `last`."""
        out: Rows = []
        for i in range(first, last + 1):
            created = self.at - YEAR + (i * YEAR) // self.count
            status = self.rng.choices(STATUSES, WEIGHTS)[0]
            product = self.rng.randint(1, PRODUCTS)
            price, currency = self.prices[product]
            quantity = 1 if self.rng.random() < 0.9 else self.rng.randint(2, 3)
            total = price * quantity
            buyer = (
                PROBE_BUYER
                if i % self.probe_every == 0
                else 800_000 + self.rng.randrange(self.pool)
            )
            paid = status in PAID
            refunded = total if status == "refunded" else total // 2 if "partially" in status else 0
            order = (
                i, f"{i:024x}", buyer, buyer, f"Buyer {buyer}", f"{product}x{quantity}", total,
                currency, status, f"cs_test_g{i:012d}",
                f"https://checkout.stripe.com/c/pay/cs_test_g{i:012d}", created + 3600,
                f"pi_g{i:012d}" if paid else None, None, None, created, created + 60,
                created + 60 if paid else None, refunded,
            )  # fmt: skip
            line = (i, 0, product, f"Product {product}", "digital_text", price, quantity)
            out.append((order, line))
        return out


def _insert(conn: sqlite3.Connection, rows: Rows) -> None:
    """The orders, their lines and a goods delivery for each paid one."""
    chunk = [order for order, _ in rows]
    conn.executemany(
        f"INSERT INTO orders ({ORDER_COLUMNS}) VALUES ({', '.join('?' * 19)})",  # noqa: S608
        chunk,
    )
    conn.executemany(
        f"INSERT INTO order_lines ({LINE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
        [line for _, line in rows],
    )
    conn.executemany(
        f"INSERT INTO deliveries ({DELIVERY_COLUMNS}) VALUES ({', '.join('?' * 9)})",  # noqa: S608
        delivery_rows(chunk),
    )


def generate(path: Path, count: int, at: int, seed: int = 5) -> None:
    """Fill an empty shop database with `count` orders (and their goods deliveries)."""
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = OFF")  # generation only; the shop's own pragmas rule
        conn.execute("BEGIN")
        orders = OrderRows(rng, _add_products(conn, at), count, at)
        # In chunks, so a million orders never sit in memory at once.
        for first in range(1, count + 1, CHUNK):
            _insert(conn, orders.rows(first, min(first + CHUNK - 1, count)))
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("ANALYZE")
    finally:
        conn.close()
