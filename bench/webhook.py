"""Scenario 1 — the webhook path: signed checkout.session.completed events for distinct orders.

Each event is a real state change (awaiting_payment → paid, an event row, two outbox rows: the
goods and the admin's sale alert), so the shop does all of its per-payment work, not a
duplicate short-cut. The shop answers once the event is in its inbox (group commit) and applies
it right after, so the applier works beside the requests being measured; once the load stops,
the bench waits for it to apply the events left and reports how many there were and how fast
they went. The orders are written with the storage functions the shop itself uses,
before the shop starts; the event bodies are the stand-in's own checkout.session (made through
the shop's StripeGateway), re-labelled per order and pretty-printed and signed the way Stripe
sends them. The same bodies then go to a bare aiohttp handler in a process of its own, through
the same client, for the ratio.

Everything runs twice in the same run (issue 15): on SQLite, then on PostgreSQL
(bench/webhook_postgres.py: a durable throwaway server holding a copy of the seeded orders, so
the same bodies pay the same orders), each pass with its own bare baseline and floors measured
right beside it, so that each ratio compares processes measured minutes apart at most.
"""

from __future__ import annotations

import statistics
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import webhook_postgres
from bench.harness import (
    Process,
    TimedStripe,
    TimedTelegram,
    shop_env,
    shop_process,
)
from bench.loadgen import LoadResult, run_load, signed
from bench.profiling import Profile, Recording
from bench.report import Report
from bench.webhook_data import count_paid, drained, prepared_bodies
from bench.webhook_postgres import PostgresStage
from sandbox.standins import free_port

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
    """The shop's own run: its levels, the orders it paid, its profile at c=64, and its inbox
    after the last request: the events recorded but not applied yet, and how long the applier
    took to apply them."""

    levels: dict[int, Level]
    paid: int
    recording: Profile | None
    profiled_rps: float
    backlog: int
    drain_seconds: float


@dataclass(frozen=True)
class Setup:
    """What every process of this scenario meets: the stand-ins, the signed-to-be event bodies
    and the plan."""

    telegram: TimedTelegram
    stripe_api: TimedStripe
    bodies: list[bytes]
    plan: Plan
    workdir: Path


@dataclass(frozen=True)
class Engine:
    """One pass of the scenario: the engine's name, the shop's seeded database (a SQLite file
    or a PostgreSQL URL), where each floor gets an empty one, and how its rows are labelled
    (`prefix`) and its processes and files named (`tag`). The ≥ 0.5 goal is SQLite's (issue
    15); PostgreSQL's figure is reported beside it."""

    name: str
    database: Path | str
    floor_database: Callable[[str], Path | str]
    prefix: str = ""
    tag: str = ""
    goal: bool = True

    @classmethod
    def sqlite(cls, database: Path, workdir: Path) -> Engine:
        return cls("SQLite", database, lambda mode: workdir / f"floor-{mode}.db")

    @classmethod
    def postgresql(cls, server: PostgresStage) -> Engine:
        return cls(
            "PostgreSQL",
            server.url,
            lambda mode: server.fresh_database(f"floor_{mode}"),
            prefix="PostgreSQL ",
            tag="-pg",
            goal=False,
        )


@dataclass
class Pass:
    """One engine's measurements: the shop, the bare handler and the floors beside it."""

    engine: Engine
    ours: OurShop
    bare: dict[int, Level]
    floors: dict[str, dict[int, Level]]


async def _pass(setup: Setup, engine: Engine, profile: bool) -> Pass:
    """Ours, then bare, then the floors, on one engine."""
    print(f"bench: webhook on {engine.name} …", flush=True)
    ours = await _ours(setup, engine, profile)
    bare = await _bare(setup, engine)
    floors = {mode: await _floor(mode, setup, engine) for mode in FLOORS}
    return Pass(engine, ours, bare, floors)


async def _ours(setup: Setup, engine: Engine, profile: bool) -> OurShop:
    """The real shop (`python -m bot`) through every level, then profiled at c=64."""
    sign = setup.stripe_api.sign
    shop, port = shop_process(
        setup.telegram,
        setup.stripe_api,
        engine.database,
        setup.workdir,
        f"shop-webhook{engine.tag}",
    )
    try:
        await shop.start()
        await shop.wait_http(f"http://127.0.0.1:{port}/healthz")
        url = f"http://127.0.0.1:{port}/stripe/webhook"
        ours, rest = await _levels(url, setup.bodies, setup.plan, sign, shop)
        recording: Profile | None = None
        ours_profiled_rps = 0.0
        if profile:
            spy = setup.workdir / f"webhook{engine.tag}-c64.pyspy"
            async with Recording(shop.pid, spy) as rec:
                profiled = await run_load(url, signed(rest[: setup.plan.profiled], sign), 64)
            recording = rec.profile
            ours_profiled_rps = profiled.rps
        backlog, drain_seconds = await drained(engine.database)
        paid = await count_paid(engine.database)
    finally:
        await shop.stop()
    return OurShop(ours, paid, recording, ours_profiled_rps, backlog, drain_seconds)


async def _bare(setup: Setup, engine: Engine) -> dict[int, Level]:
    """The same bodies to a bare aiohttp handler in a process of its own."""
    bare_port = free_port()
    env = shop_env(setup.telegram, setup.stripe_api, engine.database, bare_port)
    argv = [sys.executable, "-m", "bench.bare", str(bare_port)]
    bare = Process(f"bare{engine.tag}", argv, env, setup.workdir)
    try:
        await bare.start()
        await bare.wait_http(f"http://127.0.0.1:{bare_port}/healthz")
        bare_url = f"http://127.0.0.1:{bare_port}/stripe/webhook"
        theirs, _ = await _levels(bare_url, setup.bodies, setup.plan, setup.stripe_api.sign, bare)
    finally:
        await bare.stop()
    return theirs


def _report_levels(report: Report, done: Pass) -> None:
    ours, theirs, floors, engine = done.ours.levels, done.bare, done.floors, done.engine
    for level in LEVELS:
        a, b = ours[level], theirs[level]
        at = f"{engine.prefix}c={level}"
        goal = engine.goal and level == 64
        ratio = a.rps / b.rps if b.rps else 0.0
        statuses = "" if set(a.statuses) == {200} else f" (statuses {dict(a.statuses)})"
        report.add(
            "1 webhook",
            f"{at}: ours req/s · p50 · p99 · CPU per request{statuses}",
            f"{a.rps:,.0f} · {a.percentile_ms(50):.1f} ms · {a.percentile_ms(99):.1f} ms"
            f" · {a.cpu_ms_per_request:.2f} ms",
        )
        report.add(
            "1 webhook",
            f"{at}: bare req/s · p50 · p99 · CPU per request",
            f"{b.rps:,.0f} · {b.percentile_ms(50):.1f} ms · {b.percentile_ms(99):.1f} ms"
            f" · {b.cpu_ms_per_request:.2f} ms",
        )
        report.add(
            "1 webhook",
            f"{at}: floors: one transaction per event · group commit (req/s, /bare)",
            " · ".join(
                f"{floors[m][level].rps:,.0f} ({floors[m][level].rps / b.rps:.2f})" for m in FLOORS
            ),
        )
        report.add(
            "1 webhook",
            f"{at}: ratio ours/bare",
            f"{ratio:.2f}",
            f"≥ {GOAL_RATIO}" if goal else "—",
            ratio >= GOAL_RATIO if goal else None,
        )


def _report_notes(report: Report, plan: Plan, size: int, passes: list[Pass], stage: str) -> None:
    notes = [
        f"Event body: {size:,} bytes (pretty-printed checkout.session.completed, as Stripe "
        f"sends it). Requests per level and round: {plan.per_level}, {plan.rounds} rounds "
        "taking turns (req/s is the median round, latencies are pooled, CPU per request is "
        f"the process's user + system time over the level); {plan.warmup} warm-up first. "
        "Each request is a distinct order. The shop answers once the event is committed in its "
        "inbox (group commit); its applier applies each event right after (a state change, an "
        "event row and two outbox rows, in one transaction), beside the requests being "
        "measured, and the delivery worker runs meanwhile (the bot's rate limiter keeps it at "
        "about 30 messages/s; the Telegram stand-in has no limit in this scenario). After the "
        "last request the bench waits until the inbox is applied, then counts the paid orders.",
        "",
        "The floors (`bench/floor.py`) run after bare, in processes of their own "
        "with the same bodies: each verifies the signature, parses the JSON and records the "
        "event id durably before its 2xx, through the shop's own `storage.db.Database`. "
        "*One transaction per event* is the least DESIGN's 'record in a transaction, then "
        "answer' can cost; *group commit* puts every event queued meanwhile into one "
        "transaction (one `executemany`), the transactional inbox weighed in FINDINGS §1.",
        "",
        "The whole scenario runs twice: on SQLite (the rows without a prefix), then on "
        f"PostgreSQL (the rows marked so): {stage}. Each pass measures its own bare handler "
        "and floors (each floor on an empty database of the same engine), so each ratio "
        "compares processes measured within minutes of each other.",
    ]
    for done in passes:
        recording = done.ours.recording
        if recording is not None:
            notes += [
                "",
                f"Profile of the shop on {done.engine.name} at c=64 "
                f"({done.ours.profiled_rps:,.0f} req/s while profiled):",
                "",
                *recording.table(),
            ]
    report.section("1. Webhook path", notes)


def _report_pass(report: Report, done: Pass, fired: int) -> None:
    _report_levels(report, done)
    ours, prefix = done.ours, done.engine.prefix
    paid = f"{ours.paid:,} / {fired:,}"
    report.add("1 webhook", f"{prefix}orders paid / events fired", paid, "all", None)
    rate = ours.backlog / ours.drain_seconds if ours.drain_seconds else 0.0
    report.add(
        "1 webhook",
        f"{prefix}inbox after the last 2xx: events not applied yet · applied in · events/s",
        f"{ours.backlog:,} · {ours.drain_seconds:.1f} s · {rate:,.0f}",
    )


async def run(report: Report, workdir: Path, *, quick: bool, profile: bool) -> None:
    plan = Plan.quick() if quick else Plan.full()
    telegram = TimedTelegram(token="123456:BENCH-fake-token-0123456789abcdef")
    stripe_api = TimedStripe()
    await telegram.start()
    await stripe_api.start()
    database = workdir / "webhook.db"
    try:
        bodies = await prepared_bodies(telegram, stripe_api, database, plan.orders_needed)
        setup = Setup(telegram, stripe_api, bodies, plan, workdir)
        # The copy is taken before the SQLite pass pays the orders.
        async with webhook_postgres.stage(database) as server:
            passes = [
                await _pass(setup, Engine.sqlite(database, workdir), profile),
                await _pass(setup, Engine.postgresql(server), profile),
            ]
            stage = server.describe()
    finally:
        await telegram.stop()
        await stripe_api.stop()

    fired = plan.orders_needed - (0 if profile else plan.profiled)
    for done in passes:
        _report_pass(report, done, fired)
    _report_notes(report, plan, len(bodies[0]), passes, stage)


async def _floor(mode: str, setup: Setup, engine: Engine) -> dict[int, Level]:
    """One floor (`bench/floor.py`) on an empty database of the engine, through every level."""
    port = free_port()
    database = engine.floor_database(mode)
    env = shop_env(setup.telegram, setup.stripe_api, database, port)
    argv = [sys.executable, "-m", "bench.floor", str(port), mode, str(database)]
    process = Process(f"floor-{mode}{engine.tag}", argv, env, setup.workdir)
    await process.start()
    try:
        await process.wait_http(f"http://127.0.0.1:{port}/healthz")
        levels, _ = await _levels(
            f"http://127.0.0.1:{port}/stripe/webhook",
            setup.bodies,
            setup.plan,
            setup.stripe_api.sign,
            process,
        )
    finally:
        await process.stop()
    return levels
