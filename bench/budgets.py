"""Scenario 8 — Telegram's and Stripe's budgets kept by 1, 2 and 4 instances on one PostgreSQL.

Each instance is a `ShopApp` wired as `python -m bot` wires it on PostgreSQL (bot/app.py: its
Telegram and Stripe slots come from the database's `send_budgets` rows), with its own
Application, Bot, Stripe client and connection pool, on a throwaway PostgreSQL server
(testkit.postgres). Every instance asks, as fast as it can, for its share of `MESSAGES`
messages (to distinct chats) and of `CREATIONS` Checkout Sessions (for pending orders); the
stand-ins enforce Telegram's 30 messages/s per bot and Stripe's 25 creations/s per account with
429s, and note when each request arrived. The goal: at every N, the rate the stand-ins accepted
over their limit ≥ 0.9, with 0 × 429.

The instances share this process's event loop and cores with the stand-ins (production runs one
process each), so the figures are what the budget leaves on a busy loop: a lower bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Sequence

from bench.harness import ADMIN_ID, BOT_TOKEN, PUBLIC_BASE_URL, TimedStripe, TimedTelegram
from bench.harness import messages_sent as accepted_messages
from bench.report import Report
from bot.app import ShopApp
from bot.config import Settings, load_settings
from sandbox.standins import standin_environ
from storage import orders, products
from storage.clock import now
from storage.models import Order, Product, ProductKind
from testkit.postgres import PostgresCluster

SCENARIO = "8 budgets"
INSTANCES = (1, 2, 4)
MESSAGES, CREATIONS = 600, 300
QUICK_MESSAGES, QUICK_CREATIONS = 150, 100
TELEGRAM_LIMIT, STRIPE_LIMIT = 30, 25
GOAL = 0.9
FIRST_CHAT = 720_000


def _settings(telegram: TimedTelegram, stripe_api: TimedStripe, url: str) -> Settings:
    environ = {
        **standin_environ(telegram, stripe_api),
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "ADMIN_IDS": str(ADMIN_ID),
        "DATABASE_URL": url,
        "HOST": "127.0.0.1",
        "TELEGRAM_MODE": "webhook",  # several pollers would take each other's updates
        "TELEGRAM_WEBHOOK_SECRET": "bench-secret-" + "b" * 20,
    }
    return dataclasses.replace(load_settings(environ, env_file=None), port=0)


def _rate(times: Sequence[float]) -> float:
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0


async def _send(apps: list[ShopApp], telegram: TimedTelegram, count: int) -> tuple[float, int]:
    """Every instance sends its share at once; the accepted rate and the 429s answered."""
    chats = list(range(FIRST_CHAT, FIRST_CHAT + count))
    for chat in chats:
        telegram.user_sends(chat, "/start", queue=False)
    first, refused = len(telegram.calls), telegram.rate_limited
    share = -(-count // len(apps))
    await asyncio.gather(
        *(
            app.application.bot.send_message(chat, f"bench #{chat}")
            for number, app in enumerate(apps)
            for chat in chats[number * share : (number + 1) * share]
        )
    )
    sent = [t for t, call in accepted_messages(telegram.calls_since(first))]
    return _rate(sent), telegram.rate_limited - refused


async def _pending(app: ShopApp, count: int) -> tuple[list[Order], Product]:
    assert app.db is not None
    async with app.db.transaction() as tx:
        product_id = await products.add(
            tx, title="Bench ebook", price_minor=999, currency="usd", kind=ProductKind.DIGITAL_TEXT
        )
        made = [
            await orders.create(
                tx,
                buyer_user_id=900_000 + n,
                buyer_chat_id=900_000 + n,
                buyer_name="bench",
                lines=[orders.NewLine(product_id, "Bench ebook", ProductKind.DIGITAL_TEXT, 999, 1)],
                currency="usd",
                expires_at=now() + 3600,
            )
            for n in range(count)
        ]
        product = await products.get(tx, product_id)
    assert product is not None
    return made, product


async def _create(apps: list[ShopApp], stripe_api: TimedStripe, count: int) -> tuple[float, int]:
    """Every instance creates its share of sessions at once; the accepted rate and the 429s."""
    pending, product = await _pending(apps[0], count)
    first, refused = len(stripe_api.timeline), stripe_api.rate_limited
    share = -(-count // len(apps))

    async def create(app: ShopApp, order: Order) -> None:
        assert app.shop is not None
        await app.stripe.create_checkout_session(
            order, {product.id: product}, (), app.shop.checkout_settings
        )

    await asyncio.gather(
        *(
            create(app, order)
            for number, app in enumerate(apps)
            for order in pending[number * share : (number + 1) * share]
        )
    )
    created = [
        hit.at
        for hit in stripe_api.timeline[first:]
        if (hit.method, hit.path, hit.status) == ("POST", "/v1/checkout/sessions", 200)
    ]
    return _rate(created), stripe_api.rate_limited - refused


@dataclasses.dataclass(frozen=True)
class Kept:
    """What the stand-ins accepted from N instances: rates per second and 429s answered."""

    messages: float
    telegram_429: int
    creations: float
    stripe_429: int


async def _one_size(cluster: PostgresCluster, size: int, *, quick: bool) -> Kept:
    telegram = TimedTelegram(token=BOT_TOKEN, rate_limit_per_second=TELEGRAM_LIMIT)
    stripe_api = TimedStripe(rate_limit_per_second=STRIPE_LIMIT)
    await telegram.start()
    await stripe_api.start()
    url = cluster.create_database(f"budgets_{size}")
    telegram.user_sends(ADMIN_ID, "/help", queue=False)
    try:
        async with contextlib.AsyncExitStack() as stack:
            apps = []
            for _ in range(size):
                app = ShopApp(_settings(telegram, stripe_api, url))
                stack.push_async_callback(app.stop)
                await app.start()
                apps.append(app)
            sent = await _send(apps, telegram, QUICK_MESSAGES if quick else MESSAGES)
            made = await _create(apps, stripe_api, QUICK_CREATIONS if quick else CREATIONS)
    finally:
        await stripe_api.stop()
        await telegram.stop()
    return Kept(*sent, *made)


def _row(report: Report, size: int, service: str, rate: float, limit: int, refused: int) -> None:
    share = rate / limit
    report.add(
        SCENARIO,
        f"{size} instance(s): {service}/s ÷ {limit}; 429s",
        f"{rate:.1f}/s = {share:.2f}; {refused}",
        f"≥ {GOAL}; 0",
        share >= GOAL and refused == 0,
    )


async def run(report: Report, *, quick: bool) -> None:
    cluster = await asyncio.to_thread(PostgresCluster.start)
    try:
        for size in INSTANCES:
            kept = await _one_size(cluster, size, quick=quick)
            _row(
                report, size, "Telegram messages", kept.messages, TELEGRAM_LIMIT, kept.telegram_429
            )
            _row(report, size, "Stripe creations", kept.creations, STRIPE_LIMIT, kept.stripe_429)
    finally:
        await asyncio.to_thread(cluster.stop)
