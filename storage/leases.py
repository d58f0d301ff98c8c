"""Leases: one row per one-at-a-time job, held by one instance until it expires.

Several identical instances share nothing but the database, so a job that must run once
across all of them (the reconciliation pass, Telegram's set-up at start, the polling loop)
takes its lease first: one statement that takes the row when it is free or expired, renews it
for its holder, and refuses everyone else. A holder that dies stops renewing; the lease
expires and the next instance to ask takes it over. Times are unix milliseconds of each
instance's own clock (keep NTP on: leases last seconds to minutes, skew of a second is fine).
"""

from __future__ import annotations

from storage.sql import Connection, fetch_all, fetch_one


async def take(conn: Connection, name: str, holder: str, *, now_ms: int, ttl_ms: int) -> bool:
    """Take or renew the lease `name` for `holder` until now + ttl; False while another
    holder's lease is unexpired."""
    row = await fetch_one(
        conn,
        "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
        " expires_at = excluded.expires_at"
        " WHERE leases.holder = excluded.holder OR leases.expires_at <= ?"
        " RETURNING holder",
        (name, holder, now_ms + ttl_ms, now_ms),
    )
    return row is not None


async def release(conn: Connection, name: str, holder: str) -> None:
    """Give the lease up at once, so the next instance need not wait for it to expire; nothing
    when someone else holds it."""
    await conn.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))


async def release_all(conn: Connection, holder: str) -> None:
    """Every lease `holder` has (a clean stop)."""
    await conn.execute("DELETE FROM leases WHERE holder = ?", (holder,))


async def after_restart(conn: Connection) -> None:
    """At start, on SQLite (one process owns the file, so every lease is a dead process's):
    all are free at once — the first reconciliation after a crash must not wait out the one
    before it. On PostgreSQL other instances may hold theirs: they expire on their own."""
    if not conn.dialect.several_writers:
        await conn.execute("DELETE FROM leases")


async def renew_mine(
    conn: Connection, prefix: str, holder: str, *, now_ms: int, ttl_ms: int
) -> list[str]:
    """Renew every unexpired lease of `holder` whose name starts with `prefix`; their names
    (a lease that expired meanwhile may be someone else's now, and is not renewed)."""
    rows = await fetch_all(
        conn,
        "UPDATE leases SET expires_at = ? WHERE holder = ? AND name LIKE ? AND expires_at > ?"
        " RETURNING name",
        (now_ms + ttl_ms, holder, f"{prefix}%", now_ms),
    )
    return sorted(str(row[0]) for row in rows)


async def count_fresh(conn: Connection, prefix: str, *, fresh_until_ms: int) -> int:
    """How many leases under `prefix` run past `fresh_until_ms`: renewed lately, their holders
    alive (a heartbeat renewed every round runs almost its whole length ahead)."""
    row = await fetch_one(
        conn,
        "SELECT COUNT(*) FROM leases WHERE name LIKE ? AND expires_at > ?",
        (f"{prefix}%", fresh_until_ms),
    )
    return int(row[0]) if row else 0


async def held_names(conn: Connection, prefix: str, *, now_ms: int) -> set[str]:
    """The names under `prefix` someone holds unexpired."""
    rows = await fetch_all(
        conn, "SELECT name FROM leases WHERE name LIKE ? AND expires_at > ?", (f"{prefix}%", now_ms)
    )
    return {str(row[0]) for row in rows}


async def holder_of(conn: Connection, name: str, *, now_ms: int) -> str | None:
    """Who holds the lease unexpired, if anyone (for logs and tests)."""
    row = await fetch_one(
        conn, "SELECT holder FROM leases WHERE name = ? AND expires_at > ?", (name, now_ms)
    )
    return None if row is None else str(row[0])
