"""Where a scheduled job got to (table `job_state`, migration 0009): a value per name."""

from __future__ import annotations

import aiosqlite

from storage.clock import now
from storage.db import fetch_one


async def get(conn: aiosqlite.Connection, name: str) -> str | None:
    row = await fetch_one(conn, "SELECT value FROM job_state WHERE name = ?", (name,))
    return str(row[0]) if row else None


async def advance(conn: aiosqlite.Connection, name: str, old: str | None, new: str) -> bool:
    """Set `name` to `new` if it is still `old` (None: not set yet); False, with nothing
    changed, when another run moved it meanwhile."""
    if old is None:
        cursor = await conn.execute(
            "INSERT INTO job_state (name, value, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO NOTHING",
            (name, new, now()),
        )
    else:
        cursor = await conn.execute(
            "UPDATE job_state SET value = ?, updated_at = ? WHERE name = ? AND value = ?",
            (new, now(), name, old),
        )
    return cursor.rowcount == 1
