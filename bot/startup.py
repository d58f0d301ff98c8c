"""Opening the shop's database at start: the SQLite file's lock, then the database itself, each
refusal one line for the operator (never a traceback, never a password)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg

from storage.db import Database, DatabaseTarget, SchemaTooNew, open_database
from storage.lock import DatabaseInUse, ProcessLock
from storage.postgres import DatabaseUnreachable


class StartupError(Exception):
    """Start-up cannot go on; the message says why, for the operator."""


def lock_database(path: Path) -> ProcessLock:
    """This process's claim on the database file, or a StartupError naming the owner."""
    try:
        return ProcessLock.acquire(path)
    except DatabaseInUse as error:
        raise StartupError(str(error)) from error
    except OSError as error:
        raise StartupError(
            f"The lock beside the database {path} cannot be taken: {error}"
        ) from error


async def open_shop_database(target: DatabaseTarget) -> Database:
    """The shop's database, or a StartupError saying which database is unusable and why (in
    one line, never with a password)."""
    try:
        return await open_database(target)
    except SchemaTooNew as error:
        raise StartupError(
            f"The database {target} cannot be used by this version: {error}."
        ) from error
    except DatabaseUnreachable as error:
        raise StartupError(f"{error}. Check DATABASE_URL and that the server runs.") from error
    except psycopg.Error as error:
        raise StartupError(
            f"The database {target} cannot be used: {' '.join(str(error).split())}"
        ) from error
    except sqlite3.DatabaseError as error:  # not a database, malformed, cannot be opened
        raise StartupError(
            f"The database {target} cannot be used: {error}. Restore it from a backup "
            "(README: Backups) or point DATABASE_URL at another file."
        ) from error
