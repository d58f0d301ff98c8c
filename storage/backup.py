"""`python -m storage.backup DEST`: a consistent copy of the shop's database, bot running or not.

A plain `cp shop.db` while the bot runs is not a backup: the latest transactions live in
`shop.db-wal` until a checkpoint, and a copy taken mid-write can be torn. SQLite's online backup
API copies every page through one read transaction instead — one consistent snapshot, WAL
included — and in WAL mode that reader never blocks the bot's writes (nor does the bot's
one-process lock, which is on a separate `.lock` file). The copy is written beside DEST, checked
the way a restore would open it (`PRAGMA integrity_check`, the schema version, row counts), and
only then renamed to DEST, so DEST is always either the previous file or a checked backup.

`python -m storage.backup --check FILE` runs the same check on an existing backup, e.g. before
restoring it.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from storage.db import latest_schema_version

# What the report counts: enough to see at a glance that the copy holds the shop.
COUNTED_TABLES = ("products", "orders", "stock_items", "refunds")


class BackupError(Exception):
    """The backup or its check failed; the message says why, for the operator."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    schema_version: int
    rows: dict[str, int]
    size_bytes: int

    def __str__(self) -> str:
        counts = ", ".join(f"{count} {table}" for table, count in self.rows.items())
        return (
            f"{self.path}: integrity ok, schema version {self.schema_version}, {counts}, "
            f"{self.size_bytes / 1024 / 1024:.1f} MiB"
        )


def backup(source: Path, dest: Path) -> BackupReport:
    """Copy the database at `source` to `dest` (a file, or a directory to put a dated file in)
    and check the copy; raise BackupError if either fails. `dest` is replaced only by a copy
    that passed the check."""
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    if dest.is_dir():
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        dest = dest / f"{source.stem}-{stamp}.db"
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        _copy(source, partial)
        report = check(partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, dest)
    return BackupReport(dest, report.schema_version, report.rows, report.size_bytes)


def _copy(source: Path, target: Path) -> None:
    # mode=rw: never create an empty database where the shop's should be.
    origin = sqlite3.connect(f"{source.resolve().as_uri()}?mode=rw", uri=True)
    try:
        copy = sqlite3.connect(target)
        try:
            origin.backup(copy)  # all pages in one step: one snapshot
            # One self-contained file: a backup has no WAL beside it.
            copy.execute("PRAGMA journal_mode = DELETE")
        finally:
            copy.close()
    except sqlite3.Error as error:
        raise BackupError(f"copying {source} failed: {error}") from error
    finally:
        origin.close()


def check(path: Path) -> BackupReport:
    """Open `path` read-only as a restore would and check it: integrity, the schema version
    this code expects, and the row counts. Raise BackupError when it would not serve."""
    if not path.is_file():
        raise BackupError(f"there is no file at {path}")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            verdict = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            if verdict != ["ok"]:
                raise BackupError(f"{path} is damaged: {'; '.join(verdict[:5])}")
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            rows = {
                table: int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                for table in COUNTED_TABLES
            }
        finally:
            conn.close()
    except sqlite3.Error as error:
        raise BackupError(f"{path} cannot be read as the shop's database: {error}") from error
    expected = latest_schema_version()
    if version != expected:
        raise BackupError(
            f"{path} has schema version {version}; this version of the shop uses {expected}"
        )
    return BackupReport(path, version, rows, path.stat().st_size)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m storage.backup",
        description="Back up the shop's SQLite database while the bot runs, and check the copy.",
    )
    parser.add_argument("dest", type=Path, help="backup file, or a directory for a dated one")
    parser.add_argument(
        "--database",
        type=Path,
        help="the database to back up (default: DATABASE_URL from the environment or .env)",
    )
    parser.add_argument("--check", action="store_true", help="only check DEST, an existing backup")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Exit 0 with one line saying what the backup holds; 1 with one line saying what failed
    (cron mails it); 2 for a configuration problem."""
    args = _arguments(argv)
    try:
        if args.check:
            report = check(args.dest)
        else:
            report = backup(args.database or _configured_database(), args.dest)
    except BackupError as error:
        print(f"backup failed: {error}", file=sys.stderr)
        return 1
    print(report)
    return 0


def _configured_database() -> Path:
    """The bot's own DATABASE_URL, read by the bot's own rule (this is an entry point, like
    `python -m bot`, so it may reach into the configuration)."""
    from bot.config import ConfigError, configured_database
    from storage.db import SqliteFile

    try:
        target = configured_database()
    except ConfigError as error:
        print(error, file=sys.stderr)
        raise SystemExit(2) from error
    if not isinstance(target, SqliteFile):
        print(
            "DATABASE_URL names a PostgreSQL database: back it up with pg_dump (README: "
            "Backups); this tool copies a SQLite file.",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return target.path


if __name__ == "__main__":
    sys.exit(main())
