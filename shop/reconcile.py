"""Reconciliation: apply what Stripe knows to the orders whose webhook never came.

Webhooks get lost: the endpoint was down longer than Stripe retries, it was misconfigured, or
we crashed between Stripe creating a session and us storing its id. So at start and every few
minutes this job (a) lists the recent Checkout Sessions and applies each one that can still move
one of our orders, (b) settles the orders still waiting for a payment whose link has expired,
and (c) asks how the delayed payments still being confirmed went: a bank debit can settle days
after its session, beyond the list's reach. Stripe is asked only about Stripe's orders; unpaid
Telegram Stars orders past their expiry end here too, by our clock (shop/stars.py).

A buyer who paid should not wait five minutes for that, so a cheap pass (`catch_up_payments`)
runs every RECENT_INTERVAL_SECONDS (bot/reconcile.py) in between: while an order has been
waiting for its payment longer than a webhook takes to arrive (WEBHOOK_GRACE_SECONDS), it
lists only the *completed*
sessions created since the oldest such order was (`status=complete`, `created[gte]`, pages of
100) and applies those whose order is still open here. Its cost is one list call per hundred
sales made within one link lifetime, and none at all while nothing is waiting: a shop selling
a thousand an hour makes 10 calls every 30 s, 0.3 a second of Stripe's 100 (25 in test mode).
So a paid order whose webhook is lost is delivered within WEBHOOK_GRACE_SECONDS +
RECENT_INTERVAL_SECONDS (about a minute and a half).

Sessions go through `apply_session_snapshot`, the same idempotent function as the webhook and
the success page, so any number of runs, interleaved with late webhooks, converge on one state
and owe each message at most once.
Stripe's faults are counted and left to the next run; a 429 ends the run at once, so we never
add to the load that caused it.

Telegram Stars have no session to ask about, but a ledger: `recover_star_payments` reads the
bot's Star transactions (oldest first) from where the last run stopped and records each payment
we never saw — its `successful_payment` update was lost — through shop/stars.py, as if the
update had come. The new offset is stored in the same commit as what its page recorded, so a
restart goes on from there; the charge id is unique besides, so no payment is recorded twice.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Mapping
from contextlib import aclosing, suppress
from dataclasses import dataclass
from typing import Any

import stripe
from telegram.error import TelegramError

from shop.context import Shop
from shop.gateways.telegram_stars import LEDGER_PAGE, star_payments, star_transactions_page
from shop.i18n import N_
from shop.payments import apply_payment_failed, apply_session_snapshot, our_order
from shop.stars import expire_stars_orders, reconcile_payments_in
from shop.stripe_facts import session_facts, target_status
from shop.unpaid import end_unpaid
from storage import job_state, orders
from storage.clock import now
from storage.db import Database
from storage.models import OPEN_STATES, Order, OrderStatus, Rail, can_transition

log = logging.getLogger(__name__)

WEBHOOK_GRACE_SECONDS = 60  # a webhook not here this long after its order may be lost
LIST_PAGE_SIZE = 100  # Stripe's maximum
# A session lives at most 24 h, so older ones cannot change any more (except a delayed payment
# settling, which (c) asks the PaymentIntent about); the margin absorbs clock drift
# between us and Stripe and the time Stripe takes to expire a session after its expires_at.
SESSION_LIFE_SECONDS = 24 * 60 * 60
MARGIN_SECONDS = 5 * 60
OVERDUE_BATCH = 100  # orders settled one by one per run, so a backlog cannot flood Stripe
PROCESSING_BATCH = 100  # delayed payments asked about per run, longest-waiting first
# A PaymentIntent in one of these states will not be paid by the session's payment method.
PAYMENT_FAILED_STATES = frozenset({"requires_payment_method", "canceled"})
# Orders whose session may still change: listing Stripe's sessions reaches back to the oldest.
UNSETTLED = OPEN_STATES | {OrderStatus.PROCESSING}
NO_LINK_REASON = N_("no payment link was created")
STAR_LEDGER_OFFSET = "star_transactions_offset"  # job_state: Star transactions read so far
STAR_PAGES_PER_RUN = 20  # a long ledger (the first run) is read over several runs

_running: weakref.WeakKeyDictionary[Database, asyncio.Lock] = weakref.WeakKeyDictionary()
_reading_ledger: weakref.WeakKeyDictionary[Database, asyncio.Lock] = weakref.WeakKeyDictionary()


@dataclass
class ReconcileReport:
    """What one run did: sessions looked at, orders moved, Stripe calls that failed."""

    seen: int = 0
    paid: int = 0
    processing: int = 0
    expired: int = 0
    failed: int = 0
    errors: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.paid or self.processing or self.expired or self.failed)

    def __str__(self) -> str:
        return (
            f"{self.seen} sessions seen, {self.paid} newly paid, {self.processing} processing,"
            f" {self.expired} expired, {self.failed} failed, {self.errors} errors"
        )


class _Throttled(Exception):
    """Stripe answered 429: stop this run."""


async def reconcile(shop: Shop) -> ReconcileReport:
    """One pass over Stripe's recent sessions and our overdue orders. Never raises for Stripe's
    faults; runs for the same database wait for each other instead of doubling the calls."""
    report = ReconcileReport()
    lock = _running.setdefault(shop.db, asyncio.Lock())
    async with lock:
        # Stars orders end by our clock alone (Telegram has no session to ask): first, so a
        # Stripe outage or 429 never keeps their keys reserved.
        report.expired += await expire_stars_orders(shop)
        listed: set[str] = set()
        try:
            await _apply_listed(shop, report, listed)
            await _settle_overdue(shop, report, listed)
            await _check_delayed_payments(shop, report)
        except _Throttled:
            pass  # counted where it happened; the rest waits for the next run
    if report.changed or report.errors:
        log.info("reconciliation: %s", report)
    return report


async def catch_up_payments(shop: Shop) -> ReconcileReport:
    """The cheap pass: apply the completed sessions of orders still open here a while after
    their creation (their webhook is late or lost). No Stripe call while no order is waiting."""
    report = ReconcileReport()
    oldest = await orders.oldest_created_at(shop.db.reader, OPEN_STATES)
    if oldest is None or oldest > now() - WEBHOOK_GRACE_SECONDS:
        return report
    lock = _running.setdefault(shop.db, asyncio.Lock())
    async with lock:
        with suppress(_Throttled):  # counted; the next pass catches up
            await _apply_listed(shop, report, set(), since=oldest, status="complete")
    if report.changed or report.errors:
        log.info("reconciliation (recent payments): %s", report)
    return report


async def recover_star_payments(shop: Shop) -> int:
    """Record the Stars payments in Telegram's ledger that we never saw, reading on from the
    stored offset; each page's payments and the offset after it commit together. Returns how
    many orders became paid. Telegram's faults are logged and left to the next run; nothing is
    asked while no order was ever made for Stars."""
    recovered = 0
    lock = _reading_ledger.setdefault(shop.db, asyncio.Lock())
    async with lock:
        if not await orders.any_on_rail(shop.db.reader, Rail.STARS):
            return 0
        for _ in range(STAR_PAGES_PER_RUN):
            stored = await job_state.get(shop.db.reader, STAR_LEDGER_OFFSET)
            offset = int(stored or 0)
            try:
                page = await star_transactions_page(shop.bot, offset)
            except TelegramError as error:
                log.warning("reconciliation: reading the Star transactions failed: %s", error)
                break
            if not page:
                break
            async with shop.transaction() as tx:
                moved = str(offset + len(page))
                if not await job_state.advance(tx, STAR_LEDGER_OFFSET, stored, moved):
                    break  # another process read this page: it recorded what was in it
                recovered += await reconcile_payments_in(tx, shop, star_payments(page))
            if len(page) < LEDGER_PAGE:
                break
    return recovered


async def _apply_listed(
    shop: Shop,
    report: ReconcileReport,
    listed: set[str],
    *,
    since: int | None = None,
    status: str | None = None,
) -> None:
    """(a) Apply every listed session (created since `since`, default: the oldest order still
    waiting on Stripe; in `status`, default: any) that can still move its order."""
    oldest = since or await orders.oldest_created_at(shop.db.reader, UNSETTLED)
    if oldest is None:
        return  # nothing of ours is waiting on Stripe
    since = max(oldest - MARGIN_SECONDS, now() - SESSION_LIFE_SECONDS - MARGIN_SECONDS)
    pages = shop.stripe.list_checkout_sessions(since, LIST_PAGE_SIZE, status=status)
    try:
        async with aclosing(pages) as sessions:
            async for session in sessions:
                listed.add(str(session.get("id")))
                await _apply(shop, session, report)
    except stripe.StripeError as error:
        _count_failure(report, "listing Checkout Sessions", error)


async def _settle_overdue(shop: Shop, report: ReconcileReport, listed: set[str]) -> None:
    """(b) Orders still waiting for a payment after their link expired: ask Stripe about each
    session not listed above; with no session at all (we crashed while creating it, or Stripe
    never answered) there is nothing to pay, so the order expires here and now."""
    before = now() - MARGIN_SECONDS
    for order in await orders.open_expired(shop.db.reader, before=before, limit=OVERDUE_BATCH):
        session_id = order.checkout_session_id
        if session_id is None:
            if await _expire_without_session(shop, order):
                report.expired += 1
            continue
        if session_id in listed:
            continue  # Stripe still shows it open: its expiry is late; the next run looks again
        try:
            session = await shop.stripe.retrieve_checkout_session(session_id)
        except stripe.StripeError as error:
            _count_failure(report, f"retrieving order {order.id}'s session", error)
            continue
        await _apply(shop, session.to_dict(), report)


async def _check_delayed_payments(shop: Shop, report: ReconcileReport) -> None:
    """(c) Orders still processing a while after they started: one PaymentIntent look-up each;
    the session is fetched only when the payment went through."""
    waiting = await orders.processing_since_before(
        shop.db.reader, before=now() - MARGIN_SECONDS, limit=PROCESSING_BATCH
    )
    for order in waiting:
        if order.payment_intent_id is None or order.checkout_session_id is None:
            continue
        try:
            status = await shop.stripe.payment_intent_status(order.payment_intent_id)
            if status == "succeeded":
                session = await shop.stripe.retrieve_checkout_session(order.checkout_session_id)
                await _apply(shop, session.to_dict(), report)
        except stripe.StripeError as error:
            _count_failure(report, f"checking order {order.id}'s delayed payment", error)
            continue
        if status in PAYMENT_FAILED_STATES:
            after = await apply_payment_failed(shop, order.id)
            if after is not None and after.status is OrderStatus.FAILED:
                report.failed += 1


async def _apply(shop: Shop, session: Mapping[str, Any], report: ReconcileReport) -> None:
    report.seen += 1
    try:
        facts = session_facts(session)
    except ValueError:
        report.errors += 1
        log.warning("reconciliation: Stripe listed something that is not a Checkout Session")
        return
    order = await our_order(shop.db.reader, facts)
    if order is None:
        return  # another shop's or another database's session
    target = target_status(facts)
    if target is None or not can_transition(order.status, target):
        return  # already final here, or nothing new: skip the write transaction
    after = await apply_session_snapshot(shop, session)
    if after is None or after.status is order.status:
        return
    if after.is_paid:
        report.paid += 1
    elif after.status is OrderStatus.PROCESSING:
        report.processing += 1
    elif after.status is OrderStatus.EXPIRED:
        report.expired += 1


async def _expire_without_session(shop: Shop, order: Order) -> bool:
    """Expire an order that never got a payment link and release its stock, in one transaction.
    The buyer is not told: they never had a link that could expire."""
    async with shop.db.transaction() as tx:
        current = await orders.get(tx, order.id)
        if current is None or current.checkout_session_id is not None:
            return False  # its session was stored meanwhile: the next run asks Stripe
        return await end_unpaid(tx, current, OrderStatus.EXPIRED, failure_reason=NO_LINK_REASON)


def _count_failure(report: ReconcileReport, doing: str, error: stripe.StripeError) -> None:
    report.errors += 1
    log.warning(
        "reconciliation: %s failed: %s (status %s, code %s, request %s)",
        doing,
        type(error).__name__,
        error.http_status,
        error.code,
        error.request_id,
    )
    if isinstance(error, stripe.RateLimitError):
        raise _Throttled from error
