"""Refunds as Stripe reports them; the refund id keeps each one counted once."""

from __future__ import annotations

from storage.clock import now
from storage.sql import Connection, fetch_one


async def record(
    conn: Connection,
    refund_id: str,
    order_id: int,
    amount: int,
    currency: str,
    status: str,
) -> None:
    """Record a refund once, updating its status if seen again."""
    await conn.execute(
        "INSERT INTO refunds (id, order_id, amount, currency, status, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET status = excluded.status",
        (refund_id, order_id, amount, currency, status, now()),
    )


async def total_for(conn: Connection, order_id: int) -> int:
    """What the refunds we recorded for an order add up to (failed ones do not count)."""
    row = await fetch_one(
        conn,
        "SELECT COALESCE(SUM(amount), 0) FROM refunds"
        " WHERE order_id = ? AND status NOT IN ('failed', 'canceled')",
        (order_id,),
    )
    return int(row[0]) if row else 0
