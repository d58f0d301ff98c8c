"""Refunds: asked for by an admin (/refund) or made in the Stripe Dashboard (charge.refunded).

Both end in `apply_refunded_total`, which moves the order to the charge's refunded *total*.
Totals only grow, so the command's answer and the later webhook for the same refund apply once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiosqlite
import stripe

from bot.money import format_money
from bot.shop import Shop
from storage import deliveries, orders
from storage import refunds as refund_log
from storage.models import DeliveryKind, Order, OrderStatus

log = logging.getLogger(__name__)

REFUNDABLE = frozenset({OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.PARTIALLY_REFUNDED})


class RefundRefused(Exception):
    """The refund cannot be made; the message says why, for the admin."""


@dataclass(frozen=True)
class RefundDone:
    order: Order
    amount: int


async def apply_refunded_total(tx: aiosqlite.Connection, order: Order, refunded_total: int) -> bool:
    """Bring the order up to Stripe's refunded total; tell the buyer once per new total."""
    total = min(refunded_total, order.amount_total)
    if total <= order.amount_refunded:
        return False
    status = OrderStatus.REFUNDED if total >= order.amount_total else OrderStatus.PARTIALLY_REFUNDED
    if not await orders.transition(tx, order, status, amount_refunded=total):
        log.warning("order %s: refund to %s not applied from %s", order.id, total, order.status)
        return False
    await deliveries.enqueue(
        tx,
        dedupe_key=f"refund:{order.id}:{total}",
        order_id=order.id,
        kind=DeliveryKind.REFUND_NOTICE,
        chat_id=order.buyer_chat_id,
        detail="fully refunded"
        if status is OrderStatus.REFUNDED
        else f"refunded {format_money(total - order.amount_refunded, order.currency)}",
    )
    return True


async def refund_order(
    shop: Shop, order_id: int, amount: int | None, request_key: str
) -> RefundDone:
    """Refund `amount` (None: everything not yet refunded) of a paid order through Stripe."""
    order = await orders.get(shop.db.reader, order_id)
    if order is None:
        raise RefundRefused(f"There is no order #{order_id}.")
    if order.status not in REFUNDABLE or order.payment_intent_id is None:
        raise RefundRefused(f"Order #{order.id} is {order.status.value}; only paid orders refund.")
    remaining = order.amount_total - order.amount_refunded
    wanted = remaining if amount is None else amount
    if not 0 < wanted <= remaining:
        raise RefundRefused(
            f"Order #{order.id} has {format_money(remaining, order.currency)} left to refund."
        )
    try:
        result = await shop.stripe.create_refund(
            order.payment_intent_id, wanted, f"refund-{order.ref}-{request_key}"
        )
    except stripe.StripeError as error:
        log.error("refund of order %s failed: %s (%s)", order.id, type(error).__name__, error.code)
        raise RefundRefused(
            f"Stripe did not refund order #{order.id}: {error.user_message or 'try again later'}"
        ) from error
    if result.status in ("failed", "canceled"):
        raise RefundRefused(f"Stripe reports the refund as {result.status}.")
    async with shop.db.transaction() as tx:
        await refund_log.record(
            tx, result.refund_id, order.id, result.amount, result.currency, result.status
        )
        current = await orders.get(tx, order.id)
        assert current is not None
        await apply_refunded_total(tx, current, await refund_log.total_for(tx, order.id))
        updated = await orders.get(tx, order.id)
    shop.wake_outbox()
    assert updated is not None
    return RefundDone(updated, result.amount)
