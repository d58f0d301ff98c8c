"""Scenario 4 — growth: the queries behind buyer /orders, admin /orders and /sales at 1 k,
100 k and 1 M orders, on SQLite and then on PostgreSQL.

The orders are generated straight into SQLite (bench/growth_data.py), spread evenly over the
year before now, so every window of /sales holds the same share of them at every size and growth
shows up as growth. Then the very storage functions the handlers call (bench/growth_probes.py)
are timed on the shop's own `Database` (aiosqlite, reader connection), so thread hops and row
decoding are included, as a chat command would see them. The same orders are then loaded into
PostgreSQL and the same functions timed through the shop's PostgresDatabase
(bench/growth_postgres.py): issue 15 asks for growth to be flat on both engines.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from bench import growth_postgres
from bench.growth_data import PROBE_ORDERS, PRODUCTS, generate
from bench.growth_postgres import Plans
from bench.growth_probes import Outcome, cross_check, measure
from bench.report import Report
from storage.db import Database
from storage.sqlite import SqliteDatabase

__all__ = ["cross_check", "run"]  # bench/flash.py checks its own database with cross_check

SIZES = (1_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 10_000, 100_000)
GOAL_RATIO = 2.0
ROUNDS = 5


@asynccontextmanager
async def _on_sqlite(
    workdir: Path, sizes: Sequence[int], at: int
) -> AsyncIterator[tuple[Outcome, dict[int, Database]]]:
    """Every size generated and cross-checked, open while the block runs (the PostgreSQL
    pass compares its aggregates with theirs), then removed."""
    outcome = Outcome()
    dbs: dict[int, Database] = {}
    try:
        for size in sizes:
            path = workdir / f"growth-{size}.db"
            db = await SqliteDatabase.open(path)  # the shop's migrations, nothing else
            await db.close()
            began = time.perf_counter()
            await asyncio.to_thread(generate, path, size, at)
            outcome.generation.append(f"{size:,}: {time.perf_counter() - began:.1f} s")
            dbs[size] = await SqliteDatabase.open(path)
            outcome.mismatches += [f"{size:,}: {p}" for p in await cross_check(dbs[size], at)]
        yield outcome, dbs
    finally:
        for size, opened in dbs.items():
            await opened.close()
            path = workdir / f"growth-{size}.db"
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)


def _report(report: Report, prefix: str, sizes: Sequence[int], outcome: Outcome) -> None:
    """One row per measure (the ≤ 2× goal on the keyed ones), then the cross-check."""
    big, small = sizes[-1], sizes[0]
    label = "1 M / 1 k" if big == 1_000_000 else f"{big:,} / {small:,}"
    for name, values in outcome.timings.items():
        ratio = values[-1] / values[0]
        shown = " · ".join(_ms(v) for v in values)
        measure_label = f"{prefix}{name}: {label}"
        if outcome.keyed[name]:
            report.add(
                "4 growth",
                measure_label,
                f"{shown} → {ratio:.1f}×",
                f"≤ {GOAL_RATIO:g}×",
                ratio <= GOAL_RATIO,
            )
        else:
            report.add("4 growth", measure_label, f"{shown} → {ratio:.0f}×")
    mismatches = outcome.mismatches
    report.add(
        "4 growth",
        f"{prefix}aggregate answers = direct queries (all windows and filters, all sizes)",
        "yes" if not mismatches else "NO: " + "; ".join(mismatches),
        "equal",
        not mismatches,
    )


def _report_postgres(
    report: Report, sizes: Sequence[int], chosen: Plans, differences: list[str]
) -> None:
    report.add(
        "4 growth",
        "PostgreSQL: aggregate rows = those SQLite's triggers built from the same orders "
        "(storage.copy's check, all sizes)",
        "yes" if not differences else "NO: " + "; ".join(differences),
        "equal",
        not differences,
    )
    report.add(
        "4 growth",
        f"PostgreSQL: sequential scans of orders, lines or deliveries in the probes' plans at "
        f"{sizes[-1]:,} (EXPLAIN)",
        "; ".join(chosen.scans) if chosen.scans else "none",
        "none",
        not chosen.scans,
    )


async def run(report: Report, workdir: Path, *, quick: bool) -> None:
    sizes = QUICK_SIZES if quick else SIZES
    at = int(time.time())
    async with _on_sqlite(workdir, sizes, at) as (sqlite, dbs):
        sqlite.timings, sqlite.keyed = await measure(dbs, at, ROUNDS)
        postgres, chosen, differences = await growth_postgres.measured(dbs, at, ROUNDS)
    _report(report, "", sizes, sqlite)
    _report(report, "PostgreSQL: ", sizes, postgres)
    _report_postgres(report, sizes, chosen, differences)
    report.section(
        "4. Growth",
        [
            f"Sizes {', '.join(f'{s:,}' for s in sizes)} orders over the last 365 days "
            f"({PRODUCTS} products in usd and eur, about 5 orders per buyer, the probed buyer "
            f"has {PROBE_ORDERS}; one goods delivery per paid order). Times are medians of "
            "repeated calls of the handlers' storage functions on the shop's reader "
            "connection. Generation (executemany in one transaction, through the shop's "
            f"migrations): {'; '.join(sqlite.generation)}.",
            "",
            "PostgreSQL (the rows marked so): the same orders, from the same seeded generator, "
            "loaded with COPY in one transaction into a database the shop's migrations made, "
            "on a durable throwaway server (fsync and synchronous commits on); the aggregates "
            "summed by one INSERT … SELECT each in the same transaction (the triggers, which "
            "make a bulk load quadratic, off for that session; bench/growth_postgres.py says "
            "why) and held to be equal to those SQLite's triggers built, then VACUUM ANALYZE. "
            "The same "
            "storage functions are timed through the shop's PostgresDatabase (its pool; each "
            "statement takes a pooled connection, as a chat command's read does). The 'before "
            "0003' queries are not timed there (its schema had the aggregates from its first "
            "step), only used for the cross-check. Loading (COPY, sums, VACUUM ANALYZE): "
            f"{'; '.join(postgres.generation)}. The planner's choices at "
            f"{sizes[-1]:,} orders (EXPLAIN of every statement the probes run): indexes "
            f"{', '.join(f'`{name}`' for name in sorted(chosen.indexes))}.",
        ],
    )


def _ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:.2f} ms" if ms < 10 else f"{ms:.0f} ms"
