"""Where a scheduled job got to (table `job_state`, migration 0009): a value per name."""

from __future__ import annotations

from storage.clock import now
from storage.sql import Connection, fetch_one


async def get(conn: Connection, name: str) -> str | None:
    row = await fetch_one(conn, "SELECT value FROM job_state WHERE name = ?", (name,))
    return str(row[0]) if row else None


async def advance(conn: Connection, name: str, old: str | None, new: str) -> bool:
    """Set `name` to `new` if it is still `old` (None: not set yet); False, with nothing
    changed, when another run moved it meanwhile."""
    if old is None:
        changed = await conn.execute(
            "INSERT INTO job_state (name, value, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO NOTHING",
            (name, new, now()),
        )
    else:
        changed = await conn.execute(
            "UPDATE job_state SET value = ?, updated_at = ? WHERE name = ? AND value = ?",
            (new, now(), name, old),
        )
    return changed == 1
