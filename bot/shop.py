"""The shop's dependencies, built once at start and handed to handlers and use-cases."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from telegram import Bot
from telegram.ext import ContextTypes

from bot.config import Settings
from bot.recent_calls import RecentCalls
from bot.stripe_gateway import CheckoutSettings, StripeGateway
from storage.db import Database


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
    """At most `limit` events per key in any `seconds`-long window (Buy taps per buyer)."""

    def __init__(self, limit: int, seconds: float) -> None:
        self._limit, self._seconds = limit, seconds
        self._events: dict[int, deque[float]] = {}

    def allow(self, key: int) -> bool:
        moment = time.monotonic()
        events = self._events.setdefault(key, deque())
        while events and events[0] <= moment - self._seconds:
            events.popleft()
        if len(events) >= self._limit:
            return False
        events.append(moment)
        if len(self._events) > 10_000:  # forget idle buyers now and then
            for idle in [k for k, v in self._events.items() if not v or v[-1] < moment - 60]:
                del self._events[idle]
        return True


BUY_TAPS_PER_MINUTE = 10
SESSION_LOOKUP_SECONDS = 5.0


@dataclass
class Shop:
    settings: Settings
    db: Database
    stripe: StripeGateway
    bot: Bot
    wake_outbox: Callable[[], None]
    buyer_locks: KeyedLocks = field(default_factory=KeyedLocks)
    buy_taps: RateWindow = field(default_factory=lambda: RateWindow(BUY_TAPS_PER_MINUTE, 60))
    # Stripe look-ups the buyer's pages make (/success, /cancel), one per session per window.
    session_lookups: RecentCalls[None] = field(
        default_factory=lambda: RecentCalls(SESSION_LOOKUP_SECONDS)
    )

    @property
    def checkout_settings(self) -> CheckoutSettings:
        return CheckoutSettings(
            public_base_url=self.settings.public_base_url,
            allow_promotion_codes=self.settings.allow_promotion_codes,
            shipping_countries=self.settings.shipping_countries,
            cancel_key=self.settings.stripe_webhook_secret.encode(),
        )


def shop_of(context: ContextTypes.DEFAULT_TYPE) -> Shop:
    shop = context.bot_data["shop"]
    assert isinstance(shop, Shop)
    return shop
