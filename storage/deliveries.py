"""The delivery outbox: messages owed, claimed by the worker, marked sent or failed."""

from __future__ import annotations

from storage.clock import now
from storage.models import Delivery, DeliveryKind
from storage.sql import Connection, fetch_all, fetch_one


async def enqueue(
    conn: Connection,
    *,
    dedupe_key: str,
    order_id: int,
    kind: DeliveryKind,
    chat_id: int,
    detail: str = "",
) -> bool:
    """Owe a message once per dedupe key; False when it was already owed."""
    ts = now()
    changed = await conn.execute(
        "INSERT INTO deliveries (dedupe_key, order_id, kind, chat_id, detail, next_attempt_at,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING",
        (dedupe_key, order_id, kind.value, chat_id, detail, ts, ts),
    )
    return changed == 1


async def due(conn: Connection, *, limit: int) -> list[Delivery]:
    """Pending deliveries whose next attempt time has come, oldest first."""
    rows = await fetch_all(
        conn,
        "SELECT * FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?"
        " ORDER BY next_attempt_at, id LIMIT ?",
        (now(), limit),
    )
    return [Delivery.from_row(row) for row in rows]


async def due_for_chat(
    conn: Connection, chat_id: int, kind: DeliveryKind, *, limit: int
) -> list[Delivery]:
    """One chat's pending deliveries of one kind that are due, oldest first (for digests)."""
    rows = await fetch_all(
        conn,
        "SELECT * FROM deliveries WHERE status = 'pending' AND chat_id = ? AND kind = ?"
        " AND next_attempt_at <= ? ORDER BY id LIMIT ?",
        (chat_id, kind.value, now(), limit),
    )
    return [Delivery.from_row(row) for row in rows]


async def next_due_at(conn: Connection) -> int | None:
    row = await fetch_one(
        conn, "SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'pending'"
    )
    return int(row[0]) if row and row[0] is not None else None


async def make_all_due(conn: Connection) -> int:
    """At start, everything still pending is retried at once: it may have waited on an outage
    that ended while we were down."""
    ts = now()
    changed = await conn.execute(
        "UPDATE deliveries SET next_attempt_at = ?"
        " WHERE status = 'pending' AND next_attempt_at > ?",
        (ts, ts),
    )
    return changed


async def postpone(conn: Connection, delivery_ids: list[int], *, at: int) -> None:
    """Hold deliveries back without counting an attempt (pacing, not failure)."""
    await conn.executemany(
        "UPDATE deliveries SET next_attempt_at = ? WHERE id = ?",
        [(at, delivery_id) for delivery_id in delivery_ids],
    )


# Each takes any number of ids in one round trip (a digest settles hundreds at once).


async def mark_sent(conn: Connection, *delivery_ids: int) -> None:
    ts = now()
    await conn.executemany(
        "UPDATE deliveries SET status = 'sent', attempts = attempts + 1, sent_at = ?,"
        " last_error = NULL WHERE id = ?",
        [(ts, delivery_id) for delivery_id in delivery_ids],
    )


async def reschedule(conn: Connection, *delivery_ids: int, at: int, error: str) -> None:
    await conn.executemany(
        "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?"
        " WHERE id = ?",
        [(at, error[:500], delivery_id) for delivery_id in delivery_ids],
    )


async def mark_failed(conn: Connection, *delivery_ids: int, error: str) -> None:
    await conn.executemany(
        "UPDATE deliveries SET status = 'failed', attempts = attempts + 1, last_error = ?"
        " WHERE id = ?",
        [(error[:500], delivery_id) for delivery_id in delivery_ids],
    )


async def for_order(conn: Connection, order_id: int) -> list[Delivery]:
    rows = await fetch_all(
        conn, "SELECT * FROM deliveries WHERE order_id = ? ORDER BY id", (order_id,)
    )
    return [Delivery.from_row(row) for row in rows]


async def count_pending(conn: Connection) -> int:
    row = await fetch_one(conn, "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'")
    return int(row[0]) if row else 0
