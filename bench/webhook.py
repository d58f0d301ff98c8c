"""Scenario 1 — the webhook path: signed checkout.session.completed events for distinct orders.

Each event is a real state change (awaiting_payment → paid, an event row, two outbox rows: the
goods and the admin's sale alert), so the shop does all of its per-payment work, not a
duplicate short-cut. The orders are written with the storage functions the shop itself uses,
before the shop starts; the event bodies are the stand-in's own checkout.session (made through
the shop's StripeGateway), re-labelled per order and pretty-printed and signed the way Stripe
sends them. The same bodies then go to a bare aiohttp handler in a process of its own, through
the same client, for the ratio.
"""

from __future__ import annotations

import copy
import json
import secrets
import statistics
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import (
    ADMIN_ID,
    PUBLIC_BASE_URL,
    Process,
    TimedStripe,
    TimedTelegram,
    shop_env,
    shop_process,
)
from bench.loadgen import LoadResult, run_load, signed
from bench.profiling import Profile, Recording
from bench.report import Report
from sandbox.standins import free_port
from shop.gateways.stripe_gateway import CheckoutSettings, StripeGateway
from storage import orders, products
from storage.clock import now
from storage.models import Order, OrderStatus, ProductKind
from storage.sql import fetch_one
from storage.sqlite import SqliteDatabase

BUYERS = 500
LEVELS = (1, 16, 64)
GOAL_RATIO = 0.5
FLOORS = ("record", "group")


@dataclass(frozen=True)
class Plan:
    """Requests per concurrency level in each round; rounds alternate the levels so that a
    burst of other work on the machine spoils one round, not a whole level (medians win)."""

    warmup: int
    per_level: dict[int, int]
    rounds: int
    profiled: int

    @property
    def orders_needed(self) -> int:
        return self.warmup + self.rounds * sum(self.per_level.values()) + self.profiled

    @classmethod
    def full(cls) -> Plan:
        return cls(warmup=200, per_level={1: 500, 16: 1500, 64: 2000}, rounds=3, profiled=3000)

    @classmethod
    def quick(cls) -> Plan:
        return cls(warmup=50, per_level={1: 150, 16: 400, 64: 500}, rounds=1, profiled=500)


@dataclass
class Level:
    """One concurrency level over all rounds: request rates, pooled latencies, CPU used."""

    concurrency: int
    rates: list[float]
    latencies: list[float]
    statuses: Counter[int]
    cpu_seconds: float = 0.0

    @property
    def rps(self) -> float:
        return statistics.median(self.rates)

    def percentile_ms(self, q: float) -> float:
        return LoadResult(self.concurrency, 1.0, sorted(self.latencies)).percentile_ms(q)

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_seconds / len(self.latencies) if self.latencies else 0.0


async def seed_orders(database: Path, count: int) -> tuple[list[Order], int]:
    """`count` orders awaiting payment with their session ids, as checkout leaves them."""
    db = await SqliteDatabase.open(database)
    made: list[Order] = []
    try:
        async with db.transaction() as tx:
            product_id = await products.add(
                tx,
                title="Flash drop: signed poster",
                description="Limited edition.",
                price_minor=2500,
                currency="usd",
                delivery_text="Your download: https://files.example/poster.pdf",
            )
            expires = now() + 3600
            for i in range(count):
                buyer = 700_000 + i % BUYERS
                order = await orders.create(
                    tx,
                    buyer_user_id=buyer,
                    buyer_chat_id=buyer,
                    buyer_name=f"Buyer {buyer}",
                    lines=[
                        orders.NewLine(
                            product_id,
                            "Flash drop: signed poster",
                            ProductKind.DIGITAL_TEXT,
                            2500,
                            1,
                        )
                    ],
                    currency="usd",
                    expires_at=expires,
                )
                session_id = "cs_test_" + secrets.token_hex(29)
                await orders.update(
                    tx,
                    order.id,
                    checkout_session_id=session_id,
                    checkout_url=f"https://checkout.stripe.com/c/pay/{session_id}",
                )
                await orders.transition(tx, order, OrderStatus.AWAITING_PAYMENT)
                current = await orders.get(tx, order.id)
                assert current is not None
                made.append(current)
    finally:
        await db.close()
    return made, product_id


async def template_event(stripe_api: TimedStripe, order: Order, database: Path) -> dict[str, Any]:
    """A checkout.session.completed as the stand-in sends it, for one real session."""
    db = await SqliteDatabase.open(database)
    try:
        product = await products.get(db.reader, order.lines[0].product_id)
    finally:
        await db.close()
    assert product is not None
    gateway = StripeGateway(stripe_api.api_key, stripe_api.api_base)
    try:
        link = await gateway.create_checkout_session(
            order, {product.id: product}, [], CheckoutSettings(PUBLIC_BASE_URL, False, ("US",))
        )
    finally:
        await gateway.close()
    stripe_api.pay(link.session_id)
    return stripe_api.session_event("checkout.session.completed", link.session_id)


def event_for(template: dict[str, Any], order: Order) -> bytes:
    """The template re-labelled for `order`, serialised the way Stripe sends it."""
    event = copy.deepcopy(template)
    event["id"] = "evt_" + secrets.token_hex(12)
    session = event["data"]["object"]
    assert order.checkout_session_id is not None
    session["id"] = order.checkout_session_id
    session["client_reference_id"] = str(order.id)
    session["metadata"] = {"order_id": str(order.id), "order_ref": order.ref}
    session["payment_intent"] = "pi_" + secrets.token_hex(12)
    return json.dumps(event, indent=2).encode()


async def _levels(
    url: str, bodies: list[bytes], plan: Plan, sign: Callable[[bytes], str], process: Process
) -> tuple[dict[int, Level], list[bytes]]:
    """Warm up, then `plan.rounds` rounds of every level; the bodies left over are returned."""
    rest = bodies
    warm, rest = rest[: plan.warmup], rest[plan.warmup :]
    await run_load(url, signed(warm, sign), 4)
    levels = {c: Level(c, [], [], Counter()) for c in LEVELS}
    for _ in range(plan.rounds):
        for c in LEVELS:
            batch, rest = rest[: plan.per_level[c]], rest[plan.per_level[c] :]
            cpu = process.cpu_seconds()
            result = await run_load(url, signed(batch, sign), c)
            levels[c].cpu_seconds += process.cpu_seconds() - cpu
            levels[c].rates.append(result.rps)
            levels[c].latencies += result.latencies
            levels[c].statuses.update(result.statuses)
    return levels, rest


@dataclass
class OurShop:
    """The shop's own run: its levels, the orders it paid, and its profile at c=64."""

    levels: dict[int, Level]
    paid: int
    recording: Profile | None
    profiled_rps: float


async def _prepared_bodies(
    telegram: TimedTelegram, stripe_api: TimedStripe, database: Path, plan: Plan
) -> list[bytes]:
    """Buyers who started the bot, the orders seeded, and one signed-to-be event per order."""
    telegram.user_sends(ADMIN_ID, "/help", first_name="Admin", queue=False)
    for i in range(BUYERS):
        telegram.user_sends(700_000 + i, "/start", queue=False)
    made, _ = await seed_orders(database, plan.orders_needed + 1)
    template = await template_event(stripe_api, made[-1], database)
    return [event_for(template, order) for order in made[:-1]]


@dataclass(frozen=True)
class Setup:
    """What every process of this scenario meets: the stand-ins, the seeded database, the
    signed-to-be event bodies and the plan."""

    telegram: TimedTelegram
    stripe_api: TimedStripe
    database: Path
    bodies: list[bytes]
    plan: Plan
    workdir: Path


async def _ours(setup: Setup, profile: bool) -> OurShop:
    """The real shop (`python -m bot`) through every level, then profiled at c=64."""
    sign = setup.stripe_api.sign
    shop, port = shop_process(
        setup.telegram, setup.stripe_api, setup.database, setup.workdir, "shop-webhook"
    )
    try:
        await shop.start()
        await shop.wait_http(f"http://127.0.0.1:{port}/healthz")
        url = f"http://127.0.0.1:{port}/stripe/webhook"
        ours, rest = await _levels(url, setup.bodies, setup.plan, sign, shop)
        recording: Profile | None = None
        ours_profiled_rps = 0.0
        if profile:
            async with Recording(shop.pid, setup.workdir / "webhook-c64.pyspy") as rec:
                profiled = await run_load(url, signed(rest[: setup.plan.profiled], sign), 64)
            recording = rec.profile
            ours_profiled_rps = profiled.rps
        paid = await _count_paid(setup.database)
    finally:
        await shop.stop()
    return OurShop(ours, paid, recording, ours_profiled_rps)


async def _bare(setup: Setup) -> dict[int, Level]:
    """The same bodies to a bare aiohttp handler in a process of its own."""
    bare_port = free_port()
    env = shop_env(setup.telegram, setup.stripe_api, setup.database, bare_port)
    argv = [sys.executable, "-m", "bench.bare", str(bare_port)]
    bare = Process("bare", argv, env, setup.workdir)
    try:
        await bare.start()
        await bare.wait_http(f"http://127.0.0.1:{bare_port}/healthz")
        bare_url = f"http://127.0.0.1:{bare_port}/stripe/webhook"
        theirs, _ = await _levels(bare_url, setup.bodies, setup.plan, setup.stripe_api.sign, bare)
    finally:
        await bare.stop()
    return theirs


def _report_levels(
    report: Report,
    ours: dict[int, Level],
    theirs: dict[int, Level],
    floors: dict[str, dict[int, Level]],
) -> None:
    for level in LEVELS:
        a, b = ours[level], theirs[level]
        ratio = a.rps / b.rps if b.rps else 0.0
        statuses = "" if set(a.statuses) == {200} else f" (statuses {dict(a.statuses)})"
        report.add(
            "1 webhook",
            f"c={level}: ours req/s · p50 · p99 · CPU per request{statuses}",
            f"{a.rps:,.0f} · {a.percentile_ms(50):.1f} ms · {a.percentile_ms(99):.1f} ms"
            f" · {a.cpu_ms_per_request:.2f} ms",
        )
        report.add(
            "1 webhook",
            f"c={level}: bare req/s · p50 · p99 · CPU per request",
            f"{b.rps:,.0f} · {b.percentile_ms(50):.1f} ms · {b.percentile_ms(99):.1f} ms"
            f" · {b.cpu_ms_per_request:.2f} ms",
        )
        report.add(
            "1 webhook",
            f"c={level}: floors: one transaction per event · group commit (req/s, /bare)",
            " · ".join(
                f"{floors[m][level].rps:,.0f} ({floors[m][level].rps / b.rps:.2f})" for m in FLOORS
            ),
        )
        report.add(
            "1 webhook",
            f"c={level}: ratio ours/bare",
            f"{ratio:.2f}",
            f"≥ {GOAL_RATIO}" if level == 64 else "—",
            ratio >= GOAL_RATIO if level == 64 else None,
        )


def _report_notes(
    report: Report, plan: Plan, size: int, recording: Profile | None, ours_profiled_rps: float
) -> None:
    notes = [
        f"Event body: {size:,} bytes (pretty-printed checkout.session.completed, as Stripe "
        f"sends it). Requests per level and round: {plan.per_level}, {plan.rounds} rounds "
        "taking turns (req/s is the median round, latencies are pooled, CPU per request is "
        f"the process's user + system time over the level); {plan.warmup} warm-up first. "
        "Each request is a distinct order, so each one commits a state change, an event row "
        "and two outbox rows; the delivery worker runs meanwhile (the bot's rate limiter keeps "
        "it at about 30 messages/s; the Telegram stand-in has no limit in this scenario).",
        "",
        "The floors (`bench/floor.py`) run between bare and ours, in processes of their own "
        "with the same bodies: each verifies the signature, parses the JSON and records the "
        "event id durably before its 2xx, through the shop's own `storage.db.Database`. "
        "*One transaction per event* is the least DESIGN's 'record in a transaction, then "
        "answer' can cost; *group commit* puts every event queued meanwhile into one "
        "transaction (one `executemany`), the transactional inbox weighed in FINDINGS §1.",
    ]
    if recording is not None:
        notes += [
            "",
            f"Profile of the shop at c=64 ({ours_profiled_rps:,.0f} req/s while profiled):",
            "",
            *recording.table(),
        ]
    report.section("1. Webhook path", notes)


async def run(report: Report, workdir: Path, *, quick: bool, profile: bool) -> None:
    plan = Plan.quick() if quick else Plan.full()
    telegram = TimedTelegram(token="123456:BENCH-fake-token-0123456789abcdef")
    stripe_api = TimedStripe()
    await telegram.start()
    await stripe_api.start()
    database = workdir / "webhook.db"
    try:
        bodies = await _prepared_bodies(telegram, stripe_api, database, plan)
        setup = Setup(telegram, stripe_api, database, bodies, plan, workdir)
        ours = await _ours(setup, profile)
        theirs = await _bare(setup)
        floors = {
            mode: await _floor(mode, bodies, plan, stripe_api, telegram, workdir) for mode in FLOORS
        }
    finally:
        await telegram.stop()
        await stripe_api.stop()

    fired = plan.orders_needed - (0 if profile else plan.profiled)
    _report_levels(report, ours.levels, theirs, floors)
    report.add("1 webhook", "orders paid / events fired", f"{ours.paid:,} / {fired:,}", "all", None)
    _report_notes(report, plan, len(bodies[0]), ours.recording, ours.profiled_rps)


async def _floor(
    mode: str,
    bodies: list[bytes],
    plan: Plan,
    stripe_api: TimedStripe,
    telegram: TimedTelegram,
    workdir: Path,
) -> dict[int, Level]:
    port = free_port()
    database = workdir / f"floor-{mode}.db"
    env = shop_env(telegram, stripe_api, database, port)
    argv = [sys.executable, "-m", "bench.floor", str(port), mode, str(database)]
    process = Process(f"floor-{mode}", argv, env, workdir)
    await process.start()
    try:
        await process.wait_http(f"http://127.0.0.1:{port}/healthz")
        levels, _ = await _levels(
            f"http://127.0.0.1:{port}/stripe/webhook", bodies, plan, stripe_api.sign, process
        )
    finally:
        await process.stop()
    return levels


async def _count_paid(database: Path) -> int:
    db = await SqliteDatabase.open(database)
    try:
        row = await fetch_one(
            db.reader, "SELECT COUNT(*) FROM orders WHERE status IN ('paid', 'fulfilled')"
        )
    finally:
        await db.close()
    return int(row[0]) if row else 0
