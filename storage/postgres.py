"""PostgreSQL: a psycopg 3 connection pool behind the same repository functions as SQLite.

Several identical instances of the shop may share the database, so nothing here assumes it is
alone: every write is a transaction on a pooled connection, the migrations run under an
advisory lock (a second instance starting at the same moment waits, then finds them done), and
the repository functions take rows from each other with the dialect's row locks.

Pooled connections are in autocommit (a read is one statement, never an open transaction
holding back vacuum) and never prepare statements (`prepare_threshold=None`), so the shop
works behind PgBouncer's transaction pooling.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from functools import lru_cache
from typing import Any

import psycopg
import psycopg.conninfo
import psycopg_pool
from psycopg import sql
from psycopg.abc import Buffer
from psycopg.adapt import Dumper, Loader
from psycopg.rows import RowMaker

from storage.migrations import SchemaTooNew, latest_version, steps
from storage.sql import Dialect, Row

log = logging.getLogger(__name__)

POOL_MIN = 1
POOL_MAX = 10
# The send budgets' slots (storage/budgets.py) are taken on a connection of their own, so that a
# slot never waits for a pooled connection behind the shop's other work: with several busy
# instances the pool is often empty for tens of milliseconds, and a slot taken that late is
# throughput lost for every instance (the grid's slack is a quarter of an interval).
BUDGET_POOL_MAX = 1
CONNECT_TIMEOUT_SECONDS = 10
LISTEN_RETRY_SECONDS = 2.0
# Any two instances agree on these numbers: the migrations run under the first, one instance at
# a time; serial write transactions under the second, one at a time across all instances.
MIGRATION_LOCK = 0x73686F70  # "shop"
SERIAL_WRITES_LOCK = 0x77726974  # "writ"

POSTGRESQL = Dialect(
    name="postgresql",
    byte_length="octet_length({})",
    lock_rows=" FOR UPDATE",
    skip_locked=" FOR UPDATE SKIP LOCKED",
    write_probe=(
        "INSERT INTO job_state (name, value, updated_at) VALUES ('health.write_probe', '', 0)"
        " ON CONFLICT (name) DO UPDATE SET updated_at = 0"
    ),
    errors=(psycopg.Error, psycopg_pool.PoolTimeout),
    # clock_timestamp(): read where it is evaluated — in an upsert's SET, after the row lock
    # it may have waited for, so a slot taken after a wait is taken at the end of it.
    now_us="CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)",
    greatest="GREATEST",
)


class DatabaseUnreachable(Exception):
    """PostgreSQL could not be reached or refused us at start; the message is one line with
    the server and the reason, never the password."""


class PgRow:
    """A row read by position or by column name, as sqlite3.Row is."""

    __slots__ = ("_names", "_values")

    def __init__(self, values: Sequence[Any], names: dict[str, int]) -> None:
        self._values = values
        self._names = names

    def __getitem__(self, key: int | str, /) -> Any:
        if isinstance(key, str):
            return self._values[self._names[key]]
        return self._values[key]

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Any:
        return iter(self._values)

    def __eq__(self, other: object) -> bool:
        return tuple(self._values) == (tuple(other) if isinstance(other, PgRow | tuple) else other)

    def __hash__(self) -> int:
        return hash(tuple(self._values))

    def __repr__(self) -> str:
        return f"PgRow{tuple(self._values)!r}"

    def keys(self) -> list[str]:
        return list(self._names)


def _pg_row(cursor: psycopg.AsyncCursor[Any]) -> RowMaker[PgRow]:
    names = {column.name: i for i, column in enumerate(cursor.description or ())}
    return lambda values: PgRow(values, names)


class _WholeNumberLoader(Loader):
    """`numeric` as int when it is a whole number: SUM over BIGINT columns is `numeric`, and
    money is integer minor units everywhere (SQLite gives ints for the same sums)."""

    def load(self, data: Buffer) -> int | Decimal:
        text = bytes(data).decode("ascii")
        return int(text) if text.lstrip("-").isdigit() else Decimal(text)


class _BoolAsIntDumper(Dumper):
    """Python's True/False as 1/0: the schema keeps SQLite's 0/1 integer flags (with their
    CHECKs) on both engines, so the repository functions pass plain booleans to either."""

    oid = psycopg.adapters.types["int8"].oid

    def dump(self, obj: bool) -> Buffer:
        return b"1" if obj else b"0"


_INDEX_HINT = re.compile(r"\s+INDEXED BY \w+")


@lru_cache(maxsize=2048)
def to_pyformat(sql: str) -> str:
    """A repository statement as PostgreSQL takes it: the shop's `?` placeholders as psycopg's
    `%s` (a literal `%` as `%%`), and without SQLite's `INDEXED BY` hints (which make SQLite
    refuse to run rather than scan, should an index go; PostgreSQL's planner takes no hints)."""
    return _INDEX_HINT.sub("", sql).replace("%", "%%").replace("?", "%s")


class PgConnection:
    """A pooled psycopg connection as `storage.sql.Connection`."""

    def __init__(self, conn: psycopg.AsyncConnection[PgRow]) -> None:
        self._conn = conn

    @property
    def dialect(self) -> Dialect:
        return POSTGRESQL

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        cursor = await self._conn.execute(to_pyformat(sql), tuple(args))
        return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        async with self._conn.cursor() as cursor:
            await cursor.executemany(to_pyformat(sql), [tuple(row) for row in rows])
            return cursor.rowcount

    async def execute_fetchall(self, sql: str, args: Sequence[Any] = ()) -> Sequence[Row]:
        cursor = await self._conn.execute(to_pyformat(sql), tuple(args))
        return await cursor.fetchall() if cursor.description is not None else []

    @asynccontextmanager
    async def copy_from(
        self, table: str, columns: Sequence[str]
    ) -> AsyncIterator[Callable[[Sequence[Any]], Awaitable[None]]]:
        """`COPY table (columns) FROM STDIN` in this connection's transaction: the writer of
        one row at a time (values as for `execute`), flushed in large buffers. For bulk loads
        (`python -m storage.copy`): one statement for any number of rows, where `executemany`
        costs the server a statement per row."""
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        async with self._conn.cursor() as cursor, cursor.copy(statement) as copy:
            yield copy.write_row


_Pool = psycopg_pool.AsyncConnectionPool[psycopg.AsyncConnection[PgRow]]


class PgPoolReader:
    """Reads outside any transaction: each statement on whichever pooled connection is free."""

    def __init__(self, pool: _Pool):
        self._pool = pool

    @property
    def dialect(self) -> Dialect:
        return POSTGRESQL

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        async with self._pool.connection() as conn:
            return await PgConnection(conn).execute(sql, args)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        async with self._pool.connection() as conn:
            return await PgConnection(conn).executemany(sql, rows)

    async def execute_fetchall(self, sql: str, args: Sequence[Any] = ()) -> Sequence[Row]:
        async with self._pool.connection() as conn:
            return await PgConnection(conn).execute_fetchall(sql, args)


class PostgresDatabase:
    """The pool of one shop's PostgreSQL database."""

    dialect = POSTGRESQL

    def __init__(self, url: str, pool: _Pool, budget_pool: _Pool) -> None:
        self._url = url
        self._pool = pool
        self._budget_pool = budget_pool
        self._reader = PgPoolReader(pool)
        self._serial_turn = asyncio.Lock()

    @classmethod
    async def open(cls, url: str, *, max_size: int = POOL_MAX) -> PostgresDatabase:
        """Reach the server (DatabaseUnreachable, in one line, when we cannot), apply pending
        migrations, and open the pool."""
        await _check_reachable(url)
        pool = _pool(url, max_size, "shop")
        budget_pool = _pool(url, BUDGET_POOL_MAX, "shop-budgets")
        try:
            await pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS)
            async with pool.connection() as conn:
                await migrate(conn)
            await budget_pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS)
        except BaseException:
            await budget_pool.close()
            await pool.close()
            raise
        return cls(url, pool, budget_pool)

    @asynccontextmanager
    async def transaction(
        self, *, durable: bool = False, serial: bool = True
    ) -> AsyncIterator[PgConnection]:
        """One write transaction on one pooled connection: committed on success, rolled back
        on any exception. Every commit is durable on PostgreSQL (`synchronous_commit` is the
        server's, on by default), so `durable` asks for nothing more.

        `serial` (the default) first takes one transaction-level advisory lock that every
        instance shares: serial transactions run one at a time, as every write does on SQLite,
        so a use-case that reads an order, decides and writes stays right however many
        instances run it at once (two events of one order, a refund beside a payment), and the
        aggregate rows its triggers move are never taken in two orders (no deadlock). Paths
        written to be safe side by side — claims with `SKIP LOCKED`, single-statement upserts:
        the inbox, the outbox's claims, leases, send budgets — pass `serial=False`.

        This process's serial transactions queue here first, one at a time, before they take a
        pooled connection: waiting for the shared lock then holds one connection, not the whole
        pool. In a flash sale on several instances every pooled connection sat in the lock's
        queue, and the reads of every other tap (and of the lock's holder's next step) waited
        for a connection behind them (`make bench` scenario 8)."""
        if not serial:
            async with self._pool.connection() as conn, conn.transaction():
                yield PgConnection(conn)
            return
        async with self._serial_turn, self._pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (SERIAL_WRITES_LOCK,))
            yield PgConnection(conn)

    @property
    def reader(self) -> PgPoolReader:
        """Single statements outside any transaction, on whichever connection is free."""
        return self._reader

    @asynccontextmanager
    async def budget_connection(self) -> AsyncIterator[PgConnection]:
        """The connection kept for the send budgets (BUDGET_POOL_MAX): each statement on it
        commits on its own (autocommit), one round trip, and never waits behind the pool."""
        async with self._budget_pool.connection() as conn:
            yield PgConnection(conn)

    @asynccontextmanager
    async def single_statements(self) -> AsyncIterator[PgConnection]:
        """A pooled connection as it is (autocommit): each statement commits on its own."""
        async with self._pool.connection() as conn:
            yield PgConnection(conn)

    async def ping(self) -> bool:
        """Whether the server answers a trivial query (for /healthz)."""
        try:
            return bool(await self._reader.execute_fetchall("SELECT 1"))
        except POSTGRESQL.errors as error:
            log.warning("database ping failed: %s", _one_line(error))
            return False

    async def listen(self, channel: str, wake: Callable[[], None]) -> None:
        """Call `wake` at every NOTIFY on `channel` (another instance owes something), until
        cancelled. A lost connection is made again; `wake` is called on every (re)connect,
        since what was announced meanwhile is gone."""
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
                ) as conn:
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    wake()
                    async for _ in conn.notifies():
                        wake()
            except psycopg.Error as error:
                log.warning("listening on %s failed (%s); again shortly", channel, _one_line(error))
                await asyncio.sleep(LISTEN_RETRY_SECONDS)

    async def close(self) -> None:
        await self._budget_pool.close()
        await self._pool.close()


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    conn.adapters.register_loader("numeric", _WholeNumberLoader)
    conn.adapters.register_dumper(bool, _BoolAsIntDumper)


def _pool(url: str, max_size: int, name: str) -> _Pool:
    return psycopg_pool.AsyncConnectionPool(
        url,
        connection_class=psycopg.AsyncConnection[PgRow],
        kwargs={
            "autocommit": True,
            "prepare_threshold": None,
            "row_factory": _pg_row,
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        },
        min_size=min(POOL_MIN, max_size),
        max_size=max_size,
        open=False,
        configure=_configure,
        # A connection the server dropped (a restart, a failover) is found and replaced when
        # it is taken, instead of failing the caller's statement.
        check=psycopg_pool.AsyncConnectionPool.check_connection,
        timeout=CONNECT_TIMEOUT_SECONDS,
        name=name,
    )


async def _check_reachable(url: str) -> None:
    """One connection first, so that a wrong host or password is one clear line at start
    rather than a pool retrying in the background."""
    try:
        conn = await psycopg.AsyncConnection.connect(url, connect_timeout=CONNECT_TIMEOUT_SECONDS)
    except psycopg.Error as error:
        reason = _one_line(error)
        password = psycopg.conninfo.conninfo_to_dict(url).get("password")
        if password:
            reason = reason.replace(str(password), "***")
        raise DatabaseUnreachable(f"cannot use PostgreSQL at {redacted(url)}: {reason}") from None
    await conn.close()


async def migrate(conn: psycopg.AsyncConnection[PgRow]) -> int:
    """Apply every step newer than the database's version, each in its own transaction, under
    an advisory lock: an instance starting beside another waits for its migrations, then finds
    nothing left to do. SchemaTooNew, with nothing changed, for a database newer than us."""
    await conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        cursor = await conn.execute("SELECT MAX(version) FROM schema_version")
        row = await cursor.fetchone()
        current = int(row[0]) if row is not None and row[0] is not None else 0
        if current > latest_version():
            raise SchemaTooNew(current, latest_version())
        for number, sql in steps("postgresql"):
            if number <= current:
                continue
            log.info("applying migration %04d (postgresql)", number)
            async with conn.transaction():
                await conn.execute(sql.encode())
                await conn.execute("DELETE FROM schema_version")
                await conn.execute("INSERT INTO schema_version VALUES (%s)", (number,))
            current = number
        return current
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__
