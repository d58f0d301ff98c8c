"""Stripe says a session moved → the order moves, and what we owe is queued, in one transaction.

A webhook event is taken in two steps (README, "Stripe events: the inbox"): `received` checks it
without the database and says what the inbox records before the 2xx; `apply_event` applies it
from the inbox right after. The applier (shop/stripe_inbox.py), the success page
(`fulfil_session`) and the reconciliation job (`apply_session_snapshot`) all end in
`_apply_session`. Order moves go through the allow-list, so events in any order and any number
converge on the same final state, and the outbox's dedupe keys make every message owed at most
once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import stripe

from shop import outbox, refunds
from shop.context import Shop
from shop.i18n import N_
from shop.money import format_money
from shop.said import Said, Value
from shop.settle import close_unpaid, hold_payment, record_paid, tell_buyer
from shop.stripe_facts import (
    SessionFacts,
    order_key,
    session_facts,
    session_reference,
    storable_text,
    target_status,
)
from storage import events, orders
from storage.clock import now
from storage.inbox import Arrival
from storage.models import DeliveryKind, Order, OrderStatus
from storage.sql import Connection

log = logging.getLogger(__name__)

COMPLETED = "checkout.session.completed"
ASYNC_SUCCEEDED = "checkout.session.async_payment_succeeded"
ASYNC_FAILED = "checkout.session.async_payment_failed"
EXPIRED = "checkout.session.expired"
SESSION_EVENTS = frozenset({COMPLETED, ASYNC_SUCCEEDED, ASYNC_FAILED, EXPIRED})
CHARGE_REFUNDED = "charge.refunded"
# API versions other than the pinned one that events have arrived in (each warned about once).
_OTHER_VERSIONS_SEEN: set[str] = set()


def received(payload: Mapping[str, Any], body: bytes | None = None) -> Arrival | None:
    """What the webhook records of a verified event (`payload`, parsed from `body`) before its
    2xx, after the checks that need no database: None when it is knowingly ignored (a type this
    shop does not handle, another integration's session or payment: a 200 and a log line, never
    a retry loop); ValueError for a malformed event (a 400), so that nothing malformed enters
    the inbox."""
    event_id, event_type = payload.get("id"), payload.get("type")
    if not storable_text(event_id) or not storable_text(event_type):
        raise ValueError("event without id or type")
    if event_type not in SESSION_EVENTS and event_type != CHARGE_REFUNDED:
        log.info("stripe event %s (%s) ignored: not a type this shop handles", event_id, event_type)
        return None
    data = payload.get("data")
    if not isinstance(data, Mapping) or not isinstance(data.get("object"), Mapping):
        raise ValueError("event without data.object")
    _note_api_version(event_id, payload.get("api_version"))
    if event_type == CHARGE_REFUNDED:
        key = refunds.refund_order_key(event_id, data["object"])
    else:
        key = _session_order_key(event_id, data["object"])
    if key is None:
        return None
    return Arrival(event_id, event_type, key, _created(payload), _as_text(payload, body))


def _as_text(payload: Mapping[str, Any], body: bytes | None) -> str:
    """The event as the inbox stores it: the body as Stripe sent it when it is plain UTF-8 (no
    second serialisation on the webhook's path; `json.loads` read it as UTF-8 too), else the
    payload as ASCII JSON, in which a lone surrogate stays escaped so that the row can always
    be written and read back."""
    if body is not None and json.detect_encoding(body) == "utf-8":
        try:
            return body.decode()
        except UnicodeDecodeError:  # surrogates, which json.loads let through
            pass
    return json.dumps(payload)


def _session_order_key(event_id: str, obj: Mapping[str, Any]) -> str | None:
    reference = session_reference(obj)
    if reference.order_id is None or not reference.ours:
        log.info("stripe event %s ignored: session %s is not ours", event_id, reference.session_id)
        return None
    return order_key(reference.order_id)


def _created(payload: Mapping[str, Any]) -> int:
    """Stripe's `created` (unix seconds): the order events of one order are applied in; an
    event without a usable one sorts as if created now."""
    created = payload.get("created")
    if isinstance(created, int) and not isinstance(created, bool) and 0 <= created < 2**62:
        return created
    return now()


# A transaction's step that must commit with the event's apply, or not at all (the inbox marks
# the event applied); None when nothing is to be marked.
Mark = Callable[[Connection], Awaitable[None]] | None


async def apply_event(shop: Shop, payload: Mapping[str, Any], mark: Mark = None) -> None:
    """Apply an event that `received` accepted: record it, move the order, owe what the move
    owes, in one transaction, which also runs `mark`. An event seen before (its id is in
    `stripe_events`) changes nothing. The database's errors, and Stripe's while a refund's
    order is looked up, propagate: the event stays in the inbox and is tried again."""
    event_id, event_type = str(payload["id"]), str(payload["type"])
    obj = payload["data"]["object"]
    if event_type == CHARGE_REFUNDED:
        await refunds.handle_refund_event(shop, event_id, obj, mark)
        return
    facts = session_facts(obj)
    async with shop.transaction() as tx:
        if mark is not None:
            await mark(tx)
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


async def our_order(conn: Connection, facts: SessionFacts) -> Order | None:
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
    tx: Connection, shop: Shop, order: Order, event_type: str, facts: SessionFacts
) -> str:
    if event_type in (COMPLETED, ASYNC_SUCCEEDED):
        return await _apply_session(tx, shop, order, facts)
    if event_type == ASYNC_FAILED:
        return await close_unpaid(tx, shop, order, OrderStatus.FAILED)
    return await close_unpaid(tx, shop, order, OrderStatus.EXPIRED)


async def _apply_session(tx: Connection, shop: Shop, order: Order, facts: SessionFacts) -> str:
    """Move the order by what the session says about the payment."""
    if order.checkout_session_id is None:
        await orders.update(tx, order.id, checkout_session_id=facts.session_id)
    target = target_status(facts)
    if target is OrderStatus.PAID:
        return await _record_payment(tx, shop, order, facts)
    if target is OrderStatus.EXPIRED:
        return await close_unpaid(tx, shop, order, OrderStatus.EXPIRED)
    if target is not OrderStatus.PROCESSING:
        return "ignored"
    if not await orders.transition(
        tx, order, OrderStatus.PROCESSING, payment_intent_id=facts.payment_intent
    ):
        return "ignored"
    await outbox.owe_edit(tx, order, OrderStatus.PROCESSING.value)
    await tell_buyer(tx, order, DeliveryKind.PROCESSING_NOTICE)
    return "processing"


async def _record_payment(tx: Connection, shop: Shop, order: Order, facts: SessionFacts) -> str:
    if order.is_paid or order.status is OrderStatus.REFUNDED:
        return "already_paid"
    problem = _charge_problem(order, facts, shop.settings.stripe_livemode)
    if problem:
        detail = Said(
            N_(
                "check the payment in Stripe ({session}), then deliver by hand or refund it: "
                "/refund {order}"
            ),
            {"session": facts.session_id, "order": order.id},
        )
        return await hold_payment(
            tx,
            shop,
            order,
            problem,
            detail,
            payment_intent_id=facts.payment_intent or order.payment_intent_id,
            amount_charged=facts.amount_total,
        )
    paid = await record_paid(
        tx,
        shop,
        order,
        payment_intent_id=facts.payment_intent,
        shipping_address=facts.shipping_address,
        amount_discount=facts.amount_discount,
        amount_charged=facts.amount_total,
    )
    return "paid" if paid else "ignored"


def _charge_problem(order: Order, facts: SessionFacts, livemode: bool) -> Said | None:
    """Why what Stripe charged is not what we offered, or None when it is.

    The line items' subtotal must be the order's amount, and Stripe's own breakdown must explain
    the rest: total = subtotal - discount (a promotion code) + shipping + tax.
    Comparing the total with our price would call every discounted payment a mismatch."""
    if facts.livemode != livemode:
        if facts.livemode:
            return Said(N_("Stripe reported a live-mode payment, but this shop runs in test mode"))
        return Said(N_("Stripe reported a test-mode payment, but this shop runs in live mode"))
    amounts: dict[str, Value] = {
        "paid": _shown_amount(facts.amount_total, facts.currency),
        "expected": format_money(order.amount_total, order.currency),
    }
    if facts.currency != order.currency:
        return Said(N_("Stripe reported {paid} paid, but the order is for {expected}"), amounts)
    if facts.amount_subtotal != order.amount_total:
        amounts["subtotal"] = _shown_amount(facts.amount_subtotal, facts.currency)
        return Said(
            N_("Stripe reported {paid} paid for a subtotal of {subtotal}, but the order is for "
               "{expected}"),
            amounts,
        )  # fmt: skip
    if not facts.adds_up or facts.amount_discount > order.amount_total:
        amounts["discount"] = _shown_amount(facts.amount_discount, facts.currency)
        return Said(
            N_("Stripe reported {paid} paid, but the order is for {expected} and a discount of "
               "{discount} does not explain it"),
            amounts,
        )  # fmt: skip
    return None


def _shown_amount(amount: int | None, currency: str | None) -> Value:
    """An amount Stripe reported, for an alert: even an absurd one must not stop the alert."""
    if amount is None or not currency:
        return Said(N_("an unknown amount"))
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
        await close_unpaid(tx, shop, order, OrderStatus.FAILED)
        after = await orders.get(tx, order_id)
    return after


async def apply_cancelled(shop: Shop, order_id: int) -> Order | None:
    """The buyer cancelled on Checkout and Stripe expired the session at our request: end the
    order as the expired event would, at once; that event then changes nothing."""
    async with shop.transaction() as tx:
        order = await orders.get(tx, order_id)
        if order is None:
            return None
        await close_unpaid(tx, shop, order, OrderStatus.EXPIRED, cancelled=True)
        after = await orders.get(tx, order_id)
    return after


# The only states a look-up at Stripe can still change; any other is final for the pages.
_UNSETTLED = frozenset({OrderStatus.PENDING, OrderStatus.AWAITING_PAYMENT, OrderStatus.PROCESSING})


async def fulfil_session(shop: Shop, session_id: str) -> Order | None:
    """Check a session with Stripe and record its payment (the /success page's safety net).

    Stripe is asked only about our own orders that are not settled yet, and at most once per
    session every few seconds however many pages ask (`Shop.session_lookups`), so the open
    page cannot make us spend the account's rate limit. Returns the order as it stands then
    (its `page_state` is what the page says, in its language), or None for a session that is
    not ours."""
    order = await orders.by_session(shop.db.reader, session_id)
    if order is None:
        return None
    if order.status in _UNSETTLED:
        await shop.session_lookups.run(session_id, lambda: _look_up(shop, session_id))
        order = await orders.get(shop.db.reader, order.id)
        assert order is not None
    return order


async def _look_up(shop: Shop, session_id: str) -> None:
    try:
        session = await shop.stripe.retrieve_checkout_session(session_id)
    except stripe.StripeError as error:
        log.warning("success page: could not retrieve session: %s", type(error).__name__)
        return
    await apply_session_snapshot(shop, session.to_dict())


def page_state(order: Order) -> str:
    """What the buyer's pages say about the payment: "paid", "processing", "failed",
    "expired", "cancelled" (the buyer left Checkout through its cancel link), "refunded" or
    "unpaid" (nothing seen yet)."""
    if order.is_paid:
        return "paid"
    if order.status is OrderStatus.EXPIRED and order.failure_reason == outbox.CANCELLED_REASON:
        return "cancelled"
    states = {
        OrderStatus.PROCESSING: "processing",
        OrderStatus.FAILED: "failed",
        OrderStatus.EXPIRED: "expired",
        OrderStatus.REFUNDED: "refunded",
    }
    return states.get(order.status, "unpaid")
