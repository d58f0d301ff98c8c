"""Refunds: asked for by an admin (/refund) or made in the Stripe Dashboard (charge.refunded);
a Telegram Stars order's through `refundStarPayment` (`refund_stars`, whole payments only).

All end in `apply_refunded_total`, which moves the order to the payment's refunded *total*.
Totals only grow, so the command's answer and the later webhook for the same refund apply once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import stripe
from telegram.error import TelegramError

from shop import outbox
from shop.context import Shop
from shop.gateways.telegram_stars import refund_star_payment
from shop.ids import parse_id
from shop.money import format_money
from shop.refusal import Refusal
from shop.stripe_facts import order_key, storable_text
from storage import events, orders
from storage import refunds as refund_log
from storage.models import PAID_STATES, STARS_CURRENCY, DeliveryKind, Order, OrderStatus, Rail
from storage.sql import Connection

log = logging.getLogger(__name__)


class RefundRefused(Refusal):
    """The refund cannot be made; `text(lang)` says why, in the admin's language."""


def _no_order(order_id: int) -> RefundRefused:
    return RefundRefused(lambda lang: lang.t("There is no order #{order}.", order=order_id))


def _nothing_to_refund(order: Order) -> RefundRefused:
    return RefundRefused(
        lambda lang: lang.t(
            "Order #{order} has nothing left to refund; only paid orders refund.", order=order.id
        )
    )


@dataclass(frozen=True)
class RefundDone:
    order: Order
    amount: int


async def apply_refunded_total(tx: Connection, order: Order, refunded_total: int) -> bool:
    """Bring the order up to Stripe's refunded total; tell the buyer once per new total.

    A refund that overtakes the payment's own events is remembered on the order and applied
    when the payment is recorded, so any arrival order ends in the same state. A payment that
    was recorded but not delivered (it did not match the order) refunds the same way."""
    if order.amount_charged is None:  # the payment itself is not recorded yet
        total = min(refunded_total, order.amount_total)
        if total <= order.amount_refunded:
            return False
        await orders.update(tx, order.id, amount_refunded=total)
        return True
    total = min(refunded_total, order.amount_charged)
    if total <= 0 or total < order.amount_refunded:
        return False
    if total >= order.amount_charged:
        status = OrderStatus.REFUNDED
    elif order.status in PAID_STATES:
        status = OrderStatus.PARTIALLY_REFUNDED
    else:
        status = order.status  # an undelivered payment, partly given back: it stays failed
    if total == order.amount_refunded and order.status is status:
        return False
    if status is order.status and order.status not in PAID_STATES:
        await orders.update(tx, order.id, amount_refunded=total)
    elif not await orders.transition(tx, order, status, amount_refunded=total):
        log.warning("order %s: refund to %s not applied from %s", order.id, total, order.status)
        return False
    what = (
        "fully refunded"
        if status is OrderStatus.REFUNDED
        else f"refunded {format_money(total, order.currency)} of "
        f"{format_money(order.amount_charged, order.currency)}"
    )
    owed = outbox.Owed(outbox.Topic.REFUND, order.id, total)
    await outbox.owe_buyer(tx, order, DeliveryKind.REFUND_NOTICE, owed, what)
    await outbox.owe_edit(tx, order, f"refunded:{total}")
    return True


def refund_order_key(event_id: str, charge: Mapping[str, Any]) -> str | None:
    """The inbox's key for a charge.refunded, checked without the database: its order's (the
    charge carries the PaymentIntent's metadata, ours the order id) or else its payment's, so a
    refund is applied in turn with the payment's own events. None, with a log line, for a
    charge without a payment; ValueError when it is not a charge."""
    intent, refunded = charge.get("payment_intent"), charge.get("amount_refunded")
    if charge.get("object") != "charge" or not isinstance(refunded, int):
        raise ValueError("charge.refunded without a charge")
    if not storable_text(intent):
        log.info("stripe event %s ignored: a charge without a payment intent", event_id)
        return None
    metadata = charge.get("metadata")
    order_id = parse_id(metadata.get("order_id")) if isinstance(metadata, Mapping) else None
    return order_key(order_id) if order_id is not None else f"payment:{intent}"


async def handle_refund_event(
    shop: Shop,
    event_id: str,
    charge: Mapping[str, Any],
    mark: Callable[[Connection], Awaitable[None]] | None = None,
) -> None:
    """charge.refunded (from /refund or the Dashboard), accepted by `refund_order_key`: the
    charge's refunded total applies, in a transaction that also runs `mark`.

    The order is found by its payment intent; if the payment's own events have not arrived
    yet, the intent's metadata (ours carry the order id) says which order it is."""
    intent, refunded = str(charge["payment_intent"]), int(charge["amount_refunded"])
    order = await orders.by_payment_intent(shop.db.reader, intent)
    order_id = order.id if order else await _order_of_intent(shop, intent)
    async with shop.transaction() as tx:
        if mark is not None:
            await mark(tx)
        if order_id is None:
            log.info("stripe event %s ignored: payment %s is not ours", event_id, intent)
            return
        if await events.outcome_of(tx, event_id) is not None:
            return
        current = await orders.get(tx, order_id)
        if current is None:
            raise LookupError(f"event {event_id}: order {order_id} not found")
        if current.payment_intent_id is None:
            await orders.update(tx, current.id, payment_intent_id=intent)
        changed = await apply_refunded_total(tx, current, refunded)
        await events.record(
            tx, event_id, "charge.refunded", current.id, "refunded" if changed else "unchanged"
        )


async def _order_of_intent(shop: Shop, intent: str) -> int | None:
    """Ask Stripe whose payment this is; one Stripe does not know is certainly not ours (other
    errors propagate, so the event is retried)."""
    try:
        metadata = await shop.stripe.payment_intent_metadata(intent)
    except stripe.InvalidRequestError as error:
        if error.http_status == 404:
            return None
        raise
    order_id, ref = parse_id(metadata.get("order_id")), metadata.get("order_ref")
    if order_id is None:
        return None
    order = await orders.get(shop.db.reader, order_id)
    return order.id if order is not None and order.carries_reference(ref) else None


async def refund_order(
    shop: Shop, order_id: int, amount: int | None, request_key: str
) -> RefundDone:
    """Refund `amount` (None: everything not yet refunded) of a paid order through Stripe."""
    order = await orders.get(shop.db.reader, order_id)
    if order is None:
        raise _no_order(order_id)
    remaining = order.refundable_amount
    if order.rail is Rail.STARS and remaining > 0:
        if amount not in (None, remaining):
            raise whole_order_only(order)
        return await refund_stars(shop, order.id)
    if remaining <= 0 or order.payment_intent_id is None:
        raise _nothing_to_refund(order)
    wanted = remaining if amount is None else amount
    if not 0 < wanted <= remaining:
        raise RefundRefused(
            lambda lang: lang.t(
                "Order #{order} has {amount} left to refund.",
                order=order.id,
                amount=lang.money(remaining, order.currency),
            )
        )
    try:
        result = await shop.stripe.create_refund(
            order.payment_intent_id, wanted, f"refund-{order.ref}-{request_key}"
        )
    except stripe.StripeError as error:
        log.error("refund of order %s failed: %s (%s)", order.id, type(error).__name__, error.code)
        raise _stripe_refused(order.id, error.user_message) from error
    if result.status in ("failed", "canceled"):
        status = result.status
        raise RefundRefused(
            lambda lang: lang.t("Stripe reports the refund as {status}.", status=status)
        )
    async with shop.transaction() as tx:
        await refund_log.record(
            tx, result.refund_id, order.id, result.amount, result.currency, result.status
        )
        current = await orders.get(tx, order.id)
        assert current is not None
        await apply_refunded_total(tx, current, await refund_log.total_for(tx, order.id))
        updated = await orders.get(tx, order.id)
    assert updated is not None
    return RefundDone(updated, result.amount)


def _stripe_refused(order_id: int, stripe_says: str | None) -> RefundRefused:
    """Stripe's own reason (its `user_message`, in English) when it gives one."""
    if stripe_says:
        return RefundRefused(
            lambda lang: lang.t(
                "Stripe did not refund order #{order}: {reason}", order=order_id, reason=stripe_says
            )
        )
    return RefundRefused(
        lambda lang: lang.t("Stripe did not refund order #{order}: try again later", order=order_id)
    )


def whole_order_only(order: Order) -> RefundRefused:
    """Why no amount may be named for a Telegram Stars order's refund: `refundStarPayment`
    gives a payment back whole and takes no amount (the one place this rule is said)."""
    return RefundRefused(
        lambda lang: lang.t(
            "Stars refunds are whole-order: /refund {order} without an amount gives back the "
            "whole payment: {whole}.",
            order=order.id,
            whole=lang.money(order.refundable_amount, order.currency),
        )
    )


async def refund_stars(shop: Shop, order_id: int) -> RefundDone:
    """Give a paid Stars order's Stars back through `refundStarPayment` (Stars refunds are
    whole payments), then book it as Stripe's refunds are (shop/refunds.py): the order, its
    message, /orders, /sales and the buyer's notice follow. Asked twice, the second finds
    nothing left to refund; if the bookkeeping was lost after Telegram refunded, Telegram's
    "already refunded" books it now — a refund is applied once either way."""
    order = await orders.get(shop.db.reader, order_id)
    if order is None:
        raise _no_order(order_id)
    charge_id, amount = order.payment_id, order.refundable_amount
    if order.rail is not Rail.STARS or charge_id is None or amount <= 0:
        raise _nothing_to_refund(order)
    try:
        await refund_star_payment(shop.bot, order.buyer_user_id, charge_id)
    except TelegramError as error:
        log.error("Stars refund of order %s failed: %s", order.id, error.message)
        telegram_says = error.message
        raise RefundRefused(
            lambda lang: lang.t(
                "Telegram did not refund order #{order}: {reason}",
                order=order.id,
                reason=telegram_says,
            )
        ) from error
    async with shop.transaction() as tx:
        await refund_log.record(
            tx, f"stars:{charge_id}", order.id, amount, STARS_CURRENCY, "succeeded"
        )
        current = await orders.get(tx, order.id)
        assert current is not None
        await apply_refunded_total(tx, current, await refund_log.total_for(tx, order.id))
        updated = await orders.get(tx, order.id)
    assert updated is not None
    return RefundDone(updated, amount)
