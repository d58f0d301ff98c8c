"""The one way an order ends without a payment: it moves (if its state allows) and its reserved
stock goes back to the pool, in the caller's transaction. The webhook, the buyer's cancel, a
failed checkout, a held payment and the reconciliation all end orders through here, so stock
is released exactly when an order leaves its unpaid life, and never twice."""

from __future__ import annotations

from typing import Any

from storage import orders, stock
from storage.models import Order, OrderStatus
from storage.sql import Connection


async def end_unpaid(tx: Connection, order: Order, status: OrderStatus, **fields: Any) -> bool:
    """Move `order` (as read in this transaction) to `status` and release its reserved items;
    False, with nothing changed, when the order has already moved on."""
    if not await orders.transition(tx, order, status, **fields):
        return False
    await stock.release(tx, order.id)
    return True
