"""The memory of the limits per buyer and per chat (shop/limits.py decides; this keeps), in the
database so that several instances count together: one row per (scope, subject) holding the
limit's state as text, and when it stops mattering.

A decision takes the row's lock first (`hold`: an upsert that changes nothing and returns the
row), and writes the new state (`keep`) in the same transaction: on PostgreSQL two instances
deciding for the same buyer take turns on that row, and nothing else waits. The clock is the
database's, in milliseconds, read after the lock was had.
"""

from __future__ import annotations

from storage.sql import Connection, fetch_one


async def hold(conn: Connection, scope: str, subject: str) -> tuple[str, int]:
    """The subject's state (empty the first time), its row locked until the transaction ends,
    and the database's clock in milliseconds."""
    row = await fetch_one(
        conn,
        "INSERT INTO rate_limits (scope, subject, state, expires_ms) VALUES (?, ?, '', 0)"
        " ON CONFLICT (scope, subject) DO UPDATE SET state = rate_limits.state"
        f" RETURNING state, {conn.dialect.now_us} / 1000",
        (scope, subject),
    )
    assert row is not None
    return str(row[0]), int(row[1])


async def keep(conn: Connection, scope: str, subject: str, state: str, expires_ms: int) -> None:
    """The subject's new state, which limits nothing any more after `expires_ms`."""
    await conn.execute(
        "UPDATE rate_limits SET state = ?, expires_ms = ? WHERE scope = ? AND subject = ?",
        (state, expires_ms, scope, subject),
    )


async def forget_expired(conn: Connection, *, at_ms: int | None = None) -> int:
    """Drop the rows that limit nothing any more (at `at_ms`, else now); how many. Run on its
    own, not inside a decision, so that it never holds one subject's row while waiting for
    another's."""
    if at_ms is None:
        return await conn.execute(
            f"DELETE FROM rate_limits WHERE expires_ms <= {conn.dialect.now_us} / 1000"
        )
    return await conn.execute("DELETE FROM rate_limits WHERE expires_ms <= ?", (at_ms,))
