"""The database fixtures (tests/backend.py says which engine): a throwaway PostgreSQL server
per session in the PostgreSQL pass, its database emptied before every test.

Tests about a SQLite file itself (the file lock, backups, WAL, the sandbox's scratch file, the
SQLite crash storm) carry the `sqlite_file` mark and run in the SQLite pass only; tests of
what only PostgreSQL has carry `postgresql_only` and run in the PostgreSQL pass, which always
has a server (a missing one fails the run: `tools/ensure-postgresql` installs it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from storage.db import PostgresServer, open_database
from testkit.postgres import PostgresCluster
from tests.backend import BACKEND, ON_POSTGRES, SESSION, empty


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_file: about a SQLite file itself; runs in the SQLite pass only"
    )
    config.addinivalue_line(
        "markers", "postgresql_only: about PostgreSQL itself; runs in the PostgreSQL pass only"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    unwanted = "sqlite_file" if ON_POSTGRES else "postgresql_only"
    skip = pytest.mark.skip(reason=f"not in the {BACKEND} pass (see tests/databases.py)")
    for item in items:
        if unwanted in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL server for this session (about 2 s to start)."""
    cluster = PostgresCluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres_session(request: pytest.FixtureRequest) -> Iterator[None]:
    """In the PostgreSQL pass: the session's database, created and migrated once."""
    if not ON_POSTGRES:
        yield
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    url = cluster.create_database("shop")
    asyncio.run(_migrate(url))
    SESSION.cluster, SESSION.url = cluster, url
    try:
        yield
    finally:
        SESSION.cluster, SESSION.url = None, None


@pytest.fixture(autouse=True)
def empty_database(postgres_session: None) -> None:
    """In the PostgreSQL pass: the session's database emptied, so that each test starts from
    a new shop as it does on SQLite."""
    if SESSION.url is not None:
        empty(SESSION.url)


async def _migrate(url: str) -> None:
    db = await open_database(PostgresServer(url))
    await db.close()
