"""Scenario 6 — the Buy-tap window at 1 k, 10 k and 40 k buyers active within one minute.

Every Buy tap asks the buyer's window first (shop/limits.py). A SQLite shop keeps the windows in
its memory, on the event loop; instances sharing PostgreSQL keep them as rows of the database,
one small transaction per tap that locks the buyer's row. Both are measured: the windows are
filled with N buyers who each tapped once during the last minute (a replayed clock spreads them
over it; the database's rows are written directly), then taps — half from buyers already in the
window, half from new ones, the clock moving on so the oldest are forgotten as the minute
slides — are timed: CPU seconds per tap in memory, wall seconds per tap in PostgreSQL (a
throwaway server, testkit.postgres). The goal is a constant cost per tap: the 40 k figure over
the 1 k one, measured in the same run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from bench.report import Report
from shop.context import BUY_TAPS
from shop.limits import DatabaseStates, LimitStates, MemoryStates
from storage.postgres import PostgresDatabase
from testkit.postgres import PostgresCluster

SIZES = (1_000, 10_000, 40_000)
QUICK_SIZES = (1_000, 10_000, 20_000)
DATABASE_TAPS = 2_000
WINDOW_MS = round(BUY_TAPS.seconds * 1000)
GOAL_RATIO = 2.0
SCENARIO = "6 buy window"


async def _taps(states: LimitStates, active: int, taps: int, start_ms: float) -> None:
    step_ms = WINDOW_MS / active
    moment = start_ms
    for tap in range(taps):
        buyer = tap // 2 if tap % 2 else active + tap
        await states.apply(BUY_TAPS, str(buyer), at_ms=round(moment))
        moment += step_ms


async def memory_cost(active: int, repeats: int = 3) -> float:
    """Median CPU seconds per tap with `active` buyers in this process's windows."""
    samples = []
    for _ in range(repeats):
        states = MemoryStates()
        await _taps(states, active, active, 0.0)  # each buyer once, over the last minute
        began = time.process_time()
        await _taps(states, active, active, WINDOW_MS)
        samples.append((time.process_time() - began) / active)
        assert len(states) <= 2 * active  # only the last minute's buyers are remembered
    return sorted(samples)[len(samples) // 2]


async def database_cost(cluster: PostgresCluster, active: int) -> float:
    """Wall seconds per tap with `active` buyers' rows in PostgreSQL."""
    db = await PostgresDatabase.open(cluster.create_database(f"window_{active}"))
    try:
        step_ms = WINDOW_MS / active
        async with db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO rate_limits (scope, subject, state, expires_ms) VALUES (?, ?, ?, ?)",
                (
                    (BUY_TAPS.scope, str(buyer), str(at), at + WINDOW_MS)
                    for buyer in range(active)
                    for at in [round(buyer * step_ms)]
                ),
            )
        began = time.perf_counter()
        await _taps(DatabaseStates(db), active, DATABASE_TAPS, WINDOW_MS)
        return (time.perf_counter() - began) / DATABASE_TAPS
    finally:
        await db.close()


def _rows(report: Report, store: str, sizes: Sequence[int], costs: Sequence[float]) -> None:
    ratio = costs[-1] / costs[0]
    report.add(
        SCENARIO,
        f"{store} per Buy tap at "
        + " · ".join(f"{size // 1000} k" for size in sizes)
        + " buyers/min",
        " · ".join(f"{cost * 1e6:.1f} µs" for cost in costs),
    )
    report.add(
        SCENARIO,
        f"{store}: {sizes[-1] // 1000} k / {sizes[0] // 1000} k active buyers",
        f"{ratio:.2f}×",
        f"≤ {GOAL_RATIO:.0f}×",
        ratio <= GOAL_RATIO,
    )


async def run(report: Report, *, quick: bool) -> None:
    sizes = QUICK_SIZES if quick else SIZES
    _rows(report, "memory (SQLite) CPU", sizes, [await memory_cost(size) for size in sizes])
    cluster = await asyncio.to_thread(PostgresCluster.start)
    try:
        costs = [await database_cost(cluster, size) for size in sizes]
    finally:
        await asyncio.to_thread(cluster.stop)
    _rows(report, "database (PostgreSQL) wall", sizes, costs)
