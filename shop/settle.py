"""Where both payment rails end: "order X was paid Y by payment Z", recorded once.

Stripe's events (shop/payments.py) and Telegram Stars' successful payments (shop/stars.py) each
find their order and check the payment against it, then call `record_paid` (or `hold_payment`
when the figures do not match) in the same transaction that records the payment's unique id.
Everything after — the stock handed over, the goods and the sale alert owed, a cart emptied, a
refund that overtook the payment — happens here and does not know which rail paid. Likewise
`close_unpaid` ends an order that will not be paid, for both rails.
"""

from __future__ import annotations

import logging
from typing import Any

from shop import outbox, refunds
from shop.context import Shop
from shop.i18n import N_
from shop.said import Said
from shop.unpaid import end_unpaid
from storage import carts, orders, stock
from storage.clock import now
from storage.models import DeliveryKind, Order, OrderStatus, ProductKind
from storage.sql import Connection

log = logging.getLogger(__name__)


async def tell_buyer(tx: Connection, order: Order, kind: DeliveryKind) -> None:
    """Owe the buyer the one notice of `kind` for this order."""
    await outbox.owe_buyer(tx, order, kind, outbox.Owed.notice(kind, order))


async def tell_admins(
    tx: Connection,
    shop: Shop,
    order: Order,
    topic: outbox.Topic,
    kind: DeliveryKind,
    detail: str = "",
) -> None:
    owed = outbox.Owed(topic, order.id)
    await outbox.owe_admins(tx, shop.settings.admin_ids, order.id, kind, owed, detail)


async def record_paid(tx: Connection, shop: Shop, order: Order, **payment: Any) -> bool:
    """Move `order` (as read in this transaction) to paid with the rail's `payment` fields
    (its id, what was charged, …) and owe what a sale owes; False, with nothing changed, when
    the allow-list refuses (it is paid already, or refunded). An order that expired or failed
    locally still becomes paid: money taken wins."""
    if not await orders.transition(tx, order, OrderStatus.PAID, paid_at=now(), **payment):
        return False
    if order.has_kind(ProductKind.DIGITAL_STOCK):
        await hand_over_stock(tx, shop, order)
    if order.from_cart:
        await carts.remove_bought(tx, order.buyer_user_id, [ln.product_id for ln in order.lines])
    await tell_buyer(tx, order, DeliveryKind.GOODS)
    await tell_admins(tx, shop, order, outbox.Topic.SALE, DeliveryKind.SALE_ALERT)
    await apply_early_refund(tx, order)
    return True


async def hold_payment(
    tx: Connection, shop: Shop, order: Order, problem: Said, detail: Said, **payment: Any
) -> str:
    """Money was taken but does not match the order: nothing is delivered, the stock goes back,
    the admins are told (`detail` says where to look and how to refund) — and the payment is
    kept on the order (its id and what was charged, in `payment`), so the admin can refund it
    with /refund like any other."""
    reason = problem.stored()
    if order.failure_reason == reason:
        return "mismatch"  # the same payment seen again
    await orders.update(tx, order.id, failure_reason=reason, **payment)
    await end_unpaid(tx, order, OrderStatus.FAILED)
    alert = Said(
        N_("{problem}. The goods were NOT delivered; {detail}"),
        {"problem": problem, "detail": detail},
    )
    await tell_admins(
        tx, shop, order, outbox.Topic.MISMATCH, DeliveryKind.PROBLEM_ALERT, alert.stored()
    )
    await tell_buyer(tx, order, DeliveryKind.HELD_NOTICE)
    await outbox.owe_edit(tx, order, "held")
    log.error("order %s not delivered: %s", order.id, problem.english())
    await apply_early_refund(tx, order)
    return "mismatch"


async def apply_early_refund(tx: Connection, order: Order) -> None:
    """A refund event that overtook this payment's events is applied now that the payment is
    recorded."""
    if not order.amount_refunded:
        return
    recorded = await orders.get(tx, order.id)
    assert recorded is not None
    await refunds.apply_refunded_total(tx, recorded, recorded.amount_refunded)


async def hand_over_stock(tx: Connection, shop: Shop, order: Order) -> None:
    """Reserved items become the buyer's, line by line. If a reservation was released meanwhile
    (the order expired locally, then the payment went through), take fresh items; a line the
    pool cannot fill gets what is left, and the admins must act (the receipt tells the buyer
    which line is short; the other lines are delivered in full)."""
    short = []
    for line in order.lines:
        if line.kind is not ProductKind.DIGITAL_STOCK:
            continue
        missing = line.quantity - await stock.reserved_for(tx, order.id, line.product_id)
        if missing > 0 and not await stock.reserve(tx, line.product_id, order.id, missing):
            left = await stock.available(tx, line.product_id)
            await stock.reserve(tx, line.product_id, order.id, left)
            short.append(
                Said(
                    N_("{title}: {missing} of {quantity} missing"),
                    {"title": line.title, "missing": missing - left, "quantity": line.quantity},
                )
            )
    await stock.sell(tx, order.id)
    if short:
        detail = Said(
            N_(
                "It is paid but the stock ran out before all its items could be given "
                "({lines}). Add stock and use Resend goods on the order, or refund the difference."
            ),
            {"lines": tuple(short)},
        )
        kind = DeliveryKind.PROBLEM_ALERT
        await tell_admins(tx, shop, order, outbox.Topic.SHORT, kind, detail.stored())


async def close_unpaid(
    tx: Connection,
    shop: Shop,
    order: Order,
    status: OrderStatus,
    *,
    cancelled: bool = False,
) -> str:
    """The order will never be paid (its session or invoice expired, a delayed payment
    failed, the buyer cancelled): release its stock, take the dead Pay button off the order
    message and tell the buyer (once; not about a cancel they made themselves)."""
    reason = N_("delayed payment failed") if status is OrderStatus.FAILED else None
    reason = outbox.CANCELLED_REASON if cancelled else reason
    fields = {"failure_reason": reason} if reason else {}
    if not await end_unpaid(tx, order, status, **fields):
        return "ignored"
    await outbox.owe_edit(tx, order, status.value)
    if status is OrderStatus.FAILED:
        await tell_buyer(tx, order, DeliveryKind.FAILED_NOTICE)
    elif shop.settings.notify_expired and not cancelled:
        await tell_buyer(tx, order, DeliveryKind.EXPIRED_NOTICE)
    return status.value
