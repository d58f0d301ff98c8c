"""Scenario 4 — growth: the queries behind buyer /orders, admin /orders and /sales at 1 k,
100 k and 1 M orders.

The orders are generated straight into SQLite (executemany in one transaction, on a database
the shop's own migrations created), spread evenly over the year before now, so every window of
/sales holds the same share of them at every size and growth shows up as growth. Then the very
storage functions the handlers call are timed on the shop's own `Database` (aiosqlite, reader
connection), so thread hops and row decoding are included, as a chat command would see them.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bench.report import Report
from bot.admin.orders import FILTERS, PAGE_SIZE
from bot.admin.sales import WINDOWS, window_start
from bot.buyer.orders import ORDERS_PAGE_SIZE
from storage import deliveries, orders, sales
from storage.db import Database
from storage.models import OrderStatus

SIZES = (1_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 10_000, 100_000)
YEAR = 365 * 86_400
PROBE_BUYER = 799_999  # has exactly PROBE_ORDERS orders at every size
PROBE_ORDERS = 20
PRODUCTS = 20
CHUNK = 50_000
GOAL_RATIO = 2.0
# (status, share) — most orders end fulfilled; the rest as a shop sees them over a year.
MIX = (
    ("fulfilled", 0.88),
    ("paid", 0.01),
    ("refunded", 0.02),
    ("partially_refunded", 0.01),
    ("expired", 0.05),
    ("failed", 0.02),
    ("awaiting_payment", 0.01),
)
PAID = frozenset({"fulfilled", "paid", "refunded", "partially_refunded"})
_ORDER_COLUMNS = (
    "id, ref, buyer_user_id, buyer_chat_id, buyer_name, product_id, product_title, quantity,"
    " unit_amount, amount_total, currency, status, checkout_session_id, checkout_url,"
    " expires_at, payment_intent_id, message_id, failure_reason, created_at, updated_at,"
    " paid_at, product_kind, amount_refunded"
)


def generate(path: Path, count: int, at: int, seed: int = 5) -> None:
    """Fill an empty shop database with `count` orders (and their goods deliveries)."""
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = OFF")  # generation only; the shop's own pragmas rule
        conn.execute("BEGIN")
        prices = {}
        for p in range(1, PRODUCTS + 1):
            currency = "eur" if p > PRODUCTS * 0.8 else "usd"
            prices[p] = (500 + 250 * p, currency)
            conn.execute(
                "INSERT INTO products (id, title, price_minor, currency, position, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (p, f"Product {p}", prices[p][0], currency, p, at - YEAR, at - YEAR),
            )
        statuses = [s for s, _ in MIX]
        weights = [w for _, w in MIX]
        pool = max(count // 5, 10)
        probe_every = count // PROBE_ORDERS

        def rows(first: int, last: int) -> list[tuple[object, ...]]:
            out: list[tuple[object, ...]] = []
            for i in range(first, last + 1):
                created = at - YEAR + (i * YEAR) // count
                status = rng.choices(statuses, weights)[0]
                product = rng.randint(1, PRODUCTS)
                price, currency = prices[product]
                quantity = 1 if rng.random() < 0.9 else rng.randint(2, 3)
                total = price * quantity
                buyer = PROBE_BUYER if i % probe_every == 0 else 800_000 + rng.randrange(pool)
                paid = status in PAID
                refunded = (
                    total if status == "refunded" else total // 2 if "partially" in status else 0
                )
                out.append(
                    (
                        i,
                        f"{i:024x}",
                        buyer,
                        buyer,
                        f"Buyer {buyer}",
                        product,
                        f"Product {product}",
                        quantity,
                        price,
                        total,
                        currency,
                        status,
                        f"cs_test_g{i:012d}",
                        f"https://checkout.stripe.com/c/pay/cs_test_g{i:012d}",
                        created + 3600,
                        f"pi_g{i:012d}" if paid else None,
                        None,
                        None,
                        created,
                        created + 60,
                        created + 60 if paid else None,
                        "digital_text",
                        refunded,
                    )
                )
            return out

        # In chunks, so a million orders never sit in memory at once.
        for first in range(1, count + 1, CHUNK):
            chunk = rows(first, min(first + CHUNK - 1, count))
            conn.executemany(
                f"INSERT INTO orders ({_ORDER_COLUMNS}) VALUES ({', '.join('?' * 23)})",  # noqa: S608
                chunk,
            )
            conn.executemany(
                "INSERT INTO deliveries (dedupe_key, order_id, kind, chat_id, status, attempts,"
                " next_attempt_at, created_at, sent_at)"
                " VALUES (?, ?, 'goods', ?, 'sent', 1, ?, ?, ?)",
                [(f"goods:{r[0]}", r[0], r[3], r[20], r[20], r[20]) for r in chunk if r[20]],
            )
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("ANALYZE")
    finally:
        conn.close()


Probe = Callable[[Database], Awaitable[object]]


@dataclass(frozen=True)
class Measure:
    name: str
    probe: Probe
    keyed: bool  # a look-up by buyer or by order: the ≤ 2× goal applies


def measures(at: int, probe_order: int) -> list[Measure]:
    """What each chat command asks storage, exactly as the handlers ask it."""
    all_filter = FILTERS[0]
    paid_filter = next(f for f in FILTERS if f.code == "p")

    async def buyer_orders(db: Database) -> object:
        total = await orders.count_for_buyer(db.reader, PROBE_BUYER)
        page = await orders.for_buyer(db.reader, PROBE_BUYER, offset=0, limit=ORDERS_PAGE_SIZE)
        return total, page

    async def order_detail(db: Database) -> object:
        order = await orders.get(db.reader, probe_order)
        return order, await deliveries.for_order(db.reader, probe_order)

    async def by_session(db: Database) -> object:
        return await orders.by_session(db.reader, f"cs_test_g{probe_order:012d}")

    async def current_count(db: Database, statuses: frozenset[OrderStatus] | None) -> int:
        return await orders.count(db.reader, statuses=statuses)

    def admin_list(
        statuses: frozenset[OrderStatus] | None,
        count: Callable[[Database, frozenset[OrderStatus] | None], Awaitable[int]] = current_count,
    ) -> Probe:
        async def probe(db: Database) -> object:
            total = await count(db, statuses)
            page = await orders.recent(
                db.reader,
                offset=0,
                limit=PAGE_SIZE,
                statuses=statuses,
            )
            return total, page

        return probe

    def old_list(statuses: frozenset[OrderStatus] | None) -> Probe:
        return admin_list(statuses, before_count)

    async def sales_overview(db: Database) -> object:
        return [await sales.totals(db.reader, since=window_start(w, at)) for w in WINDOWS]

    async def sales_all_time(db: Database) -> object:
        rows = await sales.totals(db.reader, since=0)
        return rows, await sales.top_products(db.reader, since=0, limit=5)

    async def sales_month(db: Database) -> object:
        since = window_start(WINDOWS[2], at)
        rows = await sales.totals(db.reader, since=since)
        return rows, await sales.top_products(db.reader, since=since, limit=5)

    async def sales_overview_before(db: Database) -> object:
        return [await before_totals(db, since=window_start(w, at)) for w in WINDOWS]

    async def sales_all_time_before(db: Database) -> object:
        rows = await before_totals(db, since=0)
        return rows, await before_top_products(db, since=0, limit=5)

    async def sales_month_before(db: Database) -> object:
        since = window_start(WINDOWS[2], at)
        rows = await before_totals(db, since=since)
        return rows, await before_top_products(db, since=since, limit=5)

    return [
        Measure("buyer /orders (count + page)", buyer_orders, True),
        Measure("admin order detail (by id)", order_detail, True),
        Measure("order by session id (webhook, /success)", by_session, True),
        Measure("admin /orders · All (count + page)", admin_list(all_filter.statuses), False),
        Measure("admin /orders · Paid (count + page)", admin_list(paid_filter.statuses), False),
        Measure("/sales overview (4 windows)", sales_overview, False),
        Measure("/sales · 30 days (+ top products)", sales_month, False),
        Measure("/sales · all time (+ top products)", sales_all_time, False),
        Measure("before 0003: admin /orders · All", old_list(all_filter.statuses), False),
        Measure("before 0003: admin /orders · Paid", old_list(paid_filter.statuses), False),
        Measure("before 0003: /sales overview", sales_overview_before, False),
        Measure("before 0003: /sales · 30 days", sales_month_before, False),
        Measure("before 0003: /sales · all time", sales_all_time_before, False),
    ]


# The queries as they were before migration 0003 added the aggregates, kept here verbatim so
# every run shows the before/after and checks that both give the same answers.
_STATES = "'paid', 'fulfilled', 'partially_refunded', 'refunded'"


async def before_count(db: Database, statuses: frozenset[OrderStatus] | None) -> int:
    values = sorted(str(s) for s in statuses) if statuses else []
    where = f" WHERE status IN ({', '.join('?' for _ in values)})" if values else ""
    rows = list(await db.reader.execute_fetchall(f"SELECT COUNT(*) FROM orders{where}", values))  # noqa: S608
    return int(rows[0][0])


async def before_totals(db: Database, *, since: int) -> list[tuple[object, ...]]:
    rows = await db.reader.execute_fetchall(
        "SELECT currency, COUNT(*), SUM(quantity), SUM(amount_total - amount_discount),"
        " SUM(amount_refunded)"
        " FROM orders INDEXED BY orders_by_paid_at"
        f" WHERE paid_at >= ? AND status IN ({_STATES})"  # noqa: S608
        " GROUP BY currency ORDER BY currency",
        (since,),
    )
    return [tuple(row) for row in rows]


async def before_top_products(db: Database, *, since: int, limit: int) -> list[tuple[object, ...]]:
    rows = await db.reader.execute_fetchall(
        "SELECT product_id, title, currency, orders, units, revenue, rank FROM ("
        " SELECT o.product_id, p.title AS title, o.currency AS currency, COUNT(*) AS orders,"
        "  SUM(o.quantity) AS units, SUM(o.amount_total - o.amount_discount) AS revenue,"
        "  ROW_NUMBER() OVER ("
        "   PARTITION BY o.currency ORDER BY SUM(o.amount_total - o.amount_discount) DESC,"
        " o.product_id"
        "  ) AS rank"
        " FROM orders AS o INDEXED BY orders_by_paid_at"
        " JOIN products AS p ON p.id = o.product_id"
        f" WHERE o.paid_at >= ? AND o.status IN ({_STATES})"  # noqa: S608
        " GROUP BY o.product_id, o.currency"
        ") WHERE rank <= ? ORDER BY currency, rank",
        (since, limit),
    )
    return [tuple(row) for row in rows]


async def cross_check(db: Database, at: int) -> list[str]:
    """Where the aggregate-backed answers differ from the direct queries (should be nowhere)."""
    problems = []
    for window in WINDOWS:
        since = window_start(window, at)
        now_rows = [
            (r.currency, r.orders, r.units, r.revenue, r.refunded)
            for r in await sales.totals(db.reader, since=since)
        ]
        if now_rows != await before_totals(db, since=since):
            problems.append(f"totals, {window.label}")
        top = [
            (p.product_id, p.title, p.currency, p.orders, p.units, p.revenue, p.rank)
            for p in await sales.top_products(db.reader, since=since, limit=5)
        ]
        if top != await before_top_products(db, since=since, limit=5):
            problems.append(f"top products, {window.label}")
    for f in FILTERS:
        if await orders.count(db.reader, statuses=f.statuses) != await before_count(db, f.statuses):
            problems.append(f"count, {f.label}")
    return problems


async def _time_once(db: Database, probe: Probe, calls: int) -> float:
    """Median seconds of `calls` back-to-back calls of one probe."""
    samples = []
    for _ in range(calls):
        began = time.perf_counter()
        await probe(db)
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


async def _measure(
    dbs: dict[int, Database], at: int, rounds: int
) -> tuple[dict[str, list[float]], dict[str, bool]]:
    """Median time of each measure at each size. The sizes and measures take turns, round
    after round, so a burst of other work on the machine lands in one round of everything
    instead of in all of one size (medians of the rounds then drop it)."""
    plans = {size: measures(at, probe_order=size // 2) for size in dbs}
    for size, db in dbs.items():  # warm each database's page cache and statement cache
        for m in plans[size]:
            await m.probe(db)
    samples: dict[tuple[int, str], list[float]] = {}
    for _ in range(rounds):
        for size, db in dbs.items():
            for m in plans[size]:
                single = await _time_once(db, m.probe, 1)
                calls = 1 if single > 0.02 else 15  # the slow "before" queries: once a round
                value = single if calls == 1 else await _time_once(db, m.probe, calls)
                samples.setdefault((size, m.name), []).append(value)
    timings: dict[str, list[float]] = {}
    keyed: dict[str, bool] = {}
    for size in dbs:
        for m in plans[size]:
            timings.setdefault(m.name, []).append(statistics.median(samples[(size, m.name)]))
            keyed[m.name] = m.keyed
    return timings, keyed


async def run(report: Report, workdir: Path, *, quick: bool) -> None:
    sizes = QUICK_SIZES if quick else SIZES
    at = int(time.time())
    generation: list[str] = []
    mismatches: list[str] = []
    dbs: dict[int, Database] = {}
    try:
        for size in sizes:
            path = workdir / f"growth-{size}.db"
            db = await Database.open(path)  # the shop's migrations, nothing else
            await db.close()
            began = time.perf_counter()
            await asyncio.to_thread(generate, path, size, at)
            generation.append(f"{size:,}: {time.perf_counter() - began:.1f} s")
            dbs[size] = await Database.open(path)
            mismatches += [f"{size:,}: {p}" for p in await cross_check(dbs[size], at)]
        timings, keyed = await _measure(dbs, at, rounds=5)
    finally:
        for size, db in dbs.items():
            await db.close()
            path = workdir / f"growth-{size}.db"
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
    big, small = sizes[-1], sizes[0]
    label = "1 M / 1 k" if big == 1_000_000 else f"{big:,} / {small:,}"
    for name, values in timings.items():
        ratio = values[-1] / values[0]
        shown = " · ".join(_ms(v) for v in values)
        if keyed[name]:
            report.add(
                "4 growth",
                f"{name}: {label}",
                f"{shown} → {ratio:.1f}×",
                f"≤ {GOAL_RATIO:g}×",
                ratio <= GOAL_RATIO,
            )
        else:
            report.add("4 growth", f"{name}: {label}", f"{shown} → {ratio:.0f}×")
    report.add(
        "4 growth",
        "aggregate answers = direct queries (all windows and filters, all sizes)",
        "yes" if not mismatches else "NO: " + "; ".join(mismatches),
        "equal",
        not mismatches,
    )
    report.section(
        "4. Growth",
        [
            f"Sizes {', '.join(f'{s:,}' for s in sizes)} orders over the last 365 days "
            f"({PRODUCTS} products in usd and eur, about 5 orders per buyer, the probed buyer "
            f"has {PROBE_ORDERS}; one goods delivery per paid order). Times are medians of "
            "repeated calls of the handlers' storage functions on the shop's reader "
            "connection. Generation (executemany in one transaction, through the shop's "
            f"migrations): {'; '.join(generation)}.",
        ],
    )


def _ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:.2f} ms" if ms < 10 else f"{ms:.0f} ms"
