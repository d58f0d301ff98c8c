"""What the repository functions need of a database connection, whichever engine is behind it.

The repository functions (`storage/orders.py`, `storage/stock.py`, …) write their SQL once,
with `?` placeholders and SQL that SQLite and PostgreSQL read alike. What differs between the
two engines is small and lives on the `Dialect` each connection carries: a byte length, row
locks (`FOR UPDATE SKIP LOCKED` means something only where several writers run at once), the
errors a failing database raises. Placeholders are translated by the PostgreSQL connection
itself (`storage/postgres.py`), so no function spells them twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class Row(Protocol):
    """A result row, read by position (`row[0]`) or by column name (`row["title"]`)."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...

    def keys(self) -> list[str]: ...


@dataclass(frozen=True)
class Dialect:
    """What one engine spells differently, named once.

    `lock_rows`/`skip_locked` end a SELECT that claims rows: on PostgreSQL several
    transactions run at once and must take rows from each other's hands explicitly; SQLite has
    one writer, which already holds the whole database, so they are empty there."""

    name: str
    byte_length: str  # a function of one text argument: its length in UTF-8 bytes
    lock_rows: str  # " FOR UPDATE" where rows must be locked to be changed safely
    skip_locked: str  # " FOR UPDATE SKIP LOCKED": claim rows nobody else is claiming
    write_probe: str  # one cheap statement that must write to the database
    errors: tuple[type[BaseException], ...]  # what a failing database raises
    # The database's clock in whole microseconds since 1970 (UTC): instances on several
    # machines that share a schedule read one clock, not their own.
    now_us: str
    greatest: str  # the larger of several values: SQLite's scalar MAX, PostgreSQL's GREATEST

    @property
    def several_writers(self) -> bool:
        """Whether transactions can run side by side (PostgreSQL), not one at a time."""
        return bool(self.lock_rows)


class Connection(Protocol):
    """One connection (or, for reads, the pool behind it) with the shop's statements."""

    @property
    def dialect(self) -> Dialect: ...

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Run one statement; the number of rows it changed (or -1 when it says none)."""
        ...

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """Run one statement per row of arguments; the rows changed in all."""
        ...

    async def execute_fetchall(self, sql: str, args: Sequence[Any] = ()) -> Sequence[Row]:
        """Run one query and return every row it gives."""
        ...


async def fetch_one(conn: Connection, sql: str, args: Sequence[Any] = ()) -> Row | None:
    """The first row of a one-row query, in one hand-off to the database.

    `async with conn.execute(…) as cursor: await cursor.fetchone()` crossed to aiosqlite's
    thread and back three times (execute, fetch, close). Each crossing waits for an event-loop
    iteration, and inside a write transaction the write lock is held all the while, so under
    load the crossings, not SQLite, set the pace: the webhook made 12 per event (bench/,
    scenario 1). Use only for queries that return at most a few rows."""
    for row in await conn.execute_fetchall(sql, args):
        return row
    return None


async def fetch_all(conn: Connection, sql: str, args: Sequence[Any] = ()) -> list[Row]:
    """Every row of a query, in one hand-off to the database (see `fetch_one`)."""
    return list(await conn.execute_fetchall(sql, args))


async def notify(conn: Connection, channel: str) -> None:
    """Wake whoever listens on `channel` in every instance once this transaction commits (a
    PostgreSQL NOTIFY is delivered at commit and dropped with a rollback); nothing on SQLite,
    where the one process wakes its own workers."""
    if conn.dialect.several_writers:
        await conn.execute("SELECT pg_notify(?, '')", (channel,))


def placeholders(count: int) -> str:
    """`?, ?, ?` for an `IN (…)` of `count` values (at least one)."""
    return ", ".join("?" * max(count, 1))
