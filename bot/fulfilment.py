"""Stripe says a session moved → the order moves, and the goods are owed, in one transaction.

`handle_stripe_event` (webhook) and `fulfil_session` (success page) share `_apply_session`,
which is idempotent per order: a payment is recorded once, whatever calls it how often.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiosqlite
import stripe

from bot import refunds
from bot.money import format_money
from bot.shop import Shop
from storage import deliveries, events, orders, stock
from storage.clock import now
from storage.models import DeliveryKind, Order, OrderStatus, ProductKind

log = logging.getLogger(__name__)

COMPLETED = "checkout.session.completed"
ASYNC_SUCCEEDED = "checkout.session.async_payment_succeeded"
ASYNC_FAILED = "checkout.session.async_payment_failed"
EXPIRED = "checkout.session.expired"
SESSION_EVENTS = frozenset({COMPLETED, ASYNC_SUCCEEDED, ASYNC_FAILED, EXPIRED})
CHARGE_REFUNDED = "charge.refunded"


@dataclass(frozen=True)
class SessionFacts:
    """What we need from a checkout.session object, checked for shape."""

    session_id: str
    order_id: int | None
    order_ref: str | None
    status: str | None
    payment_status: str | None
    amount_total: int | None
    currency: str | None
    payment_intent: str | None
    livemode: bool
    shipping_address: str | None = None


def session_facts(obj: Mapping[str, Any]) -> SessionFacts:
    """Parse a checkout.session; ValueError when it is not one."""
    if obj.get("object") != "checkout.session" or not isinstance(obj.get("id"), str):
        raise ValueError("not a checkout.session object")
    metadata = obj.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        raise ValueError("metadata is not an object")
    raw_order = metadata.get("order_id")
    order_id = int(raw_order) if isinstance(raw_order, str) and raw_order.isdigit() else None
    intent = obj.get("payment_intent")
    if isinstance(intent, Mapping):  # expanded
        intent = intent.get("id")
    amount = obj.get("amount_total")
    return SessionFacts(
        session_id=obj["id"],
        order_id=order_id,
        order_ref=_str_or_none(metadata.get("order_ref")),
        status=_str_or_none(obj.get("status")),
        payment_status=_str_or_none(obj.get("payment_status")),
        amount_total=amount if isinstance(amount, int) else None,
        currency=_str_or_none(obj.get("currency")),
        payment_intent=_str_or_none(intent),
        livemode=bool(obj.get("livemode")),
        shipping_address=_shipping_address(obj),
    )


def _shipping_address(obj: Mapping[str, Any]) -> str | None:
    """The collected shipping address as lines for people (API 2026: collected_information)."""
    collected = obj.get("collected_information")
    details = collected.get("shipping_details") if isinstance(collected, Mapping) else None
    if not isinstance(details, Mapping):
        return None
    address = details.get("address")
    address = address if isinstance(address, Mapping) else {}
    city_line = " ".join(
        str(address[k]) for k in ("postal_code", "city") if isinstance(address.get(k), str)
    )
    parts = [
        details.get("name"),
        address.get("line1"),
        address.get("line2"),
        city_line,
        address.get("state"),
        address.get("country"),
    ]
    lines = [str(part).strip() for part in parts if isinstance(part, str) and part.strip()]
    return "\n".join(lines) or None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


async def handle_stripe_event(shop: Shop, event: stripe.Event) -> None:
    """Record a verified event and apply it. Returns normally when recorded or knowingly
    ignored; raises ValueError for a malformed event and LookupError when the event is ours but
    its order is missing (so Stripe retries)."""
    payload = event.to_dict()
    event_id, event_type = payload.get("id"), payload.get("type")
    if not isinstance(event_id, str) or not isinstance(event_type, str):
        raise ValueError("event without id or type")
    if event_type not in SESSION_EVENTS and event_type != CHARGE_REFUNDED:
        log.info("stripe event %s (%s) ignored: not a type this shop handles", event_id, event_type)
        return
    data = payload.get("data")
    if not isinstance(data, Mapping) or not isinstance(data.get("object"), Mapping):
        raise ValueError("event without data.object")
    if event_type == CHARGE_REFUNDED:
        await _handle_refund_event(shop, event_id, data["object"])
        return
    facts = session_facts(data["object"])
    if facts.order_id is None:
        log.info("stripe event %s ignored: session %s is not ours", event_id, facts.session_id)
        return
    async with shop.db.transaction() as tx:
        if await events.outcome_of(tx, event_id) is not None:
            log.info("stripe event %s already handled", event_id)
            return
        order = await orders.get(tx, facts.order_id)
        if order is None:
            raise LookupError(f"event {event_id}: order {facts.order_id} not found")
        if facts.order_ref != order.ref:
            log.warning(
                "stripe event %s ignored: order %s belongs to another shop database",
                event_id,
                facts.order_id,
            )
            await events.record(tx, event_id, event_type, None, "foreign")
            return
        outcome = await _apply_event(tx, shop, order, event_type, facts)
        await events.record(tx, event_id, event_type, order.id, outcome)
    log.info("stripe event %s (%s) for order %s: %s", event_id, event_type, order.id, outcome)
    shop.wake_outbox()


async def _handle_refund_event(shop: Shop, event_id: str, charge: Mapping[str, Any]) -> None:
    """A refund from /refund or the Dashboard: Stripe reports the charge's refunded total."""
    intent, refunded = charge.get("payment_intent"), charge.get("amount_refunded")
    if charge.get("object") != "charge" or not isinstance(refunded, int):
        raise ValueError("charge.refunded without a charge")
    if not isinstance(intent, str):
        log.info("stripe event %s ignored: a charge without a payment intent", event_id)
        return
    async with shop.db.transaction() as tx:
        if await events.outcome_of(tx, event_id) is not None:
            return
        order = await orders.by_payment_intent(tx, intent)
        if order is None:
            log.info("stripe event %s ignored: payment %s is not ours", event_id, intent)
            return
        changed = await refunds.apply_refunded_total(tx, order, refunded)
        await events.record(
            tx, event_id, CHARGE_REFUNDED, order.id, "refunded" if changed else "unchanged"
        )
    shop.wake_outbox()


async def _apply_event(
    tx: aiosqlite.Connection, shop: Shop, order: Order, event_type: str, facts: SessionFacts
) -> str:
    if event_type in (COMPLETED, ASYNC_SUCCEEDED):
        return await _apply_session(tx, shop, order, facts)
    if event_type == ASYNC_FAILED:
        moved = await orders.transition(
            tx, order, OrderStatus.FAILED, failure_reason="delayed payment failed"
        )
    else:
        moved = await orders.transition(tx, order, OrderStatus.EXPIRED)
    if not moved:
        return "ignored"
    await stock.release(tx, order.id)
    return "failed" if event_type == ASYNC_FAILED else "expired"


async def _apply_session(
    tx: aiosqlite.Connection, shop: Shop, order: Order, facts: SessionFacts
) -> str:
    """Move the order by what the session says about the payment."""
    if order.checkout_session_id is None:
        await orders.update(tx, order.id, checkout_session_id=facts.session_id)
    if facts.payment_status in ("paid", "no_payment_required"):
        return await _record_payment(tx, shop, order, facts)
    if facts.status == "complete":
        moved = await orders.transition(tx, order, OrderStatus.PROCESSING)
        return "processing" if moved else "ignored"
    return "ignored"


async def _record_payment(
    tx: aiosqlite.Connection, shop: Shop, order: Order, facts: SessionFacts
) -> str:
    if order.is_paid or order.status is OrderStatus.REFUNDED:
        return "already_paid"
    problem = _mismatch(order, facts, shop.settings.stripe_livemode)
    if problem:
        if order.failure_reason != problem:
            await orders.update(tx, order.id, failure_reason=problem)
            await orders.transition(tx, order, OrderStatus.FAILED)
            for admin in sorted(shop.settings.admin_ids):
                await deliveries.enqueue(
                    tx,
                    dedupe_key=f"mismatch:{order.id}:{admin}",
                    order_id=order.id,
                    kind=DeliveryKind.PROBLEM_ALERT,
                    chat_id=admin,
                    detail=f"{problem}. The goods were NOT delivered; check the payment in "
                    f"Stripe ({facts.session_id}) and refund or deliver by hand.",
                )
            log.error("order %s not delivered: %s", order.id, problem)
        return "mismatch"
    moved = await orders.transition(
        tx,
        order,
        OrderStatus.PAID,
        payment_intent_id=facts.payment_intent,
        paid_at=now(),
        shipping_address=facts.shipping_address,
    )
    if not moved:
        return "ignored"
    if order.product_kind is ProductKind.DIGITAL_STOCK:
        await _hand_over_stock(tx, shop, order)
    await deliveries.enqueue(
        tx,
        dedupe_key=f"goods:{order.id}",
        order_id=order.id,
        kind=DeliveryKind.GOODS,
        chat_id=order.buyer_chat_id,
    )
    for admin in sorted(shop.settings.admin_ids):
        await deliveries.enqueue(
            tx,
            dedupe_key=f"sale:{order.id}:{admin}",
            order_id=order.id,
            kind=DeliveryKind.SALE_ALERT,
            chat_id=admin,
        )
    return "paid"


async def _hand_over_stock(tx: aiosqlite.Connection, shop: Shop, order: Order) -> None:
    """Reserved items become the buyer's. If the reservation was released meanwhile (the
    session expired locally, then the payment went through), take fresh items; if the pool is
    empty, the admins must act."""
    missing = order.quantity - await stock.reserved_for(tx, order.id)
    if missing > 0 and not await stock.reserve(tx, order.product_id, order.id, missing):
        await stock.reserve(
            tx, order.product_id, order.id, await stock.available(tx, order.product_id)
        )
        for admin in sorted(shop.settings.admin_ids):
            await deliveries.enqueue(
                tx,
                dedupe_key=f"short:{order.id}:{admin}",
                order_id=order.id,
                kind=DeliveryKind.PROBLEM_ALERT,
                chat_id=admin,
                detail="It is paid but the stock ran out before all its items could be given. "
                "Add stock and use Send again, or refund the difference.",
            )
    await stock.sell(tx, order.id)


def _mismatch(order: Order, facts: SessionFacts, livemode: bool) -> str | None:
    if facts.livemode != livemode:
        mode = "live" if facts.livemode else "test"
        return f"Stripe reported a {mode}-mode payment, but this shop runs in the other mode"
    if facts.amount_total != order.amount_total or facts.currency != order.currency:
        paid = (
            format_money(facts.amount_total, facts.currency)
            if facts.amount_total is not None and facts.currency
            else "an unknown amount"
        )
        expected = format_money(order.amount_total, order.currency)
        return f"Stripe reported {paid} paid, but the order is for {expected}"
    return None


async def fulfil_session(shop: Shop, session_id: str) -> str:
    """Check a session with Stripe and record its payment (the /success page's safety net).

    Only sessions of our own orders reach Stripe, so the page cannot be used to make us call
    the API for arbitrary ids. Returns "paid", "processing", "unpaid" or "unknown"."""
    order = await orders.by_session(shop.db.reader, session_id)
    if order is None:
        return "unknown"
    if order.is_paid:
        return "paid"
    try:
        session = await shop.stripe.retrieve_checkout_session(session_id)
    except stripe.StripeError as error:
        log.warning("success page: could not retrieve session: %s", type(error).__name__)
        return "unknown"
    facts = session_facts(session.to_dict())
    if facts.order_id != order.id or facts.order_ref != order.ref:
        return "unknown"
    async with shop.db.transaction() as tx:
        current = await orders.get(tx, order.id)
        assert current is not None
        await _apply_session(tx, shop, current, facts)
        after = await orders.get(tx, order.id)
    shop.wake_outbox()
    assert after is not None
    if after.is_paid:
        return "paid"
    return "processing" if after.status is OrderStatus.PROCESSING else "unpaid"
