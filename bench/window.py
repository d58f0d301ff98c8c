"""Scenario 6 — the Buy-tap window at 1 k, 10 k and 40 k buyers active within one minute.

Every Buy tap asks the buyer's window first (shop/limits.py), in the database so that several
instances count together: one small transaction that locks the buyer's row, decides and
writes it back. The window is filled with N buyers who each tapped once during the last minute
(their rows written directly, spread over it), then `TAPS` more taps — half from buyers
already in the window, half from new ones, the replayed clock moving on so the oldest rows are
forgotten as the minute slides — are timed, in wall and CPU seconds (the process's, the
database thread's included), on the default engine, SQLite. The goal is a constant cost per tap:
the 40 k figure over the 1 k one, measured in the same run.
"""

from __future__ import annotations

import time
from pathlib import Path

from bench.report import Report
from shop.context import BUY_TAPS
from storage import limits
from storage.sqlite import SqliteDatabase

SIZES = (1_000, 10_000, 40_000)
QUICK_SIZES = (1_000, 10_000, 20_000)
TAPS = 2_000
WINDOW_MS = round(BUY_TAPS.seconds * 1000)
GOAL_RATIO = 2.0
SCENARIO = "6 buy window"


async def _fill(db: SqliteDatabase, active: int, step_ms: float) -> None:
    """`active` buyers who tapped once each during the last minute."""
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO rate_limits (scope, subject, state, expires_ms) VALUES (?, ?, ?, ?)",
            (
                (BUY_TAPS.scope, str(buyer), str(at), at + WINDOW_MS)
                for buyer in range(active)
                for at in [round(buyer * step_ms)]
            ),
        )


async def cost_per_tap(folder: Path, active: int) -> tuple[float, float]:
    """Wall and CPU seconds per tap with `active` buyers in the window."""
    db = await SqliteDatabase.open(folder / f"window-{active}.db")
    try:
        step_ms = WINDOW_MS / active
        await _fill(db, active, step_ms)
        moment = float(WINDOW_MS)
        began, cpu = time.perf_counter(), time.process_time()
        for tap in range(TAPS):
            buyer = tap // 2 if tap % 2 else active + tap
            async with db.transaction() as tx:
                await limits.take_window(
                    tx, BUY_TAPS.scope, str(buyer), BUY_TAPS.limit, WINDOW_MS, at_ms=round(moment)
                )
            if tap % 500 == 499:  # what Limits does once a minute, here every few hundred
                async with db.transaction() as tx:
                    await limits.forget_expired(tx, at_ms=round(moment))
            moment += step_ms
        return (time.perf_counter() - began) / TAPS, (time.process_time() - cpu) / TAPS
    finally:
        await db.close()


async def run(report: Report, workdir: Path, *, quick: bool) -> None:
    sizes = QUICK_SIZES if quick else SIZES
    costs = [await cost_per_tap(workdir, size) for size in sizes]
    ratio = costs[-1][0] / costs[0][0]
    report.add(
        SCENARIO,
        "wall · CPU per Buy tap at "
        + " · ".join(f"{size // 1000} k" for size in sizes)
        + " buyers/min (SQLite)",
        " · ".join(f"{wall * 1e3:.2f} ms · {cpu * 1e3:.2f} ms" for wall, cpu in costs),
    )
    report.add(
        SCENARIO,
        f"wall per tap: {sizes[-1] // 1000} k / {sizes[0] // 1000} k active buyers",
        f"{ratio:.2f}×",
        f"≤ {GOAL_RATIO:.0f}×",
        ratio <= GOAL_RATIO,
    )
