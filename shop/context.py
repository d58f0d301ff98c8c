"""The shop's dependencies, built once at start and handed to handlers and use-cases."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import InitVar, dataclass, field
from typing import TYPE_CHECKING

from telegram import Bot

from shop import outbox
from shop.gateways.recent_calls import RecentCalls
from shop.gateways.stripe_gateway import CheckoutSettings, StripeGateway
from shop.i18n import Languages
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


class RateWindow:
    """At most `limit` events per key in any `seconds`-long window (Buy taps per buyer).

    O(1) per event, however many keys are active: each key keeps at most `limit` times, and the
    keys sit in the order they were last seen, so the idle ones are forgotten from the front of
    that order as time passes instead of by scanning every key (which made a flash sale of
    20,000 buyers cost seconds of event-loop CPU)."""

    def __init__(
        self, limit: int, seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limit, self._seconds, self._clock = limit, seconds, clock
        self._events: OrderedDict[int, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        """Keys remembered: those seen within the last `seconds`, and no others."""
        return len(self._events)

    def allow(self, key: int) -> bool:
        moment = self._clock()
        horizon = moment - self._seconds
        self._forget_idle(horizon)
        events = self._events.get(key)
        if events is None:
            events = self._events[key] = deque()
        else:
            self._events.move_to_end(key)
        while events and events[0] <= horizon:
            events.popleft()
        if len(events) >= self._limit:
            return False
        events.append(moment)
        return True

    def _forget_idle(self, horizon: float) -> None:
        """Drop keys, oldest-seen first, whose every event has left the window."""
        while self._events:
            key, events = next(iter(self._events.items()))
            if events and events[-1] > horizon:
                return
            del self._events[key]


BUY_TAPS_PER_MINUTE = 10
SESSION_LOOKUP_SECONDS = 5.0


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
    buyer_locks: KeyedLocks = field(default_factory=KeyedLocks)
    buy_taps: RateWindow = field(default_factory=lambda: RateWindow(BUY_TAPS_PER_MINUTE, 60))
    # Stripe look-ups the buyer's pages make (/success, /cancel), one per session per window.
    session_lookups: RecentCalls[None] = field(
        default_factory=lambda: RecentCalls(SESSION_LOOKUP_SECONDS)
    )
    # The offered languages: loaded from the settings unless the caller has them already.
    loaded_languages: InitVar[Languages | None] = None
    languages: Languages = field(init=False)

    def __post_init__(self, loaded_languages: Languages | None) -> None:
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
