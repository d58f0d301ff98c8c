"""Telegram's updates in webhook mode: recorded, then handled in order per chat by one instance.

Behind a load balancer any instance may receive `POST /telegram/webhook`. It records the update
(storage/telegram_updates.py) before answering 200 — when the database refuses, the answer is
503 and Telegram sends the update again — and the update is handled from the table. Chats are
split into PARTS partitions, each a lease (shop/leases.py): the instance holding a partition
handles its chats' updates, each chat's one after another and in Telegram's order, while
different chats run side by side. A chat stays with one instance while that instance lives, so
python-telegram-bot's conversation state (a dialog half-way through) stays where the chat is.
Every instance keeps a heartbeat lease; each takes its fair share of the partitions
(PARTS ÷ live instances, rounded up) and lets go of any beyond it, so a new instance gets work
within a few seconds and a dead one's partitions are taken over when their leases expire.
On SQLite the one process holds every partition.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from typing import Any

from telegram import Bot, Update

from bot.context import ShopApplication
from shop import leases
from shop.context import Shop
from storage import telegram_updates

log = logging.getLogger(__name__)

PARTS = 16
PART_LEASE = "telegram.chats."
HEARTBEAT = "instance."
LEASE_SECONDS = 10.0
REBALANCE_SECONDS = 2.0
BATCH = 100
# Handled updates are forgotten a day later, by one instance an hour.
FORGET_LEASE = "telegram.forget"
FORGET_EVERY_SECONDS = 3600.0


_INT64 = range(-(2**63), 2**63)


def read_update(data: dict[str, Any], bot: Bot) -> Update:
    """The update python-telegram-bot reads from `data`; ValueError for anything it cannot
    read or that carries an id Telegram never sends (a 400, never a 500 Telegram would
    repeat)."""
    try:
        update = Update.de_json(data, bot)
    except Exception as error:  # any shape PTB cannot read is not an update we can serve
        raise ValueError("not a Telegram update") from error
    if not isinstance(update.update_id, int) or update.update_id not in _INT64:
        raise ValueError("an update id Telegram never sends")
    for named in (update.effective_chat, update.effective_user):
        if named is not None and not (isinstance(named.id, int) and named.id in _INT64):
            raise ValueError("a chat or user id Telegram never sends")
    return update


def chat_of(update: Update) -> int:
    """The chat an update is about (its user's private chat when it names no chat); 0 when
    it names neither, or names it with something that is not a 64-bit integer (python-telegram-
    bot reads what it is given; the handlers then refuse it)."""
    chat = update.effective_chat or update.effective_user
    found = getattr(chat, "id", 0)
    return found if isinstance(found, int) and found in _INT64 else 0


class UpdateInbox:
    """Records webhook updates and handles those of the partitions this instance holds."""

    def __init__(self, application: ShopApplication, shop: Shop) -> None:
        self._application = application
        self._shop = shop
        self._held: set[int] = set()
        self._free_last_round: set[int] = set()
        self._busy: dict[int, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def record(self, data: dict[str, Any]) -> None:
        """Keep the update for handling (ValueError: it is not one). Raises what the database
        raises, so the webhook answers 503 and Telegram sends it again."""
        update = read_update(data, self._application.bot)
        chat = chat_of(update)
        async with self._shop.db.transaction(serial=False) as tx:  # one insert stands alone
            await telegram_updates.record(
                tx, update.update_id, chat, chat % PARTS, json.dumps(data, ensure_ascii=False)
            )
        self._wake.set()

    async def start(self) -> None:
        await self._rebalance()
        self._tasks = [
            asyncio.create_task(self._keep_balanced(), name="update-inbox-leases"),
            asyncio.create_task(self._dispatch_loop(), name="update-inbox"),
            asyncio.create_task(
                self._shop.db.listen(telegram_updates.WAKE_CHANNEL, self._wake.set),
                name="update-inbox-wake",
            ),
        ]

    async def stop(self) -> None:
        """Stop taking updates, let the chats being handled finish, give the partitions up."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*self._busy.values(), return_exceptions=True)
        # The leases go with the app's own at its stop (shop.leases.release_all).

    async def _keep_balanced(self) -> None:
        while True:
            await asyncio.sleep(REBALANCE_SECONDS)
            try:
                await self._rebalance()
            except Exception:  # the next round tries again; the leases last several rounds
                log.exception("update inbox: taking partitions failed")

    async def _rebalance(self) -> None:
        """Renew what this instance holds, let go of partitions beyond its fair share, and take
        free ones up to it — or any left free for a whole round whatever the share, so that no
        chat waits on an instance that is not coming.

        Live instances are those whose heartbeat was renewed within the last two rounds: a
        killed process's heartbeat lingers until it expires, and counting it would have the
        survivors shed partitions for nobody."""
        shop = self._shop
        await leases.take(shop, HEARTBEAT + shop.instance, LEASE_SECONDS)
        held = await leases.renew_mine(shop, PART_LEASE, LEASE_SECONDS)
        self._held = {int(name.removeprefix(PART_LEASE)) for name in held}
        fresh = LEASE_SECONDS - 2 * REBALANCE_SECONDS
        fair = math.ceil(PARTS / max(await leases.count_fresh(shop, HEARTBEAT, fresh), 1))
        released = set(sorted(self._held, reverse=True)[: max(len(self._held) - fair, 0)])
        for part in released:
            self._held.discard(part)
            await leases.release(shop, f"{PART_LEASE}{part}")
        taken = await leases.held_names(shop, PART_LEASE)
        free = {p for p in range(PARTS) if f"{PART_LEASE}{p}" not in taken} - released
        for part in sorted(free):
            if len(self._held) >= fair and part not in self._free_last_round:
                continue
            if await leases.take(shop, f"{PART_LEASE}{part}", LEASE_SECONDS):
                self._held.add(part)
                self._wake.set()
        self._free_last_round = free - self._held
        if await leases.take(shop, FORGET_LEASE, FORGET_EVERY_SECONDS):
            async with shop.db.transaction(serial=False) as tx:
                await telegram_updates.forget_handled(tx)

    async def _dispatch_loop(self) -> None:
        while True:
            self._wake.clear()
            more = False
            try:
                more = await self._dispatch()
            except Exception:
                log.exception("update inbox: reading waiting updates failed")
            if more:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), REBALANCE_SECONDS)

    async def _dispatch(self) -> bool:
        """Start a chat's handling for each chat with updates waiting in a held partition, up
        to BATCH new ones at a time; whether there may be more waiting right now.

        The chats being handled here are asked for on top of the BATCH: their updates are the
        oldest waiting (a Buy tap stays unhandled while it waits for Stripe's queue), so a
        window of BATCH alone filled up with them in a flash sale, and new chats' taps were
        not even started until older ones finished — past the 15 s Telegram takes a tap's
        answer for (`make bench` scenario 8)."""
        chats = await telegram_updates.waiting_chats(
            self._shop.db.reader, sorted(self._held), limit=len(self._busy) + BATCH
        )
        started = 0
        for chat in chats:
            if chat not in self._busy:
                self._busy[chat] = asyncio.create_task(self._serve(chat), name=f"chat-{chat}")
                started += 1
        return started == BATCH

    async def _serve(self, chat: int) -> None:
        """Handle the chat's waiting updates one after another, while its partition is ours.

        When it ends, the dispatcher looks again: an update of this chat recorded after the
        last read here was passed over as busy, and would otherwise wait for the next round."""
        try:
            while chat % PARTS in self._held:
                batch = await telegram_updates.waiting_for_chat(
                    self._shop.db.reader, chat, chat % PARTS, limit=20
                )
                if not batch:
                    return
                for waiting in batch:
                    if chat % PARTS not in self._held:
                        return
                    await self._handle(waiting)
        except Exception:
            log.exception("update inbox: a chat's updates could not be handled; retrying")
        finally:
            self._busy.pop(chat, None)
            self._wake.set()

    async def _handle(self, waiting: telegram_updates.WaitingUpdate) -> None:
        """Handle one update and mark it handled. Handler errors go to the error handler; an
        update python-telegram-bot itself cannot process would fail the same way on every try,
        so it is logged and marked handled rather than retried forever."""
        try:
            update = Update.de_json(json.loads(waiting.body), self._application.bot)
            await self._application.process_update(update)
        except Exception:
            log.exception("update inbox: update %s cannot be handled; dropped", waiting.update_id)
        async with self._shop.db.transaction(serial=False) as tx:
            await telegram_updates.mark_handled(tx, waiting.update_id)
