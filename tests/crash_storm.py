"""The crash test's phases after the kills: the last life that lets everything settle, and the
lives "an hour later" in which reconciliation must release what the kills stranded."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from tests.crash_audit import open_orders, pending_deliveries
from tests.crash_chaos import HEALTH_TIMEOUT, KillableShop
from tests.crash_shoppers import Ledger, ProductSpec, Shopper, sweep_open_sessions
from tests.crash_stripe import StripeStream

Task = asyncio.Task[None]


async def settle(
    db_path: Path,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    timeout: float,  # noqa: ASYNC109
) -> None:
    """Wait until the outbox is empty and the bot has called neither Telegram (long polls
    aside) nor Stripe for two seconds."""
    deadline = time.monotonic() + timeout
    last, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        calls = sum(1 for c in telegram.calls if c.method != "getUpdates")
        calls += len(stripe_api.requests)
        pending = await asyncio.to_thread(pending_deliveries, db_path)
        if calls != last or pending:
            last, quiet_since = calls, time.monotonic()
        elif time.monotonic() - quiet_since > 2.0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the bot never settled: deliveries still pending")


@dataclass
class Storm:
    """Everything one storm's phases share: the stand-ins, the killable shop, Stripe's webhook
    stream, the buyers and what they saw."""

    telegram: FakeTelegram
    stripe_api: FakeStripe
    db_path: Path
    bot: KillableShop
    stream: StripeStream
    buyers: list[int]
    ledger: Ledger = field(default_factory=Ledger)
    tasks: set[Task] = field(default_factory=set)
    swept: int = 0
    exit_codes: list[int] = field(default_factory=list)
    seconds: float = 0.0  # how long the kills went on

    async def settle(self) -> None:
        await settle(self.db_path, self.telegram, self.stripe_api, 180)

    async def last_life(
        self, http: aiohttp.ClientSession, stop_buying: asyncio.Event, buying: list[Task]
    ) -> None:
        """The buyers stop, every session still open expires as time would make it (again, if
        a late tap opened another one), every event gets its 2xx, and the outbox empties."""
        await self.bot.start()
        assert await self.bot.wait_healthy(http, HEALTH_TIMEOUT), f"see {self.bot.log_path}"
        stop_buying.set()
        await asyncio.wait_for(asyncio.gather(*buying), 90)
        while self.tasks:
            await asyncio.wait_for(asyncio.gather(*list(self.tasks)), 60)
        for _ in range(20):
            await self.settle()
            opened = sweep_open_sessions(self.stripe_api, self.stream, self.ledger)
            if not opened:
                break
            self.swept += opened
            await self.stream.drain(120)
        self.exit_codes.append(await self.bot.terminate(30))

    async def reconciling_lives(self, http: aiohttp.ClientSession) -> None:
        """An hour later: orders a kill stranded before Stripe had a session for them hold
        stock; the reconciliation job (first run shortly after start) must let it go. And a
        restart after all that must not deliver anything again."""
        for _ in range(3):  # each start reconciles once soon; a backlog takes more
            await self.bot.start()
            assert await self.bot.wait_healthy(http, HEALTH_TIMEOUT), f"see {self.bot.log_path}"
            deadline = time.monotonic() + 60
            while await asyncio.to_thread(open_orders, self.db_path):
                if time.monotonic() > deadline:
                    break
                self.swept += sweep_open_sessions(self.stripe_api, self.stream, self.ledger)
                await asyncio.sleep(0.2)
            await self.stream.drain(120)
            await self.settle()
            self.exit_codes.append(await self.bot.terminate(30))
            if not await asyncio.to_thread(open_orders, self.db_path):
                break


def shoppers(storm: Storm, specs: list[ProductSpec], seed: int) -> list[Shopper]:
    """One seeded shopper per buyer."""
    return [
        Shopper(
            buyer,
            random.Random(seed + 100 + n),
            storm.telegram,
            storm.stripe_api,
            storm.stream,
            storm.ledger,
            specs,
            storm.tasks,
        )
        for n, buyer in enumerate(storm.buyers)
    ]
