"""The shop's dependencies, built once at start and handed to handlers and use-cases."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import InitVar, dataclass, field
from typing import TYPE_CHECKING

from telegram import Bot

from shop import outbox
from shop.gateways.recent_calls import RecentCalls
from shop.gateways.stripe_gateway import CheckoutSettings, StripeGateway
from shop.i18n import Languages
from shop.limits import Limits, Window
from storage.db import Database
from storage.sql import Connection

if TYPE_CHECKING:  # the settings are read, never built, here: config is the wiring's job
    from bot.config import Settings


class KeyedLocks:
    """One asyncio lock per key (a buyer), dropped again when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    @asynccontextmanager
    async def hold(self, key: int) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                del self._locks[key]


BUY_TAPS_PER_MINUTE = 10
# Buy taps per buyer, counted by every instance together (a double tap, a bot tapping).
BUY_TAPS = Window("buy_taps", BUY_TAPS_PER_MINUTE, 60)
SESSION_LOOKUP_SECONDS = 5.0
# Stripe look-ups the buyer's pages make (/success, /cancel): one per session per window across
# every instance; the callers on one instance meanwhile share that instance's call.
SESSION_LOOKUPS = Window("stripe_lookups", 1, SESSION_LOOKUP_SECONDS)


def instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass
class Shop:
    settings: Settings
    db: Database
    stripe: StripeGateway
    bot: Bot
    wake_outbox: Callable[[], None]
    # This process among the instances sharing the database: the holder of its claims and
    # leases (host, pid and a random part, so a restarted process is a new holder).
    instance: str = field(default_factory=instance_name)
    # One checkout at a time per buyer on this instance. Not in the database: a chat's updates
    # are handled by one instance at a time, and a second tap reaching another instance while
    # the first's link is being made is told to wait for it (checkout.purchase_in_flight).
    buyer_locks: KeyedLocks = field(default_factory=KeyedLocks)
    # The limits per buyer and per chat: in the database when several instances share it
    # (shop/limits.py says why not on SQLite).
    limits: Limits = field(init=False)
    session_lookups: RecentCalls = field(init=False)
    # The offered languages: loaded from the settings unless the caller has them already.
    loaded_languages: InitVar[Languages | None] = None
    languages: Languages = field(init=False)

    def __post_init__(self, loaded_languages: Languages | None) -> None:
        self.limits = Limits.for_database(self.db)
        self.session_lookups = RecentCalls(
            SESSION_LOOKUP_SECONDS, lambda key: self.limits.allow(SESSION_LOOKUPS, key)
        )
        self.languages = loaded_languages or Languages.load(
            self.settings.languages, self.settings.default_language, self.settings.catalog_dir
        )

    def transaction(self, *, durable: bool = False) -> AbstractAsyncContextManager[Connection]:
        """A write transaction that wakes the delivery worker after a commit that owed
        messages (shop/outbox.py): the use-cases never wake it by hand."""
        return outbox.transaction(self.db, self.wake_outbox, durable=durable)

    @property
    def checkout_settings(self) -> CheckoutSettings:
        return CheckoutSettings(
            public_base_url=self.settings.public_base_url,
            allow_promotion_codes=self.settings.allow_promotion_codes,
            shipping_countries=self.settings.shipping_countries,
            cancel_key=self.settings.stripe_webhook_secret.encode(),
        )
