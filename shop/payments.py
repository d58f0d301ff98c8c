"""Stripe says a session moved → the order moves, and what we owe is queued, in one transaction.

The webhook (`handle_stripe_event`), the success page (`fulfil_session`) and the reconciliation
job (`apply_session_snapshot`) all end in `_apply_session`. Order moves go through the
allow-list, so events in any order and any number converge on the same final state, and the
outbox's dedupe keys make every message owed at most once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import aiosqlite
import stripe

from shop import outbox, refunds
from shop.context import Shop
from shop.money import format_money
from shop.stripe_facts import SessionFacts, session_facts, target_status
from shop.unpaid import end_unpaid
from storage import carts, events, orders, stock
from storage.clock import now
from storage.models import DeliveryKind, Order, OrderStatus, ProductKind

log = logging.getLogger(__name__)

COMPLETED = "checkout.session.completed"
ASYNC_SUCCEEDED = "checkout.session.async_payment_succeeded"
ASYNC_FAILED = "checkout.session.async_payment_failed"
EXPIRED = "checkout.session.expired"
SESSION_EVENTS = frozenset({COMPLETED, ASYNC_SUCCEEDED, ASYNC_FAILED, EXPIRED})
CHARGE_REFUNDED = "charge.refunded"
# API versions other than the pinned one that events have arrived in (each warned about once).
_OTHER_VERSIONS_SEEN: set[str] = set()


async def handle_stripe_event(shop: Shop, payload: Mapping[str, Any]) -> None:
    """Record a verified event and apply it. Returns normally when recorded or knowingly
    ignored (another integration's or another database's session: a 200, never a retry loop);
    raises ValueError for a malformed event, and the database's errors when it cannot be
    recorded (so Stripe retries)."""
    event_id, event_type = payload.get("id"), payload.get("type")
    if not isinstance(event_id, str) or not isinstance(event_type, str):
        raise ValueError("event without id or type")
    if event_type not in SESSION_EVENTS and event_type != CHARGE_REFUNDED:
        log.info("stripe event %s (%s) ignored: not a type this shop handles", event_id, event_type)
        return
    data = payload.get("data")
    if not isinstance(data, Mapping) or not isinstance(data.get("object"), Mapping):
        raise ValueError("event without data.object")
    _note_api_version(event_id, payload.get("api_version"))
    if event_type == CHARGE_REFUNDED:
        await refunds.handle_refund_event(shop, event_id, data["object"])
        return
    facts = session_facts(data["object"])
    if not facts.ours:
        log.info("stripe event %s ignored: session %s is not ours", event_id, facts.session_id)
        return
    async with shop.transaction() as tx:
        if await events.outcome_of(tx, event_id) is not None:
            log.info("stripe event %s already handled", event_id)
            return
        order = await our_order(tx, facts)
        if order is None:
            log.warning(
                "stripe event %s ignored: session %s names no order of this database",
                event_id,
                facts.session_id,
            )
            await events.record(tx, event_id, event_type, None, "foreign")
            return
        outcome = await _apply_event(tx, shop, order, event_type, facts)
        await events.record(tx, event_id, event_type, order.id, outcome)
    log.info("stripe event %s (%s) for order %s: %s", event_id, event_type, order.id, outcome)


async def our_order(conn: aiosqlite.Connection, facts: SessionFacts) -> Order | None:
    """The order this session was made for, or None when the session is not ours: an event is
    ours only when it carries our own order reference and it matches the order (a bare numeric
    id also comes from another integration on the account, or a staging database)."""
    if facts.order_id is None or facts.order_ref is None:
        return None
    order = await orders.get(conn, facts.order_id)
    return order if order is not None and order.carries_reference(facts.order_ref) else None


def _note_api_version(event_id: str, version: object) -> None:
    """Say so when an event was rendered for another API version than the SDK pins: its objects
    may be shaped differently (README: create the endpoint with the pinned version). Once per
    version and process at WARNING, so a whole day of such events is not a whole day of log."""
    if not isinstance(version, str) or version == stripe.api_version:
        return
    shown = version[:40]
    level = logging.DEBUG if shown in _OTHER_VERSIONS_SEEN else logging.WARNING
    _OTHER_VERSIONS_SEEN.add(shown)
    log.log(
        level,
        "stripe event %s uses API version %s, but this shop pins %s: create the webhook "
        "endpoint with version %s",
        event_id,
        shown,
        stripe.api_version,
        stripe.api_version,
    )


async def _apply_event(
    tx: aiosqlite.Connection, shop: Shop, order: Order, event_type: str, facts: SessionFacts
) -> str:
    if event_type in (COMPLETED, ASYNC_SUCCEEDED):
        return await _apply_session(tx, shop, order, facts)
    if event_type == ASYNC_FAILED:
        return await _end_unpaid(tx, shop, order, OrderStatus.FAILED)
    return await _end_unpaid(tx, shop, order, OrderStatus.EXPIRED)


async def _apply_session(
    tx: aiosqlite.Connection, shop: Shop, order: Order, facts: SessionFacts
) -> str:
    """Move the order by what the session says about the payment."""
    if order.checkout_session_id is None:
        await orders.update(tx, order.id, checkout_session_id=facts.session_id)
    target = target_status(facts)
    if target is OrderStatus.PAID:
        return await _record_payment(tx, shop, order, facts)
    if target is OrderStatus.EXPIRED:
        return await _end_unpaid(tx, shop, order, OrderStatus.EXPIRED)
    if target is not OrderStatus.PROCESSING:
        return "ignored"
    if not await orders.transition(
        tx, order, OrderStatus.PROCESSING, payment_intent_id=facts.payment_intent
    ):
        return "ignored"
    await outbox.owe_edit(tx, order, OrderStatus.PROCESSING.value)
    await _tell_buyer(tx, order, DeliveryKind.PROCESSING_NOTICE)
    return "processing"


async def _end_unpaid(
    tx: aiosqlite.Connection,
    shop: Shop,
    order: Order,
    status: OrderStatus,
    *,
    cancelled: bool = False,
) -> str:
    """The session will never be paid: release its stock, take the dead Pay button off the
    order message and tell the buyer (once; not about a cancel they made themselves)."""
    reason = "delayed payment failed" if status is OrderStatus.FAILED else None
    reason = outbox.CANCELLED_REASON if cancelled else reason
    fields = {"failure_reason": reason} if reason else {}
    if not await end_unpaid(tx, order, status, **fields):
        return "ignored"
    await outbox.owe_edit(tx, order, status.value)
    if status is OrderStatus.FAILED:
        await _tell_buyer(tx, order, DeliveryKind.FAILED_NOTICE)
    elif shop.settings.notify_expired and not cancelled:
        await _tell_buyer(tx, order, DeliveryKind.EXPIRED_NOTICE)
    return status.value


async def _tell_buyer(tx: aiosqlite.Connection, order: Order, kind: DeliveryKind) -> None:
    await outbox.owe_buyer(tx, order, kind, outbox.Owed.notice(kind, order))


async def _tell_admins(
    tx: aiosqlite.Connection,
    shop: Shop,
    order: Order,
    topic: outbox.Topic,
    kind: DeliveryKind,
    detail: str = "",
) -> None:
    owed = outbox.Owed(topic, order.id)
    await outbox.owe_admins(tx, shop.settings.admin_ids, order.id, kind, owed, detail)


async def _record_payment(
    tx: aiosqlite.Connection, shop: Shop, order: Order, facts: SessionFacts
) -> str:
    if order.is_paid or order.status is OrderStatus.REFUNDED:
        return "already_paid"
    problem = _charge_problem(order, facts, shop.settings.stripe_livemode)
    if problem:
        return await _hold_payment(tx, shop, order, facts, problem)
    moved = await orders.transition(
        tx,
        order,
        OrderStatus.PAID,
        payment_intent_id=facts.payment_intent,
        paid_at=now(),
        shipping_address=facts.shipping_address,
        amount_discount=facts.amount_discount,
        amount_charged=facts.amount_total,
    )
    if not moved:
        return "ignored"
    if order.has_kind(ProductKind.DIGITAL_STOCK):
        await _hand_over_stock(tx, shop, order)
    if order.from_cart:
        await carts.remove_bought(tx, order.buyer_user_id, [ln.product_id for ln in order.lines])
    await _tell_buyer(tx, order, DeliveryKind.GOODS)
    await _tell_admins(tx, shop, order, outbox.Topic.SALE, DeliveryKind.SALE_ALERT)
    await _apply_early_refund(tx, order)
    return "paid"


async def _hold_payment(
    tx: aiosqlite.Connection, shop: Shop, order: Order, facts: SessionFacts, problem: str
) -> str:
    """Money was taken but does not match the order: nothing is delivered, the stock goes back,
    the admins are told — and the payment is kept on the order (its PaymentIntent and what was
    charged), so the admin can refund it with /refund like any other."""
    if order.failure_reason == problem:
        return "mismatch"  # the same payment seen again
    await orders.update(
        tx,
        order.id,
        failure_reason=problem,
        payment_intent_id=facts.payment_intent or order.payment_intent_id,
        amount_charged=facts.amount_total,
    )
    await end_unpaid(tx, order, OrderStatus.FAILED)
    detail = (
        f"{problem}. The goods were NOT delivered; check the payment in Stripe "
        f"({facts.session_id}), then deliver by hand or refund it: /refund {order.id}"
    )
    await _tell_admins(tx, shop, order, outbox.Topic.MISMATCH, DeliveryKind.PROBLEM_ALERT, detail)
    await _tell_buyer(tx, order, DeliveryKind.HELD_NOTICE)
    await outbox.owe_edit(tx, order, "held")
    log.error("order %s not delivered: %s", order.id, problem)
    await _apply_early_refund(tx, order)
    return "mismatch"


async def _apply_early_refund(tx: aiosqlite.Connection, order: Order) -> None:
    """A refund event that overtook this payment's events is applied now that the payment is
    recorded."""
    if not order.amount_refunded:
        return
    recorded = await orders.get(tx, order.id)
    assert recorded is not None
    await refunds.apply_refunded_total(tx, recorded, recorded.amount_refunded)


async def _hand_over_stock(tx: aiosqlite.Connection, shop: Shop, order: Order) -> None:
    """Reserved items become the buyer's, line by line. If a reservation was released meanwhile
    (the session expired locally, then the payment went through), take fresh items; a line the
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
            short.append(f"{line.title}: {missing - left} of {line.quantity} missing")
    await stock.sell(tx, order.id)
    if short:
        detail = (
            "It is paid but the stock ran out before all its items could be given ("
            + "; ".join(short)
            + "). Add stock and use Send again, or refund the difference."
        )
        await _tell_admins(tx, shop, order, outbox.Topic.SHORT, DeliveryKind.PROBLEM_ALERT, detail)


def _charge_problem(order: Order, facts: SessionFacts, livemode: bool) -> str | None:
    """Why what Stripe charged is not what we offered, or None when it is.

    The line items' subtotal must be the order's amount, and Stripe's own breakdown must explain
    the rest: total = subtotal - discount (a promotion code) + shipping + tax.
    Comparing the total with our price would call every discounted payment a mismatch."""
    if facts.livemode != livemode:
        mode = "live" if facts.livemode else "test"
        return f"Stripe reported a {mode}-mode payment, but this shop runs in the other mode"
    expected = format_money(order.amount_total, order.currency)
    paid = _shown_amount(facts.amount_total, facts.currency)
    if facts.currency != order.currency:
        return f"Stripe reported {paid} paid, but the order is for {expected}"
    if facts.amount_subtotal != order.amount_total:
        subtotal = _shown_amount(facts.amount_subtotal, facts.currency)
        return (
            f"Stripe reported {paid} paid for a subtotal of {subtotal}, "
            f"but the order is for {expected}"
        )
    if not facts.adds_up or facts.amount_discount > order.amount_total:
        return (
            f"Stripe reported {paid} paid, but the order is for {expected} and a discount of "
            f"{_shown_amount(facts.amount_discount, facts.currency)} does not explain it"
        )
    return None


def _shown_amount(amount: int | None, currency: str | None) -> str:
    """An amount Stripe reported, for an alert: even an absurd one must not stop the alert."""
    if amount is None or not currency:
        return "an unknown amount"
    try:
        return format_money(amount, currency)
    except (ArithmeticError, ValueError):
        return f"{amount} (minor units of {currency[:10]!r})"


async def apply_session_snapshot(shop: Shop, obj: Mapping[str, Any]) -> Order | None:
    """Apply a checkout.session as Stripe has it now (retrieved or listed), for the success
    page and the reconciliation job. None when the session is not one of our orders."""
    facts = session_facts(obj)
    if not facts.ours:
        return None
    async with shop.transaction() as tx:
        order = await our_order(tx, facts)
        if order is None:
            return None
        await _apply_session(tx, shop, order, facts)
        after = await orders.get(tx, order.id)
    return after


async def apply_payment_failed(shop: Shop, order_id: int) -> Order | None:
    """Stripe says the delayed payment of a processing order failed (its PaymentIntent needs a
    new payment method), but the webhook never told us: end the order as the event would."""
    async with shop.transaction() as tx:
        order = await orders.get(tx, order_id)
        if order is None or order.status is not OrderStatus.PROCESSING:
            return order
        await _end_unpaid(tx, shop, order, OrderStatus.FAILED)
        after = await orders.get(tx, order_id)
    return after


async def apply_cancelled(shop: Shop, order_id: int) -> Order | None:
    """The buyer cancelled on Checkout and Stripe expired the session at our request: end the
    order as the expired event would, at once; that event then changes nothing."""
    async with shop.transaction() as tx:
        order = await orders.get(tx, order_id)
        if order is None:
            return None
        await _end_unpaid(tx, shop, order, OrderStatus.EXPIRED, cancelled=True)
        after = await orders.get(tx, order_id)
    return after


# The only states a look-up at Stripe can still change; any other is final for the pages.
_UNSETTLED = frozenset({OrderStatus.PENDING, OrderStatus.AWAITING_PAYMENT, OrderStatus.PROCESSING})


async def fulfil_session(shop: Shop, session_id: str) -> str:
    """Check a session with Stripe and record its payment (the /success page's safety net).

    Stripe is asked only about our own orders that are not settled yet, and at most once per
    session every few seconds however many pages ask (`Shop.session_lookups`), so the open
    page cannot make us spend the account's rate limit. Returns the order's `page_state`, or
    "unknown" for a session that is not ours."""
    order = await orders.by_session(shop.db.reader, session_id)
    if order is None:
        return "unknown"
    if order.status in _UNSETTLED:
        await shop.session_lookups.run(session_id, lambda: _look_up(shop, session_id))
        order = await orders.get(shop.db.reader, order.id)
        assert order is not None
    return page_state(order)


async def _look_up(shop: Shop, session_id: str) -> None:
    try:
        session = await shop.stripe.retrieve_checkout_session(session_id)
    except stripe.StripeError as error:
        log.warning("success page: could not retrieve session: %s", type(error).__name__)
        return
    await apply_session_snapshot(shop, session.to_dict())


def page_state(order: Order) -> str:
    """What the buyer's pages say about the payment: "paid", "processing", "failed",
    "expired", "refunded" or "unpaid" (nothing seen yet)."""
    if order.is_paid:
        return "paid"
    states = {
        OrderStatus.PROCESSING: "processing",
        OrderStatus.FAILED: "failed",
        OrderStatus.EXPIRED: "expired",
        OrderStatus.REFUNDED: "refunded",
    }
    return states.get(order.status, "unpaid")
