"""Sale alerts to an admin: a short burst, then one message per chat every few seconds, each
carrying every sale that came in meanwhile.

Telegram asks bots to stay under about one message a second in any one chat and answers 429 to
those that don't, which pauses every other message the bot sends. A flash sale pays orders many
times faster than that, so one alert per sale would flood the admin's chat and slow every
buyer's delivery. A quiet shop still gets each sale at once, on its own, with the full alert.

Each alert is in its admin's language: the one they chose with /language, else the one their
Telegram app last reported (bot/language.py remembers it for admins), read when it is sent.
"""

from __future__ import annotations

import logging
import math

from bot.admin import texts
from bot.language import stored_language
from shop.context import Shop
from shop.gateways.telegram_sender import Outcome, Result, backoff_seconds, send_text
from shop.limits import Pace
from storage import deliveries, orders
from storage.clock import now
from storage.models import Delivery, DeliveryKind

log = logging.getLogger(__name__)

ALERT_BURST = 3  # messages a chat may get at once after a quiet spell
ALERT_GAP_SECONDS = 5.0  # then one message per this many seconds
MAX_PER_DIGEST = 500  # beyond the lines that fit, the digest counts the rest
CLAIM_SECONDS = 30  # as the delivery worker's claims (bot/delivery.py)
# Kept across every instance (shop/limits.py): each may send an admin's alerts, and together
# they must keep the chat's pace.
ALERT_PACE = Pace("sale_alerts", ALERT_BURST, ALERT_GAP_SECONDS)


class SaleAlerts:
    """Sends the sale alerts due for one admin chat, paced per chat (a token bucket)."""

    def __init__(self, shop: Shop) -> None:
        self._shop = shop
        self._db = shop.db

    async def send_due(self, chat_id: int) -> None:
        async with self._db.transaction(serial=False) as tx:  # a claim stands alone
            due = await deliveries.claim_due_for_chat(
                tx, self._shop.instance, chat_id, DeliveryKind.SALE_ALERT,
                limit=MAX_PER_DIGEST, claim_seconds=CLAIM_SECONDS,
            )  # fmt: skip
        if not due:
            return
        wait = await self._shop.limits.wait(ALERT_PACE, chat_id)
        if wait > 0:
            async with self._db.transaction() as tx:
                await deliveries.postpone(tx, [d.id for d in due], at=now() + math.ceil(wait))
            return
        try:
            outcome = await self._send(chat_id, due)
        except Exception as error:
            log.exception("sale alert to %s failed unexpectedly", chat_id)
            outcome = Outcome(Result.RETRY, error=f"{type(error).__name__}: {error}")
        await self._settle(due, outcome)

    async def _send(self, chat_id: int, due: list[Delivery]) -> Outcome:
        sold = await orders.get_many(self._db.reader, [d.order_id for d in due])
        lang = await stored_language(self._shop, chat_id)  # an admin's chat is the admin's id
        text = texts.sale_alert(lang, sold[0]) if len(sold) == 1 else texts.sale_digest(lang, sold)
        return await send_text(self._shop.bot, chat_id, text)

    async def _settle(self, due: list[Delivery], outcome: Outcome) -> None:
        ids = [d.id for d in due]
        async with self._db.transaction() as tx:
            if outcome.result is Result.SENT:
                await deliveries.mark_sent(tx, *ids)
            elif outcome.result is Result.RETRY:
                wait = backoff_seconds(max(d.attempts for d in due), outcome.retry_after)
                await deliveries.reschedule(tx, *ids, at=now() + wait, error=outcome.error)
            else:
                await deliveries.mark_failed(tx, *ids, error=outcome.error)
        if outcome.result is not Result.SENT:
            log.warning(
                "%s sale alert(s) to an admin not sent (%s): %s",
                len(due),
                outcome.result.value,
                outcome.error,
            )
