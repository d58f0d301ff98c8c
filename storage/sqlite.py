"""SQLite: the connection pair, pragmas and migrations of the zero-configuration default.

One process owns the database file (storage/lock.py). Writes go through a single connection
guarded by an asyncio lock so that each state change is one `BEGIN IMMEDIATE … COMMIT`
transaction that no other coroutine can interleave with; reads use a second connection, which
WAL lets run beside the writer without seeing half-done transactions.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from storage.migrations import SchemaTooNew, latest_version, steps
from storage.sql import Dialect, Row

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000

SQLITE = Dialect(
    name="sqlite",
    byte_length="length(CAST({} AS BLOB))",
    lock_rows="",
    skip_locked="",
    # Rewrites the header's unused application_id: a page into the WAL like any order would
    # write, without a table of its own (storage/health.py).
    write_probe="PRAGMA application_id = 0",
    errors=(sqlite3.Error,),
    # julianday('now') is fixed for the length of one statement, to the millisecond.
    now_us="CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)",
    greatest="MAX",
)


class SqliteConnection:
    """An aiosqlite connection as `storage.sql.Connection`: each call is one hand-off to
    aiosqlite's thread."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    @property
    def dialect(self) -> Dialect:
        return SQLITE

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        # The cursor is left to the garbage collector: closing it would be one more hand-off.
        return (await self._conn.execute(sql, args)).rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        return (await self._conn.executemany(sql, rows)).rowcount

    async def execute_fetchall(self, sql: str, args: Sequence[Any] = ()) -> Sequence[Row]:
        return list(await self._conn.execute_fetchall(sql, args))

    async def set_trace_callback(self, callback: Callable[[str], object] | None) -> None:
        """Every statement's text to `callback` (None: stop), as sqlite3 offers it."""
        await self._conn.set_trace_callback(callback)  # type: ignore[arg-type]


class SqliteDatabase:
    """Owns the writer and reader connections of one SQLite file."""

    dialect = SQLITE

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self._writer = writer
        self._reader = SqliteConnection(reader)
        self._reader_conn = reader
        self._tx = SqliteConnection(writer)
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> SqliteDatabase:
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
    async def transaction(
        self, *, durable: bool = False, serial: bool = True
    ) -> AsyncIterator[SqliteConnection]:
        """One write transaction: committed on success, rolled back on any exception. Every
        SQLite write transaction is serial (one writer); `serial` is PostgreSQL's choice.

        `durable` flushes the commit to the device before returning (`synchronous=FULL` for
        this one commit). Under the default `NORMAL` a commit survives the process dying but a
        power loss may take the last seconds' commits; that is repaired from Stripe's records
        for everything except a row that only we have and that money will later name — the
        order written before its Checkout Session exists. Those commits are durable."""
        async with self._write_lock:
            if durable:
                await self._writer.execute("PRAGMA synchronous = FULL")
            try:
                async with self._begin_commit():
                    yield self._tx
            finally:
                if durable:
                    await self._writer.execute("PRAGMA synchronous = NORMAL")

    @asynccontextmanager
    async def _begin_commit(self) -> AsyncIterator[None]:
        """`BEGIN IMMEDIATE … COMMIT` on the writer; the caller holds the write lock."""
        await self._writer.execute("BEGIN IMMEDIATE")
        try:
            yield
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
    def reader(self) -> SqliteConnection:
        """The read-only connection: single statements, never inside a write."""
        return self._reader

    @asynccontextmanager
    async def budget_connection(self) -> AsyncIterator[SqliteConnection]:
        """The send budgets' statements: the one writer is all there is, so a transaction
        (the shop keeps SQLite's budgets in memory: bot/app.py; the tests use this)."""
        async with self.transaction(serial=False) as tx:
            yield tx

    @asynccontextmanager
    async def single_statements(self) -> AsyncIterator[SqliteConnection]:
        """The writer outside any BEGIN (the connections are in autocommit): each statement is
        its own transaction, one hand-off to the writer's thread."""
        async with self._write_lock:
            yield self._tx

    async def ping(self) -> bool:
        """Whether the database answers a trivial query (for /healthz)."""
        try:
            return bool(await self._reader.execute_fetchall("SELECT 1"))
        except Exception:  # noqa: BLE001 - health must answer, not raise
            log.exception("database ping failed")
            return False

    async def listen(self, channel: str, wake: Callable[[], None]) -> None:
        """Nothing to listen to: one process owns the file and wakes its own workers."""

    async def close(self) -> None:
        await self._reader_conn.close()
        await self._writer.close()


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


async def migrate(conn: aiosqlite.Connection) -> int:
    """Apply every migration newer than `PRAGMA user_version`, each in its own transaction;
    SchemaTooNew, with nothing changed, for a database newer than this code."""
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    current = int(row[0]) if row else 0
    if current > latest_version():
        raise SchemaTooNew(current, latest_version())
    for number, sql in steps("sqlite"):
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
