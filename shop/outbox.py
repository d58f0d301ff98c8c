"""What the shop owes people, written into the outbox in the same transaction as the change.

The use-cases never render chat texts: they record *that* a message is owed (a row in
`deliveries`), and the delivery worker in `bot/` renders the order's state at send time.
"""

from __future__ import annotations

import aiosqlite

from storage import deliveries
from storage.models import DeliveryKind, Order

# The buyer cancelled on Checkout: the order expired by their choice, not by the clock.
CANCELLED_REASON = "cancelled by the buyer"


async def owe_edit(tx: aiosqlite.Connection, order: Order, step: str) -> None:
    """Owe the edit for one step of the order's life (a new status, a new refunded total):
    once per step, however often the event that makes it arrives."""
    await deliveries.enqueue(
        tx,
        dedupe_key=f"order_message:{order.id}:{step}",
        order_id=order.id,
        kind=DeliveryKind.ORDER_MESSAGE,
        chat_id=order.buyer_chat_id,
    )
