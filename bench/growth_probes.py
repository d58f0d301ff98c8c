"""Scenario 4's questions: what each chat command asks storage, timed, and checked against the
queries as they were before migration 0003 added the aggregates.

The probes call the very storage functions the handlers call, on whatever `Database` they are
given (the shop's SQLite file or its PostgreSQL pool), so the same questions are timed on both
engines (bench/growth.py).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench.growth_data import PROBE_BUYER
from bot.admin.order_texts import FILTERS
from bot.admin.orders import PAGE_SIZE
from bot.admin.sales import WINDOWS, window_start
from bot.buyer.orders import ORDERS_PAGE_SIZE
from storage import deliveries, orders, sales
from storage.db import Database
from storage.models import OrderStatus

Probe = Callable[[Database], Awaitable[object]]


@dataclass
class Outcome:
    """One engine's growth run: each measure's median per size (smallest first), whether it is
    keyed (the ≤ 2× goal), where aggregates and direct queries disagreed, and how long
    generating each size took."""

    timings: dict[str, list[float]] = field(default_factory=dict)
    keyed: dict[str, bool] = field(default_factory=dict)
    mismatches: list[str] = field(default_factory=list)
    generation: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Measure:
    name: str
    probe: Probe
    keyed: bool  # a look-up by buyer or by order: the ≤ 2× goal applies


async def _current_count(db: Database, statuses: frozenset[OrderStatus] | None) -> int:
    return await orders.count(db.reader, statuses=statuses)


def _admin_list(
    statuses: frozenset[OrderStatus] | None,
    count: Callable[[Database, frozenset[OrderStatus] | None], Awaitable[int]] = _current_count,
) -> Probe:
    """Admin /orders under a filter: the count and the first page."""

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


def _buyer_and_order_measures(probe_order: int) -> list[Measure]:
    """The keyed look-ups: one buyer's orders, one order by id or by session."""

    async def buyer_orders(db: Database) -> object:
        total = await orders.count_for_buyer(db.reader, PROBE_BUYER)
        page = await orders.for_buyer(db.reader, PROBE_BUYER, offset=0, limit=ORDERS_PAGE_SIZE)
        return total, page

    async def order_detail(db: Database) -> object:
        order = await orders.get(db.reader, probe_order)
        return order, await deliveries.for_order(db.reader, probe_order)

    async def by_session(db: Database) -> object:
        return await orders.by_session(db.reader, f"cs_test_g{probe_order:012d}")

    return [
        Measure("buyer /orders (count + page)", buyer_orders, True),
        Measure("admin order detail (by id)", order_detail, True),
        Measure("order by session id (webhook, /success)", by_session, True),
    ]


def _sales_measures(at: int) -> list[Measure]:
    """/sales as it asks storage now: the overview, 30 days and all time."""

    async def sales_overview(db: Database) -> object:
        return [await sales.totals(db.reader, since=window_start(w, at)) for w in WINDOWS]

    async def sales_all_time(db: Database) -> object:
        rows = await sales.totals(db.reader, since=0)
        return rows, await sales.top_products(db.reader, since=0, limit=5)

    async def sales_month(db: Database) -> object:
        since = window_start(WINDOWS[2], at)
        rows = await sales.totals(db.reader, since=since)
        return rows, await sales.top_products(db.reader, since=since, limit=5)

    return [
        Measure("/sales overview (4 windows)", sales_overview, False),
        Measure("/sales · 30 days (+ top products)", sales_month, False),
        Measure("/sales · all time (+ top products)", sales_all_time, False),
    ]


def _sales_measures_before_0003(at: int) -> list[Measure]:
    """/sales as it asked storage before migration 0003 added the aggregates."""

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
        Measure("before 0003: /sales overview", sales_overview_before, False),
        Measure("before 0003: /sales · 30 days", sales_month_before, False),
        Measure("before 0003: /sales · all time", sales_all_time_before, False),
    ]


def measures(at: int, probe_order: int, *, before: bool = True) -> list[Measure]:
    """What each chat command asks storage, exactly as the handlers ask it; with `before`,
    also as they asked it before migration 0003 (the SQLite rows show the difference; the
    PostgreSQL pass, whose schema has had the aggregates from its first step, leaves them
    out)."""
    all_filter = FILTERS[0]
    paid_filter = next(f for f in FILTERS if f.code == "p")
    now = [
        *_buyer_and_order_measures(probe_order),
        Measure("admin /orders · All (count + page)", _admin_list(all_filter.statuses), False),
        Measure("admin /orders · Paid (count + page)", _admin_list(paid_filter.statuses), False),
        *_sales_measures(at),
    ]
    if not before:
        return now
    return [
        *now,
        Measure(
            "before 0003: admin /orders · All",
            _admin_list(all_filter.statuses, before_count),
            False,
        ),
        Measure(
            "before 0003: admin /orders · Paid",
            _admin_list(paid_filter.statuses, before_count),
            False,
        ),
        *_sales_measures_before_0003(at),
    ]


# The queries as they were before migration 0003 added the aggregates, kept here verbatim so
# every run shows the before/after and checks that both give the same answers (but for what
# PostgreSQL also needs to run them: the derived table's alias, and p.id in the GROUP BY
# beside l.product_id, which names the same groups).
_STATES = "'paid', 'fulfilled', 'partially_refunded', 'refunded'"


async def before_count(db: Database, statuses: frozenset[OrderStatus] | None) -> int:
    values = sorted(str(s) for s in statuses) if statuses else []
    where = f" WHERE status IN ({', '.join('?' for _ in values)})" if values else ""
    rows = list(await db.reader.execute_fetchall(f"SELECT COUNT(*) FROM orders{where}", values))  # noqa: S608
    return int(rows[0][0])


async def before_totals(db: Database, *, since: int) -> list[tuple[object, ...]]:
    rows = await db.reader.execute_fetchall(
        "SELECT currency, COUNT(*),"
        " SUM((SELECT SUM(quantity) FROM order_lines WHERE order_id = orders.id)),"
        " SUM(amount_total - amount_discount), SUM(amount_refunded)"
        " FROM orders INDEXED BY orders_by_paid_at"
        f" WHERE paid_at >= ? AND status IN ({_STATES})"  # noqa: S608
        " GROUP BY currency ORDER BY currency",
        (since,),
    )
    return [tuple(row) for row in rows]


# A line's revenue as migration 0007 counts it: its subtotal less its share of the discount.
_LINE_REVENUE = (
    "l.unit_amount * l.quantity - o.amount_discount * l.unit_amount * l.quantity / o.amount_total"
)


async def before_top_products(db: Database, *, since: int, limit: int) -> list[tuple[object, ...]]:
    rows = await db.reader.execute_fetchall(
        "SELECT product_id, title, currency, orders, units, revenue, rank FROM ("
        " SELECT l.product_id, p.title AS title, o.currency AS currency, COUNT(*) AS orders,"
        "  SUM(l.quantity) AS units, SUM(" + _LINE_REVENUE + ") AS revenue,"
        "  ROW_NUMBER() OVER ("
        "   PARTITION BY o.currency ORDER BY SUM(" + _LINE_REVENUE + ") DESC, l.product_id"
        "  ) AS rank"
        " FROM orders AS o INDEXED BY orders_by_paid_at"
        " JOIN order_lines AS l ON l.order_id = o.id JOIN products AS p ON p.id = l.product_id"
        f" WHERE o.paid_at >= ? AND o.status IN ({_STATES})"  # noqa: S608
        " GROUP BY l.product_id, p.id, o.currency"
        ") AS ranked WHERE rank <= ? ORDER BY currency, rank",
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
            problems.append(f"totals, window {window.code}")
        top = [
            (p.product_id, p.title, p.currency, p.orders, p.units, p.revenue, p.rank)
            for p in await sales.top_products(db.reader, since=since, limit=5)
        ]
        if top != await before_top_products(db, since=since, limit=5):
            problems.append(f"top products, window {window.code}")
    for f in FILTERS:
        if await orders.count(db.reader, statuses=f.statuses) != await before_count(db, f.statuses):
            problems.append(f"count, filter {f.code}")
    return problems


async def _time_once(db: Database, probe: Probe, calls: int) -> float:
    """Median seconds of `calls` back-to-back calls of one probe."""
    samples = []
    for _ in range(calls):
        began = time.perf_counter()
        await probe(db)
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


async def measure(
    dbs: dict[int, Database], at: int, rounds: int, *, before: bool = True
) -> tuple[dict[str, list[float]], dict[str, bool]]:
    """Median time of each measure at each size. The sizes and measures take turns, round
    after round, so a burst of other work on the machine lands in one round of everything
    instead of in all of one size (medians of the rounds then drop it)."""
    plans = {size: measures(at, probe_order=size // 2, before=before) for size in dbs}
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
