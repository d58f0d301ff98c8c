"""The outbox worker: sends what the shop owes, marks it, retries what Telegram did not take.

Goods are delivered by editing the order's own message (the one that carried the Pay button)
into the receipt. An edit applied twice changes nothing, so a crash between Telegram accepting
it and us marking it sent cannot deliver twice; only the short push notice may repeat.

A Telegram Stars order's message is its invoice, whose text no edit can change. Once its
payment is recorded the order has no message (shop/stars.py lets go of the invoice), so the
receipt is sent as a new message and becomes the order's: a retry edits that one. An invoice
that will not be paid any more (expired, cancelled) is deleted rather than edited — Telegram
draws a Pay button on an invoice whatever its keyboard — and one it keeps (sent over 48 hours
ago) stays, refused at the pre-checkout query (shop/stars.py).

Whatever goes to a buyer speaks the order's language (stored when it was made), not the one
their Telegram app reports now: the receipt of an order made in Spanish is in Spanish, and so
are the goods' delivery texts where the merchant translated them (read when they are sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random

from telegram import InlineKeyboardMarkup

from bot.admin import texts as admin_texts
from bot.buyer import keyboards, notices, order_message
from bot.language import stored_language
from bot.sale_alerts import SaleAlerts
from shop import outbox, translations
from shop.context import Shop
from shop.gateways.telegram_sender import (
    Outcome,
    Result,
    backoff_seconds,
    delete_message,
    delivery_priority,
    edit_text,
    send_text,
    sending_as,
)
from shop.i18n import N_, Lang
from shop.said import Said
from storage import deliveries, order_messages, orders, products, stock
from storage.clock import now
from storage.models import Delivery, DeliveryKind, Order, OrderStatus

log = logging.getLogger(__name__)

BATCH = 50
CONCURRENCY = 16
IDLE_POLL_SECONDS = 30.0
# How long a claimed delivery is this instance's alone: long enough to send a batch at
# Telegram's pace; a claim left by an instance that died is free again after it.
CLAIM_SECONDS = 30


class DeliveryWorker:
    def __init__(self, shop: Shop) -> None:
        self._shop = shop
        self._db = shop.db
        self._bot = shop.bot
        self._admin_ids = shop.settings.admin_ids
        self._languages = shop.languages
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._listening: asyncio.Task[None] | None = None
        self._limit = asyncio.Semaphore(CONCURRENCY)
        self._sale_alerts = SaleAlerts(shop)

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        """Run in the background; leftovers from before a restart are due at once (where this
        process is alone on the database), and every other instance's announcements wake it."""
        async with self._db.transaction() as tx:
            leftovers = await deliveries.after_restart(tx)
        if leftovers:
            log.info("delivery worker: %s deliveries left from before, retrying now", leftovers)
        self._listening = asyncio.create_task(
            self._db.listen(deliveries.WAKE_CHANNEL, self.wake), name="delivery-wake"
        )
        self._task = asyncio.create_task(self._run(), name="delivery-worker")

    async def stop(self) -> None:
        """Let the deliveries in flight finish, then stop."""
        self._stopping = True
        self._wake.set()
        if self._listening is not None:
            self._listening.cancel()
            # gather, not a suppressed CancelledError: the stop's own deadline must get through
            await asyncio.gather(self._listening, return_exceptions=True)
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while not self._stopping:
            # Cleared before the claim, never after it: a wake that comes while the claim or
            # the look for the next due time runs (an enqueue, the stop) is kept for the sleep.
            self._wake.clear()
            try:
                async with self._db.transaction(serial=False) as tx:  # a claim stands alone
                    batch = await deliveries.claim_due(
                        tx, self._shop.instance, limit=BATCH, claim_seconds=CLAIM_SECONDS
                    )
                if batch:
                    batch = await self._one_writer_per_order(batch)
                    alert = DeliveryKind.SALE_ALERT
                    await asyncio.gather(
                        *(self._deliver_guarded(d) for d in batch if d.kind is not alert),
                        # An admin's due sale alerts go out together, paced per chat.
                        *map(
                            self._sale_alerts.send_due,
                            {d.chat_id for d in batch if d.kind is alert},
                        ),
                    )
                    continue
                await self._sleep_until_due()
            except Exception:
                log.exception("delivery worker: pass failed; retrying shortly")
                await asyncio.sleep(1)

    async def _one_writer_per_order(self, batch: list[Delivery]) -> list[Delivery]:
        """The claimed deliveries to send now: one per order's message at a time (storage/
        deliveries.py); the rest are due again in a second or two, without an attempt."""
        elsewhere = await deliveries.orders_written_elsewhere(
            self._db.reader, self._shop.instance, batch
        )
        kept, let_go = deliveries.one_writer_per_order(batch, elsewhere)
        if let_go:
            async with self._db.transaction(serial=False) as tx:
                await deliveries.postpone(tx, let_go, at=now() + random.randint(1, 2))
        return kept

    async def _sleep_until_due(self) -> None:
        next_at = await deliveries.next_due_at(self._db.reader)
        timeout = IDLE_POLL_SECONDS if next_at is None else max(next_at - now(), 0) + 0.05
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=min(timeout, IDLE_POLL_SECONDS))

    async def _deliver_guarded(self, delivery: Delivery) -> None:
        async with self._limit:
            try:
                with sending_as(delivery_priority(delivery.kind)):
                    await self._deliver(delivery)
            except Exception as error:
                log.exception("delivery %s failed unexpectedly", delivery.id)
                async with self._db.transaction() as tx:
                    await deliveries.reschedule(
                        tx,
                        delivery.id,
                        at=now() + backoff_seconds(delivery.attempts, None),
                        error=f"{type(error).__name__}: {error}",
                    )

    async def _deliver(self, delivery: Delivery) -> None:
        order = await orders.get(self._db.reader, delivery.order_id)
        assert order is not None, "foreign key guarantees the order"
        if delivery.kind is DeliveryKind.GOODS:
            outcome = await self._send_goods(order)
        elif delivery.kind is DeliveryKind.ORDER_MESSAGE:
            outcome = await self._edit_order_message(order)
        else:
            text, markup = await self._render(delivery, order)
            outcome = await send_text(self._bot, delivery.chat_id, text, markup)
        await self._settle(delivery, order, outcome)

    def _lang(self, order: Order) -> Lang:
        """The language the order was made in; the shop's default for an order from before
        languages (or in one no longer offered)."""
        return self._languages.get(order.language)

    async def _render(
        self, delivery: Delivery, order: Order
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        kind, lang = delivery.kind, self._lang(order)
        if kind is DeliveryKind.RESEND:
            return notices.resend(lang, order, await self._delivered(order)), None
        if kind is DeliveryKind.FAILED_NOTICE:
            return notices.failed_notice(lang, order), keyboards.buy_again(lang, order)
        if kind is DeliveryKind.EXPIRED_NOTICE:
            return notices.expired_notice(lang, order), keyboards.buy_again(lang, order)
        plain = {
            DeliveryKind.SHIPPED_NOTICE: notices.shipped_notice,
            DeliveryKind.PROCESSING_NOTICE: notices.processing_notice,
            DeliveryKind.HELD_NOTICE: notices.held_notice,
            DeliveryKind.REFUND_NOTICE: notices.refund_notice,
        }
        if kind in plain:
            return plain[kind](lang, order), None
        if kind is DeliveryKind.TRACKING_NOTICE:
            return notices.tracking_notice(lang, order, delivery.detail), None
        admin = await stored_language(self._shop, delivery.chat_id)
        return admin_texts.problem_alert(admin, order, delivery.detail), None

    async def _current_order_message(self, order: Order) -> tuple[str, InlineKeyboardMarkup | None]:
        return order_message.render(self._lang(order), order, await self._delivered(order))

    async def _delivered(self, order: Order) -> notices.Delivered:
        """The order's products as they are now and its stock items, read at send time; the
        products' delivery texts in the order's language where the merchant translated them
        (one query for all its lines)."""
        reader = self._db.reader
        found = {
            line.product_id: await products.get(reader, line.product_id) for line in order.lines
        }
        present = [product for product in found.values() if product is not None]
        language = self._lang(order).code
        found.update((p.id, p) for p in await translations.localized(reader, present, language))
        return notices.Delivered(found, await stock.items_of(reader, order.id))

    async def _edit_order_message(self, order: Order) -> Outcome:
        """Bring the order's own message up to the order's state; a message the buyer deleted
        (or none at all) leaves nothing to edit, which is done too."""
        if order.message_id is None:
            return Outcome(Result.SENT)
        if order.message_is_invoice:
            return await self._withdraw_invoice(order, order.message_id)
        text, markup = await self._current_order_message(order)
        outcome = await edit_text(self._bot, order.buyer_chat_id, order.message_id, text, markup)
        return Outcome(Result.SENT) if outcome.result is Result.GONE else outcome

    async def _withdraw_invoice(self, order: Order, message_id: int) -> Outcome:
        """Delete an invoice that can no longer be paid, then let go of it, so nothing tries
        to edit it later; one Telegram will not delete (over 48 hours old) is left as it is:
        its pre-checkout query is refused. The buyer's notice, if owed, is a row of its own."""
        outcome = await delete_message(self._bot, order.buyer_chat_id, message_id)
        if outcome.result in (Result.SENT, Result.GONE):
            async with self._db.transaction() as tx:
                await order_messages.forget_message(tx, order.id, message_id)
            return Outcome(Result.SENT)
        return outcome

    async def _send_goods(self, order: Order) -> Outcome:
        receipt, _ = await self._current_order_message(order)
        outcome = Outcome(Result.GONE)  # no message to edit (a Stars order's first receipt)
        if order.message_id is not None and not order.message_is_invoice:
            outcome = await edit_text(self._bot, order.buyer_chat_id, order.message_id, receipt)
        if outcome.result is Result.GONE:
            outcome = await send_text(self._bot, order.buyer_chat_id, receipt)
            if outcome.result is Result.SENT:
                # From now on a retry edits this message instead of sending another copy.
                async with self._db.transaction() as tx:
                    await orders.update(tx, order.id, message_id=outcome.message_id)
        if outcome.result is not Result.SENT:
            return outcome
        notice = notices.after_payment_notice(self._lang(order), order)
        return await send_text(self._bot, order.buyer_chat_id, notice)

    async def _settle(self, delivery: Delivery, order: Order, outcome: Outcome) -> None:
        async with self._db.transaction() as tx:
            if outcome.result is Result.SENT:
                await deliveries.mark_sent(tx, delivery.id)
                if delivery.kind is DeliveryKind.GOODS:
                    current = await orders.get(tx, order.id)
                    if current is not None and current.status is OrderStatus.PAID:
                        await orders.transition(tx, current, OrderStatus.FULFILLED)
                return
            if outcome.result is Result.RETRY:
                wait = backoff_seconds(delivery.attempts, outcome.retry_after)
                log.warning(
                    "delivery %s (order %s) will retry in %ss: %s",
                    delivery.id,
                    order.id,
                    wait,
                    outcome.error,
                )
                await deliveries.reschedule(tx, delivery.id, at=now() + wait, error=outcome.error)
                return
            await deliveries.mark_failed(tx, delivery.id, error=outcome.error)
            log.warning(
                "delivery %s (order %s, %s) given up: %s",
                delivery.id,
                order.id,
                delivery.kind.value,
                outcome.error,
            )
            if delivery.kind in (DeliveryKind.GOODS, DeliveryKind.RESEND):
                reason = (
                    Said(N_("the buyer has blocked the bot"))
                    if outcome.result is Result.BLOCKED
                    else Said(
                        N_("Telegram refused the message ({error})"), {"error": outcome.error}
                    )
                )
                alert = Said(
                    N_(
                        "The purchase could not be delivered: {reason}. It is paid; the buyer "
                        "can get it with /orders → Send order again once they are back."
                    ),
                    {"reason": reason},
                )
                await outbox.owe_admins(
                    tx,
                    self._admin_ids,
                    order.id,
                    DeliveryKind.PROBLEM_ALERT,
                    outbox.Owed(outbox.Topic.UNDELIVERED, delivery.id),
                    alert.stored(),
                )
        self.wake()
