"""The Stripe event inbox (table `stripe_inbox`, migration 0012): events recorded before the
webhook's 2xx, claimed by an applier, marked applied in the transaction that applies them.

The claim is one function (`claim`) so that several instances can share the table: a claim
names its holder and expires, and an expired claim is claimable again. Events of one order
(`order_key`) are handed out one after another, by Stripe's `created` and then by arrival: an
order none of whose waiting events is claimed by someone else or backing off after a failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.sql import Connection, Row, fetch_all, fetch_one

# Applied rows pruned per statement: one short write at a time, however many are due.
PRUNE_BATCH = 1000


@dataclass(frozen=True)
class Arrival:
    """A verified event as the webhook records it."""

    id: str
    type: str
    order_key: str  # events with the same key are applied one after another
    created: int  # Stripe's `created`, unix seconds
    payload: str  # the event as JSON


@dataclass(frozen=True)
class Waiting:
    """A recorded event handed to an applier by `claim`."""

    seq: int  # arrival order
    id: str
    type: str
    order_key: str
    created: int
    payload: str
    received_at: int
    attempts: int  # failed applies so far

    @classmethod
    def from_row(cls, row: Row) -> Waiting:
        return cls(
            seq=row["seq"],
            id=row["id"],
            type=row["type"],
            order_key=row["order_key"],
            created=row["created"],
            payload=row["payload"],
            received_at=row["received_at"],
            attempts=row["attempts"],
        )


# Rows per INSERT: 6 parameters each, well under SQLite's and psycopg's parameter limits.
ROWS_PER_STATEMENT = 100


async def add(conn: Connection, arrivals: Sequence[Arrival], now: int) -> None:
    """Record every event, in one multi-row INSERT per hundred: a statement is atomic on its
    own, so on `Database.single_statements()` a batch costs one hand-off (one round trip) and
    its commit. An id already recorded (Stripe delivers at least once) is left as it is, so a
    batch that failed halfway is simply sent again by Stripe."""
    for start in range(0, len(arrivals), ROWS_PER_STATEMENT):
        chunk = arrivals[start : start + ROWS_PER_STATEMENT]
        values = ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(chunk))
        await conn.execute(
            "INSERT INTO stripe_inbox (id, type, order_key, created, payload, received_at)"
            f" VALUES {values} ON CONFLICT (id) DO NOTHING",  # noqa: S608 - placeholders only
            [v for a in chunk for v in (a.id, a.type, a.order_key, a.created, a.payload, now)],
        )


async def claim(
    conn: Connection, holder: str, now: int, lease_seconds: int, limit: int
) -> list[Waiting]:
    """Up to `limit` waiting events for `holder` to apply, claimed until `now + lease_seconds`,
    in the order to apply them (Stripe's `created`, then arrival).

    An order is skipped while any of its waiting events is backing off after a failure or is
    claimed by another holder whose claim has not expired: its events are applied one after
    another, never side by side or past one that failed. On a shared database the inner SELECT
    is claimed with `FOR UPDATE SKIP LOCKED`: an event another instance is claiming at that
    moment is skipped, not waited for.

    Run it in a serial transaction (`Database.transaction()`'s default): the NOT EXISTS reads
    the other holders' claims, and only a claim that starts after the previous one committed
    sees them; two claims side by side could split one order's events between two holders."""
    rows = await fetch_all(
        conn,
        "UPDATE stripe_inbox SET claimed_by = ?, claimed_until = ?"
        " WHERE seq IN (SELECT r.seq FROM stripe_inbox r WHERE r.applied_at IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM stripe_inbox b WHERE b.order_key = r.order_key"
        " AND b.applied_at IS NULL"
        " AND (b.not_before > ? OR (b.claimed_until > ? AND b.claimed_by <> ?)))"
        f" ORDER BY r.created, r.seq LIMIT ?{conn.dialect.skip_locked})"
        " RETURNING seq, id, type, order_key, created, payload, received_at, attempts",
        (holder, now + lease_seconds, now, now, holder, limit),
    )
    return sorted(map(Waiting.from_row, rows), key=lambda w: (w.created, w.seq))


async def mark_applied(conn: Connection, seq: int, now: int) -> bool:
    """Mark an event applied, in the transaction that applied it; False when it already was
    (then that transaction must not commit a second apply)."""
    changed = await conn.execute(
        "UPDATE stripe_inbox SET applied_at = ?, claimed_by = NULL, claimed_until = NULL"
        " WHERE seq = ? AND applied_at IS NULL",
        (now, seq),
    )
    return changed == 1


async def postpone(conn: Connection, seq: int, attempts: int, not_before: int, error: str) -> None:
    """An apply failed: count it, keep the error, let go of the claim, and wait (with the
    later events of the same order) until `not_before`."""
    await conn.execute(
        "UPDATE stripe_inbox SET attempts = ?, not_before = ?, last_error = ?,"
        " claimed_by = NULL, claimed_until = NULL WHERE seq = ? AND applied_at IS NULL",
        (attempts, not_before, error, seq),
    )


async def release(conn: Connection, holder: str, seqs: Sequence[int]) -> None:
    """Let go of claimed events that were not applied (stopping, or an earlier event of their
    order failed), so they are claimable again at once."""
    await conn.executemany(
        "UPDATE stripe_inbox SET claimed_by = NULL, claimed_until = NULL"
        " WHERE seq = ? AND claimed_by = ?",
        [(seq, holder) for seq in seqs],
    )


async def release_all(conn: Connection) -> None:
    """Every claim let go and every backoff ended, at start: the events are applied at once.

    Only for a database that one process owns (SQLite, under storage/lock.py), where any claim
    is a dead process's. On a database that instances share, a crashed instance's claims expire
    after their lease instead."""
    await conn.execute(
        "UPDATE stripe_inbox SET claimed_by = NULL, claimed_until = NULL, not_before = 0"
        " WHERE applied_at IS NULL AND (claimed_by IS NOT NULL OR not_before > 0)"
    )


async def next_due(conn: Connection, now: int) -> int | None:
    """When the soonest backing-off event may be tried again (None: none is backing off)."""
    row = await fetch_one(
        conn,
        "SELECT MIN(not_before) FROM stripe_inbox WHERE applied_at IS NULL AND not_before > ?",
        (now,),
    )
    return int(row[0]) if row and row[0] is not None else None


async def oldest_waiting(conn: Connection) -> int | None:
    """When the oldest event not applied yet arrived (None: every event is applied)."""
    row = await fetch_one(
        conn, "SELECT MIN(received_at) FROM stripe_inbox WHERE applied_at IS NULL"
    )
    return int(row[0]) if row and row[0] is not None else None


async def count_waiting(conn: Connection) -> int:
    """Events recorded but not applied yet."""
    row = await fetch_one(conn, "SELECT COUNT(*) FROM stripe_inbox WHERE applied_at IS NULL")
    return int(row[0]) if row else 0


async def prune(conn: Connection, applied_before: int) -> int:
    """Forget up to PRUNE_BATCH events applied before `applied_before`: `stripe_events` keeps
    them applied once, so a redelivery after this is recorded again and changes nothing."""
    changed = await conn.execute(
        "DELETE FROM stripe_inbox WHERE seq IN (SELECT seq FROM stripe_inbox"
        " WHERE applied_at < ? ORDER BY applied_at LIMIT ?)",
        (applied_before, PRUNE_BATCH),
    )
    return changed
