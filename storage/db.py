"""The SQLite connection pair, pragmas and numbered migrations.

One process owns the database file. Writes go through a single connection guarded by an
asyncio lock so that each state change is one `BEGIN IMMEDIATE … COMMIT` transaction that no
other coroutine can interleave with; reads use a second connection, which WAL lets run beside
the writer without seeing half-done transactions.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class Database:
    """Owns the writer and reader connections of one SQLite file."""

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> Database:
        """Open (creating if needed) the file, apply pragmas and pending migrations."""
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = await _connect(path)
        try:
            await migrate(writer)
            reader = await _connect(path)
        except BaseException:
            await writer.close()
            raise
        return cls(writer, reader)

    @asynccontextmanager
    async def transaction(self, *, durable: bool = False) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction: committed on success, rolled back on any exception.

        `durable` flushes the commit to the device before returning (`synchronous=FULL` for
        this one commit). Under the default `NORMAL` a commit survives the process dying but a
        power loss may take the last seconds' commits; that is repaired from Stripe's records
        for everything except a row that only we have and that money will later name — the
        order written before its Checkout Session exists. Those commits are durable."""
        async with self._write_lock:
            if durable:
                await self._writer.execute("PRAGMA synchronous = FULL")
            try:
                async with self._begin_commit() as writer:
                    yield writer
            finally:
                if durable:
                    await self._writer.execute("PRAGMA synchronous = NORMAL")

    @asynccontextmanager
    async def _begin_commit(self) -> AsyncIterator[aiosqlite.Connection]:
        """`BEGIN IMMEDIATE … COMMIT` on the writer; the caller holds the write lock."""
        await self._writer.execute("BEGIN IMMEDIATE")
        try:
            yield self._writer
        except BaseException:
            await self._writer.rollback()
            raise
        else:
            try:
                await self._writer.commit()
            except BaseException:
                # A commit the disk refused (full, read-only, I/O error) may leave the
                # transaction open; close it, or every later BEGIN would fail too.
                if self._writer.in_transaction:
                    await self._writer.rollback()
                raise

    @property
    def reader(self) -> aiosqlite.Connection:
        """The read-only connection: single statements, never inside a write."""
        return self._reader

    async def ping(self) -> bool:
        """Whether the database answers a trivial query (for /healthz)."""
        try:
            async with self._reader.execute("SELECT 1") as cursor:
                return await cursor.fetchone() is not None
        except Exception:  # noqa: BLE001 - health must answer, not raise
            log.exception("database ping failed")
            return False

    async def close(self) -> None:
        await self._reader.close()
        await self._writer.close()


async def fetch_one(
    conn: aiosqlite.Connection, sql: str, args: Iterable[Any] = ()
) -> aiosqlite.Row | None:
    """The first row of a one-row query, in one hand-off to aiosqlite's thread.

    `async with conn.execute(…) as cursor: await cursor.fetchone()` crosses to the SQLite thread
    and back three times (execute, fetch, close). Each crossing waits for an event-loop
    iteration, and inside a write transaction the write lock is held all the while, so under
    load the crossings, not SQLite, set the pace: the webhook made 12 per event (bench/,
    scenario 1). Use only for queries that return at most a few rows."""
    for row in await conn.execute_fetchall(sql, args):
        return row
    return None


async def fetch_all(
    conn: aiosqlite.Connection, sql: str, args: Iterable[Any] = ()
) -> list[aiosqlite.Row]:
    """Every row of a query, in one hand-off to aiosqlite's thread (see `fetch_one`)."""
    return list(await conn.execute_fetchall(sql, args))


async def _connect(path: Path) -> aiosqlite.Connection:
    """A connection with the shop's pragmas, closed again if the file refuses them.

    A corrupt file fails only at the first statement; an aiosqlite connection left open then
    keeps its thread alive and the process never exits."""
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        conn.row_factory = aiosqlite.Row
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        await conn.close()
        raise
    return conn


def _migrations() -> list[tuple[int, str]]:
    found = []
    for entry in resources.files("storage.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [number for number, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations must be numbered 0001, 0002, … without gaps: {numbers}")
    return found


def latest_schema_version() -> int:
    """The `user_version` a database has once every migration shipped with this code ran."""
    return _migrations()[-1][0]


class SchemaTooNew(Exception):
    """The database was migrated by a newer version of the shop than this code (a rollback
    deploy): this code does not know its tables, so it must not run on them."""

    def __init__(self, found: int, known: int) -> None:
        self.found, self.known = found, known
        super().__init__(
            f"its schema is version {found}, newer than this code's {known}: a newer version "
            "of the shop migrated it. Run that version (or one newer), or restore a backup made "
            f"at schema {known}"
        )


async def migrate(conn: aiosqlite.Connection) -> int:
    """Apply every migration newer than `PRAGMA user_version`, each in its own transaction;
    SchemaTooNew, with nothing changed, for a database newer than this code."""
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    current = int(row[0]) if row else 0
    if current > latest_schema_version():
        raise SchemaTooNew(current, latest_schema_version())
    for number, sql in _migrations():
        if number <= current:
            continue
        log.info("applying migration %04d", number)
        await _apply(conn, number, sql)
        current = number
    return current


async def _apply(conn: aiosqlite.Connection, number: int, sql: str) -> None:
    """One migration in one transaction, with foreign keys checked once, before it commits.

    SQLite's documented way to rebuild a table that others refer to (migration 0007 rebuilds
    `orders`): foreign keys off (it cannot change inside a transaction), the change, then
    `PRAGMA foreign_key_check` must find nothing, or the whole step is rolled back."""
    await conn.execute("PRAGMA foreign_keys = OFF")
    try:
        await conn.executescript(f"BEGIN IMMEDIATE;\n{sql}\n;")
        broken = await conn.execute_fetchall("PRAGMA foreign_key_check")
        if broken:
            raise RuntimeError(f"migration {number:04d} leaves broken references: {list(broken)}")
        # Not executescript: it would commit first, before the version is written.
        await conn.execute(f"PRAGMA user_version = {number}")
        await conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            await conn.rollback()
        raise
    finally:
        await conn.execute("PRAGMA foreign_keys = ON")
