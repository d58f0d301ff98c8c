"""Refunds as Stripe reports them (the refund id keeps each one counted once), and the refunds
an admin was asked to confirm."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class HeldRefund:
    """A refund an admin was asked to confirm, taken back when they tapped."""

    order_id: int
    amount: int
    age_ms: int  # how long ago the confirmation was shown (the database's clock)


async def hold_confirmation(
    conn: Connection, token: str, order_id: int, amount: int, *, keep_ms: int
) -> None:
    """Keep `amount` of `order_id` under `token` until the admin taps; confirmations older than
    `keep_ms` that nobody tapped are dropped meanwhile."""
    clock = f"{conn.dialect.now_us} / 1000"
    await conn.execute(
        f"DELETE FROM refund_confirmations WHERE created_ms < {clock} - ?", (keep_ms,)
    )
    await conn.execute(
        "INSERT INTO refund_confirmations (token, order_id, amount, created_ms)"
        f" VALUES (?, ?, ?, {clock})",
        (token, order_id, amount),
    )


async def take_confirmation(conn: Connection, token: str) -> HeldRefund | None:
    """The confirmation under `token`, taken away in the same statement that reads it: of two
    taps, on one instance or two, exactly one gets it. None: used, cancelled or dropped."""
    row = await fetch_one(
        conn,
        "DELETE FROM refund_confirmations WHERE token = ?"
        f" RETURNING order_id, amount, {conn.dialect.now_us} / 1000 - created_ms",
        (token,),
    )
    return None if row is None else HeldRefund(int(row[0]), int(row[1]), int(row[2]))
