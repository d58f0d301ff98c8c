"""The crash tests' audit: what the database, the chats and Stripe say after the storm, read
straight from the database (with the bot stopped, or beside it) and from the Telegram stand-in's
chats. The database is read without the shop's code: sqlite3 on the SQLite file, psycopg on
PostgreSQL, the same SQL on both."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import psycopg

from sandbox.fake_telegram import FakeTelegram

KEY_PATTERN = re.compile(r"CRASHKEY-\d+-\d+")
ORDER_NUMBER = re.compile(r"#(\d+)")
Row = tuple[Any, ...]


class AuditDb(Protocol):
    """The shop's database as the audit reads it: rows of a query, or a change and its count.
    SQL with `?` placeholders, the same on both engines."""

    def rows(self, sql: str, args: Sequence[object] = ()) -> list[Row]: ...

    def change(self, sql: str, args: Sequence[object] = ()) -> int: ...


@dataclass(frozen=True)
class SqliteAudit:
    """The SQLite file, through sqlite3 (the file's own view, whatever the bot's code does)."""

    path: Path

    def rows(self, sql: str, args: Sequence[object] = ()) -> list[Row]:
        with contextlib.closing(sqlite3.connect(self.path, timeout=30)) as db:
            return db.execute(sql, tuple(args)).fetchall()

    def change(self, sql: str, args: Sequence[object] = ()) -> int:
        with contextlib.closing(sqlite3.connect(self.path, timeout=30)) as db, db:
            return db.execute(sql, tuple(args)).rowcount


@dataclass(frozen=True)
class PostgresAudit:
    """A PostgreSQL database, through psycopg."""

    url: str

    def rows(self, sql: str, args: Sequence[object] = ()) -> list[Row]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(_pg(sql), tuple(args)).fetchall()

    def change(self, sql: str, args: Sequence[object] = ()) -> int:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(_pg(sql), tuple(args)).rowcount


def _pg(sql: str) -> Any:  # psycopg's LiteralString: the audit's own constant SQL
    return sql.replace("?", "%s")


def _count(db: AuditDb, sql: str) -> int:
    return int(db.rows(sql)[0][0])


def pending_work(db: AuditDb) -> int:
    """What the shop still has to do: outbox deliveries pending, webhook updates not handled,
    Stripe events recorded and not applied."""
    return (
        _count(db, "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'")
        + _count(db, "SELECT COUNT(*) FROM telegram_updates WHERE handled_at IS NULL")
        + _count(db, "SELECT COUNT(*) FROM stripe_inbox WHERE applied_at IS NULL")
    )


def age_open_orders(db: AuditDb) -> int:
    """Move the expiry of every still-open order an hour into the past — as if the link's whole
    life had gone by — so that the bot's reconciliation must deal with it; the reconciliation's
    own leases are over too (an hour is longer than its period). Returns how many orders."""
    expire_reconciliation_leases(db)
    return db.change(
        "UPDATE orders SET expires_at = ? WHERE status IN ('pending', 'awaiting_payment')",
        (int(time.time()) - 3600,),
    )


def expire_reconciliation_leases(db: AuditDb) -> None:
    """The reconciliation ran "a period ago": the next instance whose timer fires runs it."""
    db.change("UPDATE leases SET expires_at = 0 WHERE name LIKE ?", ("reconcile%",))


def open_orders(db: AuditDb) -> int:
    return _count(db, "SELECT COUNT(*) FROM orders WHERE status IN ('pending', 'awaiting_payment')")


@dataclass(frozen=True)
class OrderRow:
    id: int
    buyer: int
    product_id: int
    quantity: int
    status: str
    session_id: str | None
    kind: str


@dataclass
class Audit:
    """What the database, the chats and Stripe say after the storm."""

    orders: dict[int, OrderRow]
    items: list[tuple[str, str, int | None]]  # content, state, order id
    goods_kind: dict[int, str]  # product id -> goods marker (a text's marker or "stock")
    deliveries: Counter[str]  # outbox rows by status
    claimed: int  # outbox rows an instance still claims
    unhandled_updates: int  # webhook updates recorded and never handled
    unapplied_events: int  # Stripe events recorded and never applied

    @classmethod
    def read(cls, db: AuditDb, markers: dict[int, str]) -> Audit:
        rows = db.rows(
            "SELECT o.id, o.buyer_chat_id, l.product_id, l.quantity, o.status,"
            " o.checkout_session_id, l.kind"
            " FROM orders AS o JOIN order_lines AS l ON l.order_id = o.id AND l.line_no = 0"
        )
        items = db.rows("SELECT content, state, order_id FROM stock_items")
        deliveries = db.rows("SELECT status, COUNT(*) FROM deliveries GROUP BY status")
        return cls(
            orders={int(r[0]): OrderRow(*r) for r in rows},
            items=[(str(c), str(s), o) for c, s, o in items],
            goods_kind=markers,
            deliveries=Counter({str(status): int(n) for status, n in deliveries}),
            claimed=_count(db, "SELECT COUNT(*) FROM deliveries WHERE claimed_by IS NOT NULL"),
            unhandled_updates=_count(
                db, "SELECT COUNT(*) FROM telegram_updates WHERE handled_at IS NULL"
            ),
            unapplied_events=_count(
                db, "SELECT COUNT(*) FROM stripe_inbox WHERE applied_at IS NULL"
            ),
        )


def goods_messages(
    telegram: FakeTelegram, buyers: list[int], audit: Audit
) -> dict[int, list[tuple[int, int]]]:
    """Order id → the (chat, message id) of every message that carries that order's goods.

    A message carries goods when it shows a stock key or a text product's delivery marker; the
    order is the one its key was sold to, or the "#<id>" it names."""
    sold_to = {content: order for content, _, order in audit.items if order is not None}
    found: dict[int, list[tuple[int, int]]] = {}
    text_markers = {m for m in audit.goods_kind.values() if m != "stock"}
    for chat in buyers:
        for message in telegram.messages(chat):
            text = message.text or message.caption or ""
            owners: set[int] = set()
            for key in KEY_PATTERN.findall(text):
                owner = sold_to.get(key)
                owners.add(owner if owner is not None else -1)
            if any(marker in text for marker in text_markers):
                numbers = ORDER_NUMBER.findall(text)
                owners.add(int(numbers[0]) if numbers else -1)
            for owner in owners:
                found.setdefault(owner, []).append((chat, message.message_id))
    return found


def notices(telegram: FakeTelegram, buyers: list[int]) -> Counter[int]:
    """Order id → how many "payment received" push notices its buyer got."""
    counts: Counter[int] = Counter()
    for chat in buyers:
        for message in telegram.messages(chat):
            text = message.text or ""
            if "Payment received" in text:
                numbers = ORDER_NUMBER.findall(text)
                if numbers:
                    counts[int(numbers[0])] += 1
    return counts


REFUSALS = {
    "too many open links": "several unpaid payment links",
    "slow down": "that's a lot of taps",
    "checkout failed": "couldn't start the payment",
    "handler error": "something went wrong",
    "sold out": "just sold out",
}


def refusals(telegram: FakeTelegram, buyers: list[int]) -> Counter[str]:
    """What buyers were told instead of getting a link (for the statistics): in a message, or
    in their tap's own answer."""
    told = [message.text or "" for chat in buyers for message in telegram.messages(chat)]
    told += [str(answer["text"] or "") for answer in telegram.answered_callbacks]
    return Counter(name for text in told for name, phrase in REFUSALS.items() if phrase in text)


def describe_chat(telegram: FakeTelegram, chat: int, around: set[int]) -> str:
    """The messages near `around` in a chat, for a failure message: id, edits, text."""
    lines = []
    low, high = min(around) - 3, max(around) + 2
    for message in telegram.messages(chat):
        if low <= message.message_id <= high:
            text = (message.text or message.caption or "").replace("\n", " | ")[:90]
            lines.append(f"#{message.message_id} edits={message.edits} {text!r}")
    return "\n    " + "\n    ".join(lines)
