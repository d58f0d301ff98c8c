"""`python -m storage.copy SOURCE_URL TARGET_URL`: move a stopped shop from SQLite to PostgreSQL.

A shop outgrows its SQLite file (several instances, a managed database with backups and
failover); its orders, stock, carts and history must come along whole, or not at all. So:
- the source is read in one read transaction (one consistent snapshot) while this process
  holds the bot's own lock on it (storage/lock.py): a bot still running is refused, and none
  can start until the copy is done;
- the target is migrated to this code's schema first (as the bot's start does), and the source
  must already be at that version: a copy never migrates the shop's only good database;
- the target must be empty: a copy never merges two shops or overwrites one;
- every row goes across in one target transaction, ids kept (storage/copy_tables.py), with
  the target's aggregate triggers paused; the aggregates are then summed once per table
  (storage/aggregates_rebuild.py: the triggers would make the copy quadratic in the orders),
  the triggers switched on again, the identity sequences moved past the ids;
- before it commits, the counts, totals and aggregates of both sides are compared
  (storage/copy_checks.py). Any failure rolls the whole transaction back: the target is
  left empty, ready for another try, and the source was never written.

Exit status 0 with one line per table and a summary; 1 with `copy failed: …` on stderr (one
line, no password); 2 for arguments that do not name a SQLite source and a PostgreSQL target.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiosqlite
import psycopg
import psycopg.conninfo

from storage.aggregates_rebuild import (
    pause_aggregate_triggers,
    rebuild_aggregates,
    resume_aggregate_triggers,
)
from storage.copy_checks import Figures, figures_of
from storage.copy_tables import (
    COPIED,
    LEFT_BEHIND,
    REBUILT,
    SchemaMismatch,
    check_schemas,
    copy_table,
    reset_sequences,
    row_counts,
)
from storage.db import (
    DatabaseTarget,
    PostgresServer,
    SchemaTooNew,
    SqliteFile,
    latest_schema_version,
)
from storage.lock import DatabaseInUse, ProcessLock
from storage.postgres import DatabaseUnreachable, PgConnection, PostgresDatabase, redacted
from storage.sql import Connection
from storage.sqlite import BUSY_TIMEOUT_MS, SqliteConnection


class CopyError(Exception):
    """The copy was refused or failed, and the target holds nothing of it; the message says
    why, for the operator."""


class UsageError(Exception):
    """The arguments do not name a copy this tool makes (exit status 2)."""


@dataclass(frozen=True)
class CopyReport:
    """What was copied and checked: the figures are the target's, equal to the source's."""

    source: str
    target: str
    schema_version: int
    figures: Figures
    sequences: int
    left_behind: dict[str, int]  # rows of the source's LEFT_BEHIND tables, not copied
    seconds: float

    def lines(self) -> list[str]:
        """One line per table, with the sums that were compared beside the tables they come
        from, then one line that says the copy checked out: what an operator reads before
        pointing the shop at the new database."""
        totals = self.figures.totals
        currencies = sorted({name.split(".")[1] for name in totals if name.startswith("orders.")})
        notes = {
            "orders": "; ".join(
                f"{currency} total {totals[f'orders.{currency}.amount_total']}, discounts"
                f" {totals[f'orders.{currency}.amount_discount']}, refunded"
                f" {totals[f'orders.{currency}.amount_refunded']}"
                for currency in currencies
            ),
            "order_lines": f"{totals['order_lines.quantity']} units",
            "refunds": f"amount {totals['refunds.amount']}",
            "stock_items": ", ".join(
                f"{totals[name]} {name.removeprefix('stock_items.')}"
                for name in totals
                if name.startswith("stock_items.")
            ),
        }
        width = max(len(table.name) for table in (*COPIED, *REBUILT, *LEFT_BEHIND))
        lines = [
            f"{name:<{width}}  {_rows(count)} copied"
            + (f" ({notes[name]})" if name in notes else "")
            for name, count in self.figures.rows.items()
        ]
        lines += [
            f"{name:<{width}}  {_rows(len(rows))} rebuilt, equal to the source's"
            for name, rows in self.figures.aggregates.items()
        ]
        lines += [
            f"{name:<{width}}  {_rows(count)} left behind (the first instance takes them afresh)"
            for name, count in self.left_behind.items()
        ]
        lines.append(
            f"copied {self.source} to {self.target} (schema version {self.schema_version}) in"
            f" {self.seconds:.1f} s: every count, total and aggregate equal on both sides,"
            f" {self.sequences} id sequences moved past the copied ids (amounts in minor units)"
        )
        return lines

    def __str__(self) -> str:
        return "\n".join(self.lines())


async def copy_shop(source: DatabaseTarget, target: DatabaseTarget) -> CopyReport:
    """Copy the stopped shop at `source` into the empty `target` and check the copy; raise
    CopyError (the target left empty) when it is refused or fails."""
    if not isinstance(source, SqliteFile) or not isinstance(target, PostgresServer):
        raise UsageError(
            "the copy moves a shop from SQLite to PostgreSQL: SOURCE_URL must be sqlite:///…"
            " and TARGET_URL postgresql://…"
        )
    started = time.monotonic()
    async with _sqlite_snapshot(source.path) as (reader, version):
        _check_version(version)
        db = await _open_target(target)
        try:
            async with db.transaction() as tx:
                figures, sequences, left_behind = await _copy_all(reader, tx)
        finally:
            await db.close()
    return CopyReport(
        str(source),
        str(target),
        version,
        figures,
        sequences,
        left_behind,
        time.monotonic() - started,
    )


@asynccontextmanager
async def _sqlite_snapshot(path: Path) -> AsyncIterator[tuple[SqliteConnection, int]]:
    """The SQLite file in one read transaction, and its schema version, while we hold the
    bot's lock on it. Opened read-write without creating (a mistyped path is an error, not an
    empty shop): reading a WAL database needs its shared-memory file, which a reader writes."""
    lock, uri = _take(path)
    try:
        conn = await aiosqlite.connect(uri, uri=True, isolation_level=None)
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await conn.execute("BEGIN")
            # The first read inside BEGIN fixes the snapshot every later read sees.
            row = next(iter(await conn.execute_fetchall("PRAGMA user_version")))
            yield SqliteConnection(conn), int(row[0])
        finally:
            await conn.close()
    finally:
        lock.release()


def _take(path: Path) -> tuple[ProcessLock, str]:
    """The bot's lock on the file (CopyError while a bot holds it), and the file's URI."""
    if not path.is_file():
        raise CopyError(f"there is no database at {path}")
    try:
        lock = ProcessLock.acquire(path)
    except DatabaseInUse as error:
        raise CopyError(f"{error} A copy is made of a stopped shop.") from None
    return lock, f"{path.resolve().as_uri()}?mode=rw"


def _check_version(version: int) -> None:
    """The source must be at this code's schema: the target is migrated to it, and rows of
    another version would not fit its tables."""
    latest = latest_schema_version()
    if version < latest:
        raise CopyError(
            f"the source's schema is version {version}, this release's is {latest}: start this "
            "release once on the source (it migrates it), stop it, then copy"
        )
    if version > latest:
        raise CopyError(
            f"the source's schema is version {version}, newer than this release's {latest}: "
            "copy with the release that last ran the shop"
        )


async def _open_target(target: PostgresServer) -> PostgresDatabase:
    """The target, migrated to this code's schema (as the bot's start does)."""
    try:
        return await PostgresDatabase.open(target.url)
    except SchemaTooNew as error:
        raise CopyError(f"the target cannot take this release's schema: {error}") from None


async def _copy_all(
    source: Connection, target: PgConnection
) -> tuple[Figures, int, dict[str, int]]:
    """Inside the target's transaction: refuse a target that is not empty, copy every table
    with the aggregate triggers paused, sum the aggregates, switch the triggers on again, move
    the sequences, then compare both sides (CopyError rolls it all back, the triggers' pause
    included). The target's figures, the sequences moved, and the rows left behind on the
    source."""
    try:
        columns = await check_schemas(source, target)
    except SchemaMismatch as error:
        raise CopyError(str(error)) from None
    every_table = (*COPIED, *REBUILT, *LEFT_BEHIND)
    held = {name: n for name, n in (await row_counts(target, every_table)).items() if n}
    if held:
        listed = ", ".join(f"{n} {name}" for name, n in held.items())
        raise CopyError(
            f"the target is not empty ({listed}): a copy never merges two shops or overwrites"
            " one, nor writes where an instance has run; copy into a new, empty database"
        )
    # The aggregate triggers off while the rows arrive, the aggregates summed once after them
    # (storage/aggregates_rebuild.py says why), the triggers on again before the checks.
    await pause_aggregate_triggers(target)
    for table in COPIED:
        await copy_table(source, target, table, columns[table.name])
    await rebuild_aggregates(target)
    await resume_aggregate_triggers(target)
    sequences = await reset_sequences(target)
    theirs, ours = await figures_of(source, columns), await figures_of(target, columns)
    differences = theirs.differences(ours)
    if differences:
        raise CopyError(
            "the copy does not match the source, so nothing was kept: " + "; ".join(differences)
        )
    return ours, sequences, await row_counts(source, LEFT_BEHIND)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m storage.copy",
        description=(
            "Copy a stopped shop from its SQLite file into an empty PostgreSQL database, "
            "and check the copy."
        ),
    )
    parser.add_argument("source", metavar="SOURCE_URL", help="sqlite:///path/to/shop.db")
    parser.add_argument(
        "target", metavar="TARGET_URL", help="postgresql://user:password@host:5432/shop"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Exit 0 with the report; 1 with one line saying what failed; 2 for bad arguments."""
    args = _arguments(argv)
    urls = (args.source, args.target)
    try:
        source, target = _target(args.source, "SOURCE_URL"), _target(args.target, "TARGET_URL")
        if str(source) == str(target):
            raise UsageError("SOURCE_URL and TARGET_URL name the same database")
        report = asyncio.run(copy_shop(source, target))
    except UsageError as error:
        print(f"python -m storage.copy: {_scrubbed(str(error), urls)}", file=sys.stderr)
        return 2
    except (
        CopyError,
        DatabaseUnreachable,
        OSError,
        sqlite3.Error,
        psycopg.Error,
    ) as error:
        print(f"copy failed: {_scrubbed(_one_line(error), urls)}", file=sys.stderr)
        return 1
    print(report)
    return 0


def _target(url: str, name: str) -> DatabaseTarget:
    """The database a URL names, by the bot's own DATABASE_URL rule (this is an entry point,
    like `python -m bot`, so it may reach into the configuration)."""
    from bot.config import ConfigError, database_target

    try:
        return database_target(url)
    except ConfigError as error:
        problems = " ".join(error.problems).replace("DATABASE_URL", name)
        raise UsageError(problems) from None


def _rows(count: int) -> str:
    return f"{count:>9} row{'' if count == 1 else 's'}"


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _scrubbed(text: str, urls: tuple[str, ...]) -> str:
    """`text` without any password the URLs carry, whatever quoted them (a driver's message
    may repeat the connection string)."""
    for url in urls:
        text = text.replace(url, redacted(url))
        try:
            password = psycopg.conninfo.conninfo_to_dict(url).get("password")
        except psycopg.Error:
            password = None
        if password:
            text = text.replace(str(password), "***")
    return text


if __name__ == "__main__":
    sys.exit(main())
