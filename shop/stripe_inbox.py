"""Stripe events in, through the inbox: recorded with group commit before the 2xx, applied
right after (README, "Stripe events: the inbox"; bench/FINDINGS.md §1 for why).

`Intake` is the webhook's side. Every event the webhook hands it waits for one writer task,
which inserts all the events waiting with one `executemany` in one transaction; each webhook
request returns once the commit holding its event is done (and raises when that commit
failed, so the request answers 5xx and Stripe retries). A transaction per event capped the
webhook at a tenth of a bare handler; one per batch costs about a third of it.

`Applier` is the shop's side. It claims waiting events (storage/inbox.py), applies each with
`payments.apply_event` in one transaction that also marks it applied, and wakes at once when
the intake commits; a periodic sweep, and the start, pick up whatever a crash or a failure
left. An event whose apply fails stays in the inbox: it is tried again with backoff (the
later events of its order wait behind it), logged each time, and reported to the admins once
it has failed `ALERT_AFTER` times.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable

from shop import outbox, payments
from shop.context import Shop
from shop.i18n import N_
from shop.said import Said
from storage import inbox, orders
from storage.clock import now
from storage.db import Database
from storage.inbox import Arrival, Waiting
from storage.models import DeliveryKind
from storage.sql import Connection

log = logging.getLogger(__name__)

BATCH = 50  # events claimed at a time
LEASE_SECONDS = 120  # a claim outlives any apply (a refund's order may need a Stripe look-up)
SWEEP_SECONDS = 30.0  # how often the applier looks without being woken
MAX_BACKOFF_SECONDS = 300
ALERT_AFTER = 5  # failed applies of one event before the admins are told
KEEP_APPLIED_SECONDS = 86_400  # applied rows are kept a day, to read in the database
PRUNE_EVERY_SECONDS = 3_600
STUCK_SECONDS = 300  # /healthz warns once an event has waited this long
# Applying gives way to a flood of events: while they arrive faster than FLOOD_PER_SECOND
# (averaged over about RATE_SECONDS), recording goes first and the applier applies one event
# every YIELD_SECONDS, so that none waits for ever (each such apply stalls every commit for
# its ten round trips); it catches up at full speed (about 500 events a second) once the flood
# ebbs. One shop's payments stay far below: Stripe creates
# at most 25 sessions a second per account, a few events each. A flood is Stripe redelivering a
# backlog after an outage, or a benchmark.
FLOOD_PER_SECOND = 100.0
RATE_SECONDS = 0.1
YIELD_SECONDS = 2.0
CALM_POLL_SECONDS = 0.01


class NotRecorded(Exception):
    """The commit holding the event failed (or the intake is stopped): it is not recorded,
    and the webhook must answer 5xx so that Stripe sends it again."""


class Intake:
    """Group commit: one writer task records every event waiting in one transaction."""

    def __init__(self, db: Database, on_commit: Callable[[], None]) -> None:
        """`on_commit` runs after each commit, before any request is answered (the applier's
        wake-up)."""
        self._db = db
        self._on_commit = on_commit
        self._waiting: list[tuple[Arrival, asyncio.Future[None]]] = []
        self._more = asyncio.Event()
        self._idle = True  # nothing waiting, no commit under way
        # Events a second, averaged with a time constant of RATE_SECONDS, as of `_rated_at`
        # (the event loop's clock).
        self._rate = 0.0
        self._rated_at = 0.0
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="stripe-inbox-intake")

    async def stop(self) -> None:
        """Commit what is waiting, then stop taking events."""
        self._stopping = True
        self._more.set()
        if self._task is not None:
            await self._task

    async def record(self, arrival: Arrival) -> None:
        """Return once the event is committed; NotRecorded when it could not be."""
        if self._task is None or self._stopping:
            raise NotRecorded("the inbox is not taking events (starting or stopping)")
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._waiting.append((arrival, done))
        moment = loop.time()
        self._rate = self._rate_at(moment) + 1 / RATE_SECONDS
        self._idle, self._rated_at = False, moment
        self._more.set()
        await done

    def _rate_at(self, moment: float) -> float:
        return self._rate * math.exp((self._rated_at - moment) / RATE_SECONDS)

    async def calm(self, at_most: float) -> None:
        """Return once nothing is being recorded and events arrive slower than
        FLOOD_PER_SECOND, or after `at_most` seconds: the applier's way of letting recording
        go first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + at_most
        while (moment := loop.time()) < deadline:
            if self._idle and self._rate_at(moment) < FLOOD_PER_SECOND:
                return
            await asyncio.sleep(min(CALM_POLL_SECONDS, deadline - moment))

    async def _run(self) -> None:
        while True:
            if not self._waiting:
                self._idle = True
            await self._more.wait()
            self._more.clear()
            batch, self._waiting = self._waiting, []
            if batch:
                await self._commit(batch)
            elif self._stopping:
                return

    async def _commit(self, batch: list[tuple[Arrival, asyncio.Future[None]]]) -> None:
        try:
            # One INSERT, committed on its own: it ignores ids already there, so it stands
            # alone — on PostgreSQL it waits for no apply (or other serial write) to finish
            # first, and it saves the hand-offs of BEGIN and COMMIT, which at 64 webhooks at
            # once left the event loop idle a quarter of the time waiting on them. The claim
            # is serial and sees each batch once it has committed.
            async with self._db.single_statements() as conn:
                await inbox.add(conn, [arrival for arrival, _ in batch], now())
        except Exception as error:
            log.exception("stripe inbox: %s events not recorded; Stripe will retry", len(batch))
            for _, done in batch:
                if not done.done():
                    done.set_exception(NotRecorded(f"the inbox's commit failed: {error!r}"))
            return
        self._on_commit()
        for _, done in batch:
            if not done.done():
                done.set_result(None)


class AlreadyApplied(Exception):
    """Another applier marked the event applied first: this transaction must not commit."""


class Applier:
    """Applies recorded events, in order per order, each once."""

    def __init__(
        self,
        shop: Shop,
        holder: str,
        calm: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        """`calm(at_most)` returns once the intake is not flooded (or after `at_most`
        seconds): each apply waits for it, see `_apply`."""
        self._shop = shop
        self._db = shop.db
        self._holder = holder
        self._calm = calm
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._pruned_at = 0.0

    def wake(self) -> None:
        """Events were committed: look at once."""
        self._idle.clear()
        self._wake.set()

    async def settled(self) -> None:
        """Return once the applier has found nothing more to apply now (events backing off
        after a failure may still wait). For a clean stop's callers, the tests and the bench."""
        await self._idle.wait()

    async def start(self) -> None:
        """Run in the background, beginning with whatever the inbox holds: events recorded
        before a crash, and those backing off, are tried at once."""
        async with self._db.transaction() as tx:
            await inbox.release_all(tx)
        waiting = await inbox.count_waiting(self._db.reader)
        if waiting:
            log.info("stripe inbox: %s events waiting to be applied, applying now", waiting)
        self._task = asyncio.create_task(self._run(), name="stripe-inbox-applier")

    async def stop(self) -> None:
        """Finish the event being applied; the rest stay in the inbox for the next start."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while not self._stopping:
            try:
                if await self._apply_batch():
                    continue
                await self._prune_if_due()
                await self._sleep()
            except Exception:
                log.exception("stripe inbox: applier pass failed; retrying shortly")
                await asyncio.sleep(1)

    async def _apply_batch(self) -> bool:
        """Claim and apply one batch; False when there was nothing to claim."""
        self._wake.clear()
        if self._calm is not None:
            await self._calm(YIELD_SECONDS)
        async with self._db.transaction() as tx:
            batch = await inbox.claim(tx, self._holder, now(), LEASE_SECONDS, BATCH)
        if not batch:
            if not self._wake.is_set():
                self._idle.set()
            return False
        held_back: list[int] = []
        failed: set[str] = set()
        for event in batch:
            if self._stopping or event.order_key in failed:
                held_back.append(event.seq)
            elif not await self._apply(event):
                failed.add(event.order_key)
        if held_back:
            async with self._db.transaction() as tx:
                await inbox.release(tx, self._holder, held_back)
        return True

    async def _apply(self, event: Waiting) -> bool:
        """Apply one event in the transaction that marks it applied; False when it failed.

        Recording goes first: an apply costs about ten times the CPU of recording an event, it
        holds the write lock for as many turns of the event loop as it makes round trips (each
        a long turn under load), and Stripe waits on the recording; so during a flood of events
        the applier waits (at most YIELD_SECONDS per event; bench/FINDINGS.md §1). At the rates
        one shop's payments cause, it does not wait."""
        if self._calm is not None:
            await self._calm(YIELD_SECONDS)

        async def mark(tx: Connection) -> None:
            if not await inbox.mark_applied(tx, event.seq, now()):
                raise AlreadyApplied(event.id)

        try:
            await payments.apply_event(self._shop, json.loads(event.payload), mark)
        except AlreadyApplied:
            log.info("stripe event %s was applied elsewhere", event.id)
        except Exception as error:
            await self._failed(event, error)
            return False
        return True

    async def _failed(self, event: Waiting, error: Exception) -> None:
        """Count the failure, wait before the next try, and tell the admins once it keeps
        failing. If even this cannot be written, the claim expires and the event comes back."""
        attempts = event.attempts + 1
        wait = min(2 ** min(attempts - 1, 16), MAX_BACKOFF_SECONDS)
        reason = f"{type(error).__name__}: {error}"[:500]
        log.warning(
            "stripe event %s (%s) not applied (attempt %s), trying again in %ss: %s",
            event.id,
            event.type,
            attempts,
            wait,
            reason,
            exc_info=attempts == 1,
        )
        async with self._shop.transaction() as tx:
            await inbox.postpone(tx, event.seq, attempts, now() + wait, reason)
            if attempts == ALERT_AFTER:
                await self._alert(tx, event, attempts, reason)

    async def _alert(self, tx: Connection, event: Waiting, attempts: int, reason: str) -> None:
        """A problem alert to every admin about the event's order; only the log when it names
        no order of this database (an alert is always about an order)."""
        log.error(
            "stripe event %s (%s) has failed %s times and is still retried: %s",
            event.id,
            event.type,
            attempts,
            reason,
        )
        kind, _, subject = event.order_key.partition(":")
        order = await orders.get(tx, int(subject)) if kind == "order" else None
        if order is None:
            return
        detail = Said(
            N_(
                "Stripe's event {event} ({type}) could not be applied after {attempts} tries "
                "({error}). It is kept and tried again; the log says more."
            ),
            {"event": event.id, "type": event.type, "attempts": attempts, "error": reason},
        )
        owed = outbox.Owed(outbox.Topic.STUCK_EVENT, order.id, event.id)
        admins = self._shop.settings.admin_ids
        await outbox.owe_admins(
            tx, admins, order.id, DeliveryKind.PROBLEM_ALERT, owed, detail.stored()
        )

    async def _sleep(self) -> None:
        """Until woken, the soonest backoff ends, or the sweep is due."""
        due = await inbox.next_due(self._db.reader, now())
        timeout = SWEEP_SECONDS if due is None else min(max(due - now(), 0) + 0.05, SWEEP_SECONDS)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def _prune_if_due(self) -> None:
        """Forget events applied over a day ago, a batch per transaction, once an hour."""
        if time.monotonic() - self._pruned_at < PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = time.monotonic()
        while True:
            async with self._db.transaction() as tx:
                pruned = await inbox.prune(tx, now() - KEEP_APPLIED_SECONDS)
            if pruned < inbox.PRUNE_BATCH:
                return


async def stuck(db: Database) -> str | None:
    """Why /healthz should warn about the inbox (its oldest event has waited over
    STUCK_SECONDS), or None."""
    oldest = await inbox.oldest_waiting(db.reader)
    if oldest is None or now() - oldest < STUCK_SECONDS:
        return None
    minutes = (now() - oldest) // 60
    return f"a Stripe event has waited {minutes} min to be applied (see the log)"
