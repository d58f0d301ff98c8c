"""Which database engine the suite runs on (`SHOP_TEST_DATABASE`), and the test's database.

`make test` runs the suite twice: on SQLite (a new file per test) and with
`SHOP_TEST_DATABASE=postgresql` on a throwaway PostgreSQL server started once per test session
(per xdist worker), with one database migrated once and emptied before every test (the
fixtures are in tests/databases.py).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg

from bot.config import Settings
from storage.db import Database, DatabaseTarget, PostgresServer, SqliteFile, open_database
from storage.sqlite import SqliteConnection
from testkit.postgres import PostgresCluster

BACKEND = os.environ.get("SHOP_TEST_DATABASE", "sqlite")
if BACKEND not in ("sqlite", "postgresql"):
    raise RuntimeError(f"SHOP_TEST_DATABASE must be sqlite or postgresql, not {BACKEND!r}")
ON_POSTGRES = BACKEND == "postgresql"


class _Session:
    """The PostgreSQL pass's server and its one database (once the session fixture made
    them)."""

    cluster: PostgresCluster | None = None
    url: str | None = None
    others: int = 0


SESSION = _Session()


def database_url_for(tmp_path: Path) -> str:
    """The DATABASE_URL of the test's shop: its own SQLite file, or this session's PostgreSQL
    database (emptied before the test began)."""
    if not ON_POSTGRES:
        return f"sqlite:///{tmp_path / 'shop.db'}"
    assert SESSION.url is not None, "the postgres_session fixture makes the database"
    return SESSION.url


def database_target_for(tmp_path: Path) -> DatabaseTarget:
    if not ON_POSTGRES:
        return SqliteFile(tmp_path / "shop.db")
    return PostgresServer(database_url_for(tmp_path))


def separate_database_for(folder: Path) -> DatabaseTarget:
    """A second, empty database beside the test's own (another shop on the same Stripe
    account): a file in `folder`, or a new database on the session's PostgreSQL server."""
    if not ON_POSTGRES:
        return SqliteFile(folder / "shop.db")
    assert SESSION.cluster is not None
    SESSION.others += 1
    return PostgresServer(SESSION.cluster.create_database(f"other_{SESSION.others}"))


def sqlite_path(settings: Settings) -> Path:
    """The shop's SQLite file, for a test about the file itself (marked `sqlite_file`)."""
    assert isinstance(settings.database, SqliteFile), "a sqlite_file test runs on SQLite"
    return settings.database.path


def sqlite_reader(db: Database | None) -> SqliteConnection:
    """The SQLite reader connection, for a test that counts statements through SQLite's trace
    hook (marked `sqlite_file`)."""
    assert db is not None and isinstance(db.reader, SqliteConnection), "runs on SQLite"
    return db.reader


async def execute_on(target: DatabaseTarget, sql: str, args: Sequence[Any] = ()) -> None:
    """One statement in its own transaction on a stopped shop's database (what an operator or
    a crash would have left behind)."""
    db = await open_database(target)
    try:
        async with db.transaction() as tx:
            await tx.execute(sql, args)
    finally:
        await db.close()


def empty(url: str) -> None:
    """Every table but the schema version emptied in one statement, ids restarting."""
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename <> 'schema_version'"
            )
        ]
        names = ", ".join(f'"{table}"' for table in tables)
        conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")  # noqa: S608
