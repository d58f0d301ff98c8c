"""Shipping use-cases: a paid physical order's way to the buyer — to ship → shipped (with
tracking) → delivered.

Every move goes through `orders.move_shipping` (the stages' allow-list in storage/models.py)
in the same transaction as the buyer's notice, whose dedupe key is one per change: the buyer
hears once that the order shipped, and once about each tracking number added or corrected.
The admin's chat (bot/admin_shipping.py) renders the outcome; this module writes no text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from shop import outbox
from storage import deliveries, orders
from storage.clock import now
from storage.db import Database
from storage.models import DeliveryKind, Order, ShippingStage
from storage.sql import Connection


class ShipRefusal(Enum):
    """Why an order cannot be marked shipped (or its tracking number changed)."""

    NO_ORDER = "no_order"
    NOT_PHYSICAL = "not_physical"
    NOT_PAID = "not_paid"
    DELIVERED = "delivered"
    ALREADY_SHIPPED = "already_shipped"  # marked again without a tracking number
    SAME_TRACKING = "same_tracking"
    CHANGED = "changed"  # the order moved between the read and the write


def ship_refusal(order: Order | None, tracking: str | None) -> ShipRefusal | None:
    """The one rule for `ship(order, tracking)`: None when it can go ahead."""
    if order is None:
        return ShipRefusal.NO_ORDER
    if not order.ships:
        return ShipRefusal.NOT_PHYSICAL
    stage = order.shipping_stage
    if stage is None:
        return ShipRefusal.NOT_PAID
    if stage is ShippingStage.DELIVERED:
        return ShipRefusal.DELIVERED
    if stage is ShippingStage.SHIPPED and tracking is None:
        return ShipRefusal.ALREADY_SHIPPED
    if stage is ShippingStage.SHIPPED and tracking == order.tracking:
        return ShipRefusal.SAME_TRACKING
    return None


@dataclass(frozen=True)
class Shipped:
    """The outcome of `ship`: the order as read, why not (None when done), and whether this
    was the first marking (False: a tracking number added or corrected)."""

    order: Order | None
    refusal: ShipRefusal | None
    first: bool = False


async def ship(
    db: Database, wake_outbox: Callable[[], None], order_id: int, tracking: str | None
) -> Shipped:
    """Mark a paid physical order shipped, or change a shipped order's tracking number, and
    owe the buyer a notice, in one transaction (woken after commit)."""
    async with outbox.transaction(db, wake_outbox) as tx:
        order = await orders.get(tx, order_id)
        refusal = ship_refusal(order, tracking)
        if refusal is not None or order is None:
            return Shipped(order, refusal)
        first = order.can_ship
        fields: dict[str, Any] = {"tracking": tracking}
        if first:
            fields["shipped_at"] = now()
        if not await orders.move_shipping(tx, order, ShippingStage.SHIPPED, **fields):
            return Shipped(order, ShipRefusal.CHANGED)
        if first:
            owed = outbox.Owed(outbox.Topic.SHIPPED, order.id)
            kind = DeliveryKind.SHIPPED_NOTICE
        else:
            changes = await _tracking_notices(tx, order)
            owed = outbox.Owed(outbox.Topic.TRACKING, order.id, changes + 1)
            kind = DeliveryKind.TRACKING_NOTICE
        await outbox.owe_buyer(tx, order, kind, owed, tracking or "")
    return Shipped(order, None, first)


async def _tracking_notices(tx: Connection, order: Order) -> int:
    rows = await deliveries.for_order(tx, order.id)
    return sum(1 for row in rows if row.kind is DeliveryKind.TRACKING_NOTICE)


async def mark_delivered(db: Database, order_id: int) -> bool:
    """The admin's optional last mark: the shipped order has arrived (the buyer is not told).
    False when the order is not shipped (or does not exist)."""
    async with db.transaction() as tx:
        order = await orders.get(tx, order_id)
        return order is not None and await orders.move_shipping(
            tx, order, ShippingStage.DELIVERED, delivered_at=now()
        )
