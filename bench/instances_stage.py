"""Scenario 8's stage: N `python -m bot` processes on one PostgreSQL database, the two
stand-ins in the bench's process, and the bench as the load balancer in front of the instances.

Why real processes: production runs each instance as a process of its own (`Procfile`,
`docker run` per instance), so what the budgets, the update inbox and the outbox claims cost
and keep is measured where they run — each instance with its own event loop, pool and
LISTEN connection, coordinating through the database alone — and the CPU each one spends can
be read from /proc (`ChildProcess.cpu_seconds`).

Why the bench is the balancer: Telegram (webhook mode) and Stripe both deliver to one URL,
behind which a proxy picks an instance. Round robin spreads every update and event evenly, so
each instance records and answers its share whichever instance then handles the chat; a non-2xx
answer is retried on the next instance, as Telegram and Stripe retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psycopg

from bench.flash import CART, seed_sale
from bench.flash_common import STRIPE_CREATES_PER_SECOND, TELEGRAM_PER_CHAT
from bench.harness import ADMIN_ID, BOT_TOKEN, PUBLIC_BASE_URL, Process, TimedStripe, TimedTelegram
from storage.db import PostgresServer, open_database
from testkit import process
from testkit.postgres import PostgresCluster

TELEGRAM_LIMIT = 30
STRIPE_LIMIT = STRIPE_CREATES_PER_SECOND
SECRET = "bench_Secret-0123456789"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
GOODS_MARKER = CART[0][2]  # the drop's goods: in the receipt, and only there
RETRY_SECONDS = 0.2
HANDS = 100  # Stripe's and Telegram's connections to the balancer at once


@dataclass
class Balancer:
    """Round robin over the instances, each request retried on the next one until a 2xx."""

    bases: Sequence[str]
    http: aiohttp.ClientSession
    refused: Counter[str] = field(default_factory=Counter)
    posted: int = 0
    _turn: itertools.count[int] = field(default_factory=itertools.count)
    _hands: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(HANDS))

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> None:
        """Until an instance answers 2xx; every other answer is counted by status."""
        async with self._hands:
            while True:
                base = self.bases[next(self._turn) % len(self.bases)]
                self.posted += 1
                try:
                    async with self.http.post(base + path, data=body, headers=headers) as answer:
                        await answer.read()
                        if 200 <= answer.status < 300:
                            return
                        self.refused[str(answer.status)] += 1
                except (aiohttp.ClientError, OSError, TimeoutError) as error:
                    self.refused[type(error).__name__] += 1
                await asyncio.sleep(RETRY_SECONDS)

    async def telegram(self, update: dict[str, Any]) -> None:
        """An update as Telegram's webhook delivers it: JSON with the secret token."""
        headers = {"Content-Type": "application/json", SECRET_HEADER: SECRET}
        await self.post("/telegram/webhook", json.dumps(update).encode(), headers)

    async def stripe(self, body: bytes, stripe_api: TimedStripe) -> None:
        """An event as Stripe delivers it: the raw body with its signature (valid 300 s)."""
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": stripe_api.sign(body),
        }
        await self.post("/stripe/webhook", body, headers)


@dataclass
class Stage:
    """One size N: the database, the stand-ins, the instances and the balancer."""

    size: int
    url: str
    telegram: TimedTelegram
    stripe_api: TimedStripe
    shops: list[Process]
    balancer: Balancer

    def cpu_seconds(self) -> float:
        """User + system CPU of every instance so far."""
        return sum(shop.cpu_seconds() for shop in self.shops)

    async def counts(self) -> dict[str, int]:
        """What the database says is done and owed."""
        queries = {
            "fulfilled": "SELECT COUNT(*) FROM orders WHERE status = 'fulfilled'",
            "deliveries pending": "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'",
            "updates waiting": "SELECT COUNT(*) FROM telegram_updates WHERE handled_at IS NULL",
            "events waiting": "SELECT COUNT(*) FROM stripe_inbox WHERE applied_at IS NULL",
            "retried deliveries": "SELECT COUNT(*) FROM deliveries WHERE attempts > 1",
        }
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            found = {}
            for name, sql in queries.items():
                row = await (await conn.execute(sql)).fetchone()
                found[name] = int(row[0]) if row else 0
        return found

    async def sessions(self) -> list[str]:
        """The Checkout Sessions waiting to be paid, one per buyer with a link."""
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            cursor = await conn.execute(
                "SELECT checkout_session_id FROM orders WHERE status = 'awaiting_payment'"
                " AND checkout_session_id IS NOT NULL ORDER BY id"
            )
            return [str(row[0]) for row in await cursor.fetchall()]

    async def partitions(self) -> list[int]:
        """How many chat partitions each live instance holds (update inbox leases)."""
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            cursor = await conn.execute(
                "SELECT holder, COUNT(*) FROM leases WHERE name LIKE 'telegram.chats.%'"
                " GROUP BY holder ORDER BY holder"
            )
            return sorted((int(row[1]) for row in await cursor.fetchall()), reverse=True)


async def _seed(url: str, buyers: Sequence[int]) -> None:
    """The flash sale's products and carts (bench/flash.py), written (and the schema migrated)
    before any instance starts, as a shop that already has them."""
    db = await open_database(PostgresServer(url))
    try:
        await seed_sale(db, buyers)
    finally:
        await db.close()


async def _start_shops(
    telegram: TimedTelegram, stripe_api: TimedStripe, url: str, size: int, workdir: Path
) -> tuple[list[Process], list[str]]:
    """N instances in webhook mode, one after another (each answering /healthz before the
    next starts, as a rolling start would); their processes and base URLs."""
    shops: list[Process] = []
    bases: list[str] = []
    for n in range(size):
        shop, port = process.shop_process(
            telegram, stripe_api, url, workdir, f"shop-{size}x-{n}", admin_id=ADMIN_ID,
            public_base_url=PUBLIC_BASE_URL,
            extra={"TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": SECRET},
        )  # fmt: skip
        shops.append(shop)
        await shop.start()
        base = f"http://127.0.0.1:{port}"
        await shop.wait_http(f"{base}/healthz")
        bases.append(base)
    return shops, bases


def _dump(
    telegram: TimedTelegram,
    stripe_api: TimedStripe,
    lags: list[tuple[float, float]],
    workdir: Path,
    size: int,
) -> None:
    """Both stand-ins' timelines (seconds from the first call, what, status, chat), for a
    closer look at any 429 the rows count: `instances-<N>-telegram.csv`, `…-stripe.csv`, and
    the stalls of the loop that stamps them (`…-lag.csv`: a 429 beside one is the bench's). The
    first line's `t0` is that first call on the machine's monotonic clock (time.monotonic()
    in any process), to line the calls up with what the instances log."""
    t0 = min(telegram.call_times[:1] + [hit.at for hit in stripe_api.timeline[:1]], default=0.0)
    with (workdir / f"instances-{size}-telegram.csv").open("w") as out:
        out.write(f"# t0 {t0:.4f}\nseconds,method,status,chat_id\n")
        for at, call in telegram.calls_since(0):
            out.write(
                f"{at - t0:.4f},{call.method},{call.status},{call.params.get('chat_id', '')}\n"
            )
    with (workdir / f"instances-{size}-stripe.csv").open("w") as out:
        out.write(f"# t0 {t0:.4f}\nseconds,method,path,status\n")
        for hit in stripe_api.timeline:
            out.write(f"{hit.at - t0:.4f},{hit.method},{hit.path},{hit.status}\n")
    with (workdir / f"instances-{size}-lag.csv").open("w") as out:
        out.write(f"# t0 {t0:.4f}\nseconds,late_ms\n")
        out.writelines(f"{at - t0:.4f},{late * 1000:.1f}\n" for at, late in lags)


async def _watch_loop(lags: list[tuple[float, float]]) -> None:
    """Note every moment this process's event loop (the stand-ins' too) answered more than
    10 ms late: the stand-ins stamp requests on it, so a stall bunches their stamps."""
    loop = asyncio.get_running_loop()
    while True:
        before = loop.time()
        await asyncio.sleep(0.005)
        late = loop.time() - before - 0.005
        if late > 0.010:
            lags.append((loop.time(), late))


@contextlib.asynccontextmanager
async def stage(
    cluster: PostgresCluster, size: int, buyers: Sequence[int], workdir: Path
) -> AsyncIterator[Stage]:
    """A fresh database seeded for `buyers`, the stand-ins at Telegram's and Stripe's limits
    (and Telegram's per-chat limit), and N running instances; all stopped afterwards."""
    url = cluster.create_database(f"instances_{size}")
    await _seed(url, buyers)
    telegram = TimedTelegram(
        token=BOT_TOKEN, rate_limit_per_second=TELEGRAM_LIMIT, chat_rate_limit=TELEGRAM_PER_CHAT
    )
    stripe_api = TimedStripe(rate_limit_per_second=STRIPE_LIMIT)
    await telegram.start()
    await stripe_api.start()
    lags: list[tuple[float, float]] = []
    watching = asyncio.create_task(_watch_loop(lags))
    telegram.user_sends(ADMIN_ID, "/help", first_name="Admin", queue=False)  # started the bot
    shops: list[Process] = []
    try:
        shops, bases = await _start_shops(telegram, stripe_api, url, size, workdir)
        timeout = aiohttp.ClientTimeout(total=60)
        connector = aiohttp.TCPConnector(limit=HANDS * 2)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
            yield Stage(size, url, telegram, stripe_api, shops, Balancer(bases, http))
    finally:
        for shop in shops:
            await shop.stop()
        await stripe_api.stop()
        await telegram.stop()
        watching.cancel()
        _dump(telegram, stripe_api, lags, workdir, size)
