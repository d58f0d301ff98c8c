"""The crash tests' phases after the kills: the last life that lets everything settle, and the
lives "an hour later" in which reconciliation must release what the kills stranded; and the
products every storm sells."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

import aiohttp

from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from storage import products, stock
from storage.db import DatabaseTarget, open_database
from storage.models import ProductKind
from tests.crash_audit import (
    Audit,
    AuditDb,
    age_open_orders,
    expire_reconciliation_leases,
    open_orders,
    pending_work,
)
from tests.crash_chaos import HEALTH_TIMEOUT, Chaos, KillableShop
from tests.crash_shoppers import Ledger, ProductSpec, Shopper, sweep_open_sessions
from tests.crash_webhooks import WebhookStream

Task = asyncio.Task[None]


async def seed_products(target: DatabaseTarget) -> tuple[list[ProductSpec], dict[int, str]]:
    """A text product and two stock products (one plentiful, one scarce enough to sell out and
    be released again), written before the bot's first start."""
    db = await open_database(target)
    specs: list[ProductSpec] = []
    markers: dict[int, str] = {}
    try:
        async with db.transaction() as tx:
            text_id = await products.add(
                tx,
                title="Crash ebook",
                price_minor=700,
                currency="usd",
                delivery_text="GOODS-crash-ebook https://files.example/ebook.pdf",
            )
            specs.append(ProductSpec(text_id, "Crash ebook", stock=False))
            markers[text_id] = "GOODS-crash-ebook"
            for title, count in (("Crash keys", 400), ("Rare keys", 14)):
                product_id = await products.add(
                    tx,
                    title=title,
                    price_minor=500,
                    currency="usd",
                    kind=ProductKind.DIGITAL_STOCK,
                    delivery_text="Redeem it in the app.",
                )
                keys = [f"CRASHKEY-{product_id}-{n:03d}" for n in range(count)]
                await stock.add_items(tx, product_id, keys)
                specs.append(ProductSpec(product_id, title, stock=True))
                markers[product_id] = "stock"
    finally:
        await db.close()
    return specs, markers


async def settle(
    db: AuditDb,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    timeout: float,  # noqa: ASYNC109
) -> None:
    """Wait until the outbox is empty, every recorded update handled, and the bot has called
    neither Telegram (long polls aside) nor Stripe for two seconds."""
    deadline = time.monotonic() + timeout
    last, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        calls = sum(1 for c in telegram.calls if c.method != "getUpdates")
        calls += len(stripe_api.requests)
        pending = await asyncio.to_thread(pending_work, db)
        if calls != last or pending:
            last, quiet_since = calls, time.monotonic()
        elif time.monotonic() - quiet_since > 2.0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the bot never settled: deliveries or updates still pending")


@dataclass
class Outcome:
    """What a storm left: the audit at the end, the one before reconciliation (orders the
    kills stranded), how many open orders were aged, and when each phase ended."""

    audit: Audit
    stranded: Audit
    aged: int
    phases: dict[str, float]


@dataclass
class Storm:
    """Everything one storm's phases share: the stand-ins, the killable shop (one instance or
    several on one database), Stripe's webhook stream (and Telegram's in webhook mode), the
    buyers and what they saw."""

    telegram: FakeTelegram
    stripe_api: FakeStripe
    db: AuditDb
    bots: list[KillableShop]
    stream: WebhookStream
    buyers: list[int]
    updates: WebhookStream | None = None  # Telegram's webhook; None: the bot polls
    ledger: Ledger = field(default_factory=Ledger)
    tasks: set[Task] = field(default_factory=set)
    swept: int = 0
    exit_codes: list[int] = field(default_factory=list)

    async def run(
        self, chaos: Chaos, specs: list[ProductSpec], markers: dict[int, str], seed: int
    ) -> Outcome:
        """The whole storm: the senders and the buyers start, the chaos kills, the last life
        settles everything, the reconciling lives release what the kills stranded; then the
        audit (every instance stopped)."""
        began = time.monotonic()
        phases: dict[str, float] = {}
        stop_buying, stop_sending = asyncio.Event(), asyncio.Event()
        timeout = aiohttp.ClientTimeout(total=15)
        try:
            async with aiohttp.ClientSession(
                timeout=timeout, connector=aiohttp.TCPConnector(limit=64)
            ) as http:
                senders = [s for s in (self.stream, self.updates) if s is not None]
                sending = [asyncio.create_task(s.run(http, stop_sending, 4)) for s in senders]
                await chaos.prepare(http)
                phases["start"] = time.monotonic() - began
                buying = [
                    asyncio.create_task(s.run(stop_buying)) for s in shoppers(self, specs, seed)
                ]
                await chaos.run(http)
                phases["storm"] = time.monotonic() - began - phases["start"]
                await self.last_life(http, stop_buying, buying)
                phases["last life"] = time.monotonic() - began - sum(phases.values())
                stranded = await asyncio.to_thread(Audit.read, self.db, markers)
                aged = await self.reconciling_lives(http)
                phases["reconciling lives"] = time.monotonic() - began - sum(phases.values())
                stop_sending.set()
                await asyncio.gather(*sending)
        finally:
            for bot in self.bots:
                await bot.abandon()
            for task in self.tasks:
                task.cancel()
        audit = await asyncio.to_thread(Audit.read, self.db, markers)
        phases["whole"] = time.monotonic() - began
        return Outcome(audit, stranded, aged, phases)

    async def settle(self) -> None:
        if self.updates is not None:
            await self.updates.drain(120)
        await settle(self.db, self.telegram, self.stripe_api, 180)

    async def start_all(self, http: aiohttp.ClientSession) -> None:
        """Every instance not running is started, and all answer /healthz."""
        for bot in self.bots:
            if not bot.running:
                await bot.start()
        for bot in self.bots:
            assert await bot.wait_healthy(http, HEALTH_TIMEOUT), f"see {bot.log_path}"

    async def stop_all(self) -> None:
        """SIGTERM to every instance, their exit statuses kept (a clean stop is 0)."""
        for bot in self.bots:
            self.exit_codes.append(await bot.terminate(30))

    async def last_life(
        self, http: aiohttp.ClientSession, stop_buying: asyncio.Event, buying: list[Task]
    ) -> None:
        """The buyers stop, every session still open expires as time would make it (again, if
        a late tap opened another one), every event gets its 2xx, and the outbox empties."""
        await self.start_all(http)
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
        await self.stop_all()

    async def reconciling_lives(self, http: aiohttp.ClientSession) -> int:
        """An hour later: orders a kill stranded before Stripe had a session for them hold
        stock; the reconciliation job (first run shortly after start, once across the
        instances) must let it go. And a restart after all that must not deliver anything
        again. Returns how many open orders were aged."""
        aged = await asyncio.to_thread(age_open_orders, self.db)
        for _ in range(3):  # each start reconciles once soon; a backlog takes more
            await asyncio.to_thread(expire_reconciliation_leases, self.db)
            await self.start_all(http)
            deadline = time.monotonic() + 60
            while await asyncio.to_thread(open_orders, self.db):
                if time.monotonic() > deadline:
                    break
                self.swept += sweep_open_sessions(self.stripe_api, self.stream, self.ledger)
                await asyncio.sleep(0.2)
            await self.stream.drain(120)
            await self.settle()
            await self.stop_all()
            if not await asyncio.to_thread(open_orders, self.db):
                break
        return aged


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
            storm.updates,
        )
        for n, buyer in enumerate(storm.buyers)
    ]
