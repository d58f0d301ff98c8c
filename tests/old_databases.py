"""Shops' SQLite files as earlier releases left them, for the tests of upgrades: before discounts
(migration 0004, tests/test_discounts.py) and before carts (0006: storage in
tests/test_order_lines_storage.py, the screens in tests/test_upgrade_views.py)."""

from __future__ import annotations

import sqlite3
from importlib import resources
from pathlib import Path

DAY = 86_400


def schema_at(db: sqlite3.Connection, version: int) -> None:
    """The tables as migrations 0001 to `version` made them, empty."""
    folder = resources.files("storage.migrations").joinpath("sqlite")
    last = f"{version:04d}"
    for name in sorted(e.name for e in folder.iterdir() if "0001" <= e.name[:4] <= last):
        db.executescript(folder.joinpath(name).read_text(encoding="utf-8"))
    db.execute(f"PRAGMA user_version = {version}")


def database_at_migration_0006(path: Path, *, refunded_in_full: bool = False) -> None:
    """A shop's file as the release before carts left it: single-product orders in every state
    that matters to /orders and /sales (with `refunded_in_full`, a fifth one refunded in full)."""
    with sqlite3.connect(path) as db:
        schema_at(db, 6)
        for pid, title, price, kind in [
            (1, "Ebook", 2000, "digital_text"),
            (2, "Mug", 1500, "physical"),
        ]:
            db.execute(
                "INSERT INTO products (id, title, price_minor, currency, kind, created_at,"
                " updated_at) VALUES (?, ?, ?, 'usd', ?, 0, 0)",
                (pid, title, price, kind),
            )
        rows = [
            # id, product, qty, unit, status, paid_at, discount, refunded, shipped_at
            (1, 1, 1, 2000, "fulfilled", DAY, 500, 0, None),
            (2, 2, 2, 1500, "partially_refunded", DAY + 60, 0, 1000, DAY * 2),
            (3, 1, 1, 2000, "expired", None, 0, 0, None),
            (4, 2, 1, 1500, "paid", 3 * DAY, 0, 0, None),
        ]
        if refunded_in_full:
            rows.append((5, 1, 2, 2000, "refunded", 4 * DAY, 0, 4000, None))
        for oid, pid, qty, unit, status, paid_at, discount, refunded, shipped in rows:
            kind = "physical" if pid == 2 else "digital_text"
            title = "Mug" if pid == 2 else "Ebook"
            db.execute(
                "INSERT INTO orders (id, ref, buyer_user_id, buyer_chat_id, product_id,"
                " product_title, quantity, unit_amount, amount_total, currency, status,"
                " expires_at, payment_intent_id, created_at, updated_at, paid_at, product_kind,"
                " amount_discount, amount_refunded, amount_charged, shipped_at)"
                " VALUES (?, ?, 7, 7, ?, ?, ?, ?, ?, 'usd', ?, 0, ?, 0, 0, ?, ?, ?, ?, ?, ?)",
                (oid, f"ref{oid}", pid, title, qty, unit, qty * unit, status, f"pi_{oid}",
                 paid_at, kind, discount, refunded,
                 qty * unit - discount if paid_at else None, shipped),
            )  # fmt: skip
        db.execute("INSERT INTO stock_items (product_id, content, state, order_id, created_at)"
                   " VALUES (1, 'KEY-1', 'sold', 1, 0)")  # fmt: skip
