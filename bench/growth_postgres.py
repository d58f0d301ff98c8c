"""Scenario 4 on PostgreSQL: the same orders, the same questions, through `PostgresDatabase`.

Issue 15 asks for growth to a million orders to stay flat on PostgreSQL too. The orders are
the very rows bench/growth_data.py writes into SQLite (one seeded generator), loaded with COPY
in one transaction into a database the shop's own migrations created.

The aggregates (order_counts, sales_daily, …) are built after the load by one INSERT … SELECT
each (storage/aggregates_rebuild.py, the very statements `python -m storage.copy` runs), with
the triggers off for the loading session. Loading with them on is quadratic: every
order's trigger updates the same few rows (the currency's total, the status's count), and
inside one transaction each update adds a version that the next must step over, so 10,000
orders took 2 s and 100,000 took over two minutes. The set-based sums mirror the triggers'
arithmetic (integer division per line included), and two checks hold them to it: the
aggregate rows must equal, row for row, the ones SQLite's triggers built from the same orders
(storage.copy's own comparison), and `cross_check` compares every window and filter with
direct queries. Then the identity sequences are moved past the loaded ids (storage.copy's
`reset_sequences`), and VACUUM ANALYZE gives the planner its statistics, as autovacuum would
after such a load.

The planner may pick any plan, so the report also shows what it picked: every statement the
probes run at the largest size is EXPLAINed, and a sequential scan of orders, order_lines or
deliveries is reported by name (at 1 k orders a scan is the right plan; at 1 M it would be
the growth the probes are there to catch).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

import psycopg

from bench.growth_data import (
    CHUNK,
    DELIVERY_COLUMNS,
    LINE_COLUMNS,
    ORDER_COLUMNS,
    PRODUCT_COLUMNS,
    OrderRows,
    delivery_rows,
    prices,
    product_rows,
)
from bench.growth_probes import Outcome, cross_check, measure, measures
from storage.aggregates_rebuild import REBUILD
from storage.copy_checks import figures_of
from storage.copy_tables import check_schemas, reset_sequences
from storage.db import Database
from storage.postgres import PostgresDatabase
from storage.sql import Connection, Dialect, Row
from testkit.postgres import PostgresCluster

BIG_TABLES = frozenset({"orders", "order_lines", "deliveries"})


async def load(url: str, count: int, at: int, seed: int = 5) -> None:
    """Fill the shop's empty, migrated database with `count` orders (as growth_data.generate
    does for SQLite), their lines and a goods delivery for each paid one, then the aggregates,
    in one transaction."""
    rng = random.Random(seed)
    async with await psycopg.AsyncConnection.connect(url) as conn, conn.cursor() as cursor:
        # This session's triggers off (the cluster's user is its superuser): see the docstring.
        await cursor.execute("SET session_replication_role = replica")
        products = product_rows(at)
        marks = ", ".join(["%s"] * len(products[0]))
        await cursor.executemany(
            f"INSERT INTO products ({PRODUCT_COLUMNS}) VALUES ({marks})",  # noqa: S608
            products,
        )
        orders = OrderRows(rng, prices(products), count, at)
        # In chunks, so a million orders never sit in memory at once.
        for first in range(1, count + 1, CHUNK):
            rows = orders.rows(first, min(first + CHUNK - 1, count))
            chunk = [order for order, _ in rows]
            await _copy(cursor, "orders", ORDER_COLUMNS, chunk)
            await _copy(cursor, "order_lines", LINE_COLUMNS, [line for _, line in rows])
            await _copy(cursor, "deliveries", DELIVERY_COLUMNS, delivery_rows(chunk))
        for statement in REBUILD:
            await cursor.execute(statement)
    # Leaving the connection's block committed the one transaction.


async def _copy(
    cursor: psycopg.AsyncCursor[Any], table: str, columns: str, rows: Iterable[Sequence[object]]
) -> None:
    async with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            await copy.write_row(row)


async def _settle(url: str) -> None:
    """VACUUM ANALYZE after the load (outside any transaction, as VACUUM must be)."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("VACUUM (ANALYZE)")


class _NotingReader:
    """The reader of a database that also notes every statement it runs, with its arguments."""

    def __init__(self, inner: Connection) -> None:
        self._inner = inner
        self.seen: list[tuple[str, tuple[Any, ...]]] = []

    @property
    def dialect(self) -> Dialect:
        return self._inner.dialect

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        self.seen.append((sql, tuple(args)))
        return await self._inner.execute(sql, args)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        return await self._inner.executemany(sql, rows)

    async def execute_fetchall(self, sql: str, args: Sequence[Any] = ()) -> Sequence[Row]:
        self.seen.append((sql, tuple(args)))
        return await self._inner.execute_fetchall(sql, args)


class _Noting:
    """A `Database` whose reads are noted (`reader.seen`); everything else is the real one's."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._reader = _NotingReader(db.reader)

    @property
    def dialect(self) -> Dialect:
        return self._db.dialect

    def transaction(
        self, *, durable: bool = False, serial: bool = True
    ) -> AbstractAsyncContextManager[Connection]:
        return self._db.transaction(durable=durable, serial=serial)

    @property
    def reader(self) -> _NotingReader:
        return self._reader

    def budget_connection(self) -> AbstractAsyncContextManager[Connection]:
        return self._db.budget_connection()

    def single_statements(self) -> AbstractAsyncContextManager[Connection]:
        return self._db.single_statements()

    async def ping(self) -> bool:
        return await self._db.ping()

    async def listen(self, channel: str, wake: Any) -> None:
        await self._db.listen(channel, wake)

    async def close(self) -> None:
        await self._db.close()


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


@dataclass
class Plans:
    """What the planner chose for the probes' statements at one size."""

    scans: list[str] = field(default_factory=list)  # "probe: Seq Scan on table"
    indexes: set[str] = field(default_factory=set)


async def plans(db: Database, at: int, probe_order: int) -> Plans:
    """EXPLAIN every statement each probe runs (as it runs it, arguments and all)."""
    found = Plans()
    for m in measures(at, probe_order, before=False):
        noting = _Noting(db)
        await m.probe(noting)
        for sql, args in noting.reader.seen:
            rows = await db.reader.execute_fetchall("EXPLAIN (FORMAT JSON) " + sql, args)
            for node in _nodes(rows[0][0][0]["Plan"]):
                if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in BIG_TABLES:
                    found.scans.append(f"{m.name}: Seq Scan on {node['Relation Name']}")
                if "Index Name" in node:
                    found.indexes.add(str(node["Index Name"]))
    return found


async def aggregate_differences(built: Database, loaded: Database) -> list[str]:
    """Where the loaded database differs from the one whose triggers built its aggregates from
    the same orders: storage.copy's own comparison (row counts, money and stock totals, and
    every non-zero aggregate row)."""
    columns = await check_schemas(built.reader, loaded.reader)
    expected = await figures_of(built.reader, columns)
    return expected.differences(await figures_of(loaded.reader, columns))


@contextlib.asynccontextmanager
async def _cluster() -> AsyncIterator[PostgresCluster]:
    """A durable throwaway server (as the webhook's: fsync and synchronous commits on)."""
    cluster = await asyncio.to_thread(PostgresCluster.start, durable=True)
    try:
        yield cluster
    finally:
        await asyncio.to_thread(cluster.stop)


async def measured(
    built: dict[int, Database], at: int, rounds: int
) -> tuple[Outcome, Plans, list[str]]:
    """Every size loaded into its own database and checked (against direct queries, and
    against `built`: SQLite databases of the same orders whose triggers made the aggregates),
    then the probes timed through the shop's own PostgresDatabase (its pool, as a chat command
    reads); the plans at the largest size; where the aggregates differ from SQLite's."""
    sizes = sorted(built)
    outcome = Outcome()
    differences: list[str] = []
    dbs: dict[int, Database] = {}
    async with _cluster() as cluster:
        try:
            for size in sizes:
                url = await asyncio.to_thread(cluster.create_database, f"growth_{size}")
                db = await PostgresDatabase.open(url)  # the shop's migrations, nothing else
                dbs[size] = db
                began = time.perf_counter()
                await load(url, size, at)
                async with db.transaction() as tx:
                    await reset_sequences(tx)
                await _settle(url)
                outcome.generation.append(f"{size:,}: {time.perf_counter() - began:.1f} s")
                outcome.mismatches += [f"{size:,}: {p}" for p in await cross_check(db, at)]
                found = await aggregate_differences(built[size], db)
                differences += [f"{size:,}: {d}" for d in found]
            chosen = await plans(dbs[sizes[-1]], at, probe_order=sizes[-1] // 2)
            outcome.timings, outcome.keyed = await measure(dbs, at, rounds, before=False)
        finally:
            for opened in dbs.values():
                await opened.close()
    return outcome, chosen, differences
