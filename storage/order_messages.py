"""An order's own message: the one that carried its Pay button (or, for Telegram Stars, its
invoice), which the delivery worker edits as the order moves on (bot/delivery.py)."""

from __future__ import annotations

from storage.clock import now
from storage.sql import Connection


async def claim_message(conn: Connection, order_id: int, message_id: int) -> bool:
    """Make `message_id` the order's own message unless it already has one — or, for a Stars
    order, unless its payment is recorded already: the paid invoice is no longer the order's
    message (the receipt is sent as a new one), however late its claim arrives."""
    changed = await conn.execute(
        "UPDATE orders SET message_id = ?, updated_at = ? WHERE id = ? AND message_id IS NULL"
        " AND telegram_payment_charge_id IS NULL",
        (message_id, now(), order_id),
    )
    return changed == 1


async def forget_message(conn: Connection, order_id: int, message_id: int) -> bool:
    """The order has no message any more (its invoice was deleted), unless it already has
    another one."""
    changed = await conn.execute(
        "UPDATE orders SET message_id = NULL, updated_at = ? WHERE id = ? AND message_id = ?",
        (now(), order_id, message_id),
    )
    return changed == 1
