"""Telegram's getUpdates from one instance at a time.

Telegram answers a second long poll on the same token with `Conflict`, and two instances
polling at once would each see the other's updates vanish. So polling is a lease
(shop/leases.py): the instance holding it polls and renews it every few seconds; the others
check as often and take over within one lease when the holder stops or dies. On SQLite there is
one process, which always holds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from telegram import Update
from telegram.ext import Application, Updater

from shop import leases
from shop.context import Shop

log = logging.getLogger(__name__)

LEASE = "telegram.polling"
LEASE_SECONDS = 30.0
RENEW_SECONDS = 5.0


class PollingLease:
    """Polls while this instance holds the lease; stops when it loses it."""

    def __init__(self, application: Application, shop: Shop) -> None:  # type: ignore[type-arg]
        updater = application.updater
        assert updater is not None, "polling mode builds an updater"
        self._updater: Updater = updater
        self._shop = shop
        self._held_since_renewal = 0.0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Poll at once if the lease is free, and keep checking in the background."""
        await self._step()
        self._task = asyncio.create_task(self._keep(), name="polling-lease")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            # gather, not a suppressed CancelledError: the stop's own deadline must get through
            await asyncio.gather(self._task, return_exceptions=True)
        if self._updater.running:
            await self._updater.stop()
        with contextlib.suppress(*self._shop.db.dialect.errors):
            await leases.release(self._shop, LEASE)

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            try:
                await self._step()
            except Exception:  # the next check tries again; polling must not die with it
                log.exception("polling lease: check failed")

    async def _step(self) -> None:
        held = await self._holds()
        if held and not self._updater.running:
            await self._updater.start_polling(allowed_updates=Update.ALL_TYPES)
            log.info("polling Telegram (this instance holds the polling lease)")
        elif not held and self._updater.running:
            await self._updater.stop()
            log.warning("stopped polling: another instance holds the polling lease now")

    async def _holds(self) -> bool:
        """Whether this instance may poll: it took or renewed the lease, or the database did
        not answer but the last renewal still runs (a blip must not stop the shop's chat)."""
        try:
            taken = await leases.take(self._shop, LEASE, LEASE_SECONDS)
        except self._shop.db.dialect.errors as error:
            still = time.monotonic() - self._held_since_renewal < LEASE_SECONDS - RENEW_SECONDS
            log.warning("polling lease: the database did not answer (%s)", error)
            return self._updater.running and still
        if taken:
            self._held_since_renewal = time.monotonic()
        return taken
