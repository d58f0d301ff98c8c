"""Scenario 1 on PostgreSQL: the stage the same webhook measurements run on a second time.

Issue 15 asks for the webhook's ratio to a bare handler on both engines in the same run. The
PostgreSQL pass needs a server, the very orders the SQLite pass pays (so that the same signed
bodies pay them), and a fresh database for each floor; this module provides them and nothing
else, so that bench/webhook.py runs both passes through one path.

The server is testkit's throwaway cluster started `durable`: fsync, synchronous_commit and
full_page_writes on (PostgreSQL's defaults), unlike the tests' cluster, which runs with fsync
off. A commit the shop answers 2xx for is then on the disk, as on a production server; the
figures say what that costs. Everything else is PostgreSQL's default configuration
(shared_buffers and all), read back from the server for the report rather than assumed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.webhook_data import copied_to_postgres
from testkit.postgres import PostgresCluster

# What the report says of the server: the settings that decide what a commit costs.
SETTINGS = ("fsync", "synchronous_commit", "full_page_writes", "wal_sync_method", "shared_buffers")


@dataclass
class PostgresStage:
    """A running durable server with the seeded shop copied into database `webhook`."""

    cluster: PostgresCluster
    url: str
    copy_seconds: float
    settings: dict[str, str]
    version: str
    _databases: int = field(default=0)

    def fresh_database(self, purpose: str) -> str:
        """A new empty database on the same server (a floor's), by its URL."""
        self._databases += 1
        return self.cluster.create_database(f"{purpose}_{self._databases}".replace("-", "_"))

    def describe(self) -> str:
        """One sentence for the report: which server, configured how."""
        shown = ", ".join(f"{name}={value}" for name, value in self.settings.items())
        return (
            f"PostgreSQL {self.version}, a throwaway server on the same machine, started "
            f"durable ({shown}; every other setting PostgreSQL's default); the seeded orders "
            f"were copied into it with `storage.copy` in {self.copy_seconds:.1f} s"
        )


def _settings(cluster: PostgresCluster) -> tuple[dict[str, str], str]:
    values = {name: cluster.psql(f"SHOW {name}").strip() for name in SETTINGS}
    version = cluster.psql("SHOW server_version").strip().split()[0]
    return values, version


@contextlib.asynccontextmanager
async def stage(seeded: Path) -> AsyncIterator[PostgresStage]:
    """A durable server holding a copy of the seeded SQLite shop, stopped and removed after."""
    cluster = await asyncio.to_thread(PostgresCluster.start, durable=True)
    try:
        url = await asyncio.to_thread(cluster.create_database, "webhook")
        copy_seconds = await copied_to_postgres(seeded, url)
        settings, version = await asyncio.to_thread(_settings, cluster)
        yield PostgresStage(cluster, url, copy_seconds, settings, version)
    finally:
        await asyncio.to_thread(cluster.stop)
