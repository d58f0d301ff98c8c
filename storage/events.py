"""Stripe event log: the unique event id is what makes a redelivered event a no-op."""

from __future__ import annotations

from storage.clock import now
from storage.sql import Connection, fetch_one


async def record(
    conn: Connection, event_id: str, event_type: str, order_id: int | None, outcome: str
) -> bool:
    """Record an event once; False when it was already recorded (a duplicate delivery)."""
    changed = await conn.execute(
        "INSERT INTO stripe_events (id, type, order_id, outcome, received_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        (event_id, event_type, order_id, outcome, now()),
    )
    return changed == 1


async def outcome_of(conn: Connection, event_id: str) -> str | None:
    row = await fetch_one(conn, "SELECT outcome FROM stripe_events WHERE id = ?", (event_id,))
    return str(row[0]) if row else None
