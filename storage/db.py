"""The shop's database, whichever engine holds it: SQLite (the default) or PostgreSQL.

Everything above storage/ sees one `Database`: write transactions (`transaction()`), single
reads (`reader`), a health ping, close. `open_database` picks the engine from the target the
configuration named (a SQLite file, or a PostgreSQL URL).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from storage.migrations import SchemaTooNew, latest_version
from storage.postgres import PostgresDatabase, redacted
from storage.sql import Connection, Dialect, fetch_all, fetch_one
from storage.sqlite import SqliteDatabase

__all__ = [
    "Database",
    "DatabaseTarget",
    "PostgresServer",
    "SchemaTooNew",
    "SqliteFile",
    "fetch_all",
    "fetch_one",
    "latest_schema_version",
    "open_database",
]


class Database(Protocol):
    """Transactions and reads on the shop's database."""

    @property
    def dialect(self) -> Dialect: ...

    def transaction(
        self, *, durable: bool = False, serial: bool = True
    ) -> AbstractAsyncContextManager[Connection]:
        """One write transaction: committed on success, rolled back on any exception.
        `durable`: flushed to the device before it returns. `serial`: one at a time across
        every instance (False only for statements safe side by side on their own)."""
        ...

    @property
    def reader(self) -> Connection:
        """Single reads, never inside a write."""
        ...

    def budget_connection(self) -> AbstractAsyncContextManager[Connection]:
        """For the send budgets' slots alone (storage/budgets.py): statements that must not
        wait behind the shop's other work, each committed on its own. On PostgreSQL a
        connection kept for them outside the pool, since a slot taken late is lost to every
        instance; on SQLite a transaction on the one writer."""
        ...

    def single_statements(self) -> AbstractAsyncContextManager[Connection]:
        """A write connection on which each statement commits on its own: one hand-off to
        SQLite's writer thread (one round trip to PostgreSQL) per write, where BEGIN, the
        statement and COMMIT take three. Only for writes that are one statement, atomic by
        itself, safe beside any other (the Stripe inbox's group commit). On SQLite it holds
        the one writer while it is open."""
        ...

    async def ping(self) -> bool: ...

    async def listen(self, channel: str, wake: Callable[[], None]) -> None:
        """Call `wake` whenever another instance announces on `channel`, until cancelled
        (returns at once where one process is all there is)."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class SqliteFile:
    """A SQLite database file, owned by one process."""

    path: Path

    def __str__(self) -> str:
        return str(self.path)


@dataclass(frozen=True)
class PostgresServer:
    """A PostgreSQL database, shared by any number of identical instances."""

    url: str

    def __str__(self) -> str:
        return redacted(self.url)


DatabaseTarget = SqliteFile | PostgresServer


async def open_database(target: DatabaseTarget) -> Database:
    """The database the target names, migrated to this code's schema."""
    if isinstance(target, PostgresServer):
        return await PostgresDatabase.open(target.url)
    return await SqliteDatabase.open(target.path)


def latest_schema_version() -> int:
    """The version a database has once every migration shipped with this code ran."""
    return latest_version()
