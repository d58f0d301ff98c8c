"""The delivery outbox: messages owed, claimed by the worker, marked sent or failed."""

from __future__ import annotations

from storage.clock import now
from storage.models import Delivery, DeliveryKind
from storage.sql import Connection, fetch_all, fetch_one, notify


async def enqueue(
    conn: Connection,
    *,
    dedupe_key: str,
    order_id: int,
    kind: DeliveryKind,
    chat_id: int,
    detail: str = "",
) -> bool:
    """Owe a message once per dedupe key; False when it was already owed."""
    ts = now()
    changed = await conn.execute(
        "INSERT INTO deliveries (dedupe_key, order_id, kind, chat_id, detail, next_attempt_at,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING",
        (dedupe_key, order_id, kind.value, chat_id, detail, ts, ts),
    )
    return changed == 1


_UNCLAIMED = ", claimed_by = NULL, claimed_until = NULL"
_CLAIMABLE = (
    "status = 'pending' AND next_attempt_at <= ?"
    " AND (claimed_until IS NULL OR claimed_until <= ? OR claimed_by = ?)"
)

# The deliveries that write the order's own message (bot/delivery.py): each renders the order
# as it is when sent, so one at a time per order keeps the last word with the newest state.
# Two at once could land in either order, and an edit rendered before the payment cleared,
# landing after the goods, would hide them.
ORDER_MESSAGE_WRITERS = (DeliveryKind.GOODS, DeliveryKind.ORDER_MESSAGE)
_WRITERS_SQL = "(" + ", ".join(f"'{kind.value}'" for kind in ORDER_MESSAGE_WRITERS) + ")"
_NO_WRITER_IN_FLIGHT = (
    f"(kind NOT IN {_WRITERS_SQL} OR NOT EXISTS (SELECT 1 FROM deliveries AS writing"
    " WHERE writing.order_id = deliveries.order_id AND writing.id <> deliveries.id"
    f" AND writing.status = 'pending' AND writing.kind IN {_WRITERS_SQL}"
    " AND writing.claimed_until > ?))"
)


async def claim_due(
    conn: Connection, holder: str, *, limit: int, claim_seconds: int
) -> list[Delivery]:
    """Claim for `holder` the pending deliveries whose time has come and that nobody else is
    sending (unclaimed, or their claim expired: its instance died), oldest first; none that
    would write an order's message while another delivery is writing it.

    One statement: on PostgreSQL the rows another instance is claiming at the same moment are
    skipped, not waited for (`SKIP LOCKED`), so instances never send the same row at once.
    Two instances may still each claim a different writer of one order at that moment: the
    caller then sorts them out with `one_writer_per_order`, after this claim commits."""
    ts = now()
    rows = await fetch_all(
        conn,
        "UPDATE deliveries SET claimed_by = ?, claimed_until = ? WHERE id IN ("
        f" SELECT id FROM deliveries WHERE {_CLAIMABLE} AND {_NO_WRITER_IN_FLIGHT}"  # noqa: S608
        f" ORDER BY next_attempt_at, id LIMIT ?{conn.dialect.skip_locked}) RETURNING *",
        (holder, ts + claim_seconds, ts, ts, holder, ts, limit),
    )
    claimed = [Delivery.from_row(row) for row in rows]
    return sorted(claimed, key=lambda d: (d.next_attempt_at, d.id))


def one_writer_per_order(
    claimed: list[Delivery], written_elsewhere: set[int]
) -> tuple[list[Delivery], list[int]]:
    """Of one holder's claims, which to send and which to let go: at most one writer of each
    order's message (the goods first), and none for an order whose message another holder is
    writing (`orders_written_elsewhere`, read after the claim committed: of two holders that
    claimed writers of one order at the same moment, the one whose claim committed later sees
    the other's and gives way; both may, and then both try again a moment apart)."""
    writers = [d for d in claimed if d.kind in ORDER_MESSAGE_WRITERS]
    kept: dict[int, Delivery] = {}
    for delivery in sorted(writers, key=lambda d: (d.kind is not DeliveryKind.GOODS, d.id)):
        if delivery.order_id not in written_elsewhere:
            kept.setdefault(delivery.order_id, delivery)
    let_go = [d.id for d in writers if kept.get(d.order_id) is not d]
    dropped = set(let_go)
    return [d for d in claimed if d.id not in dropped], let_go


async def orders_written_elsewhere(
    conn: Connection, holder: str, claimed: list[Delivery]
) -> set[int]:
    """The orders of `claimed`'s message writers whose message another holder has a live
    claim to write too."""
    ids = sorted({d.order_id for d in claimed if d.kind in ORDER_MESSAGE_WRITERS})
    if not ids:
        return set()
    marks = ", ".join("?" * len(ids))
    rows = await fetch_all(
        conn,
        f"SELECT DISTINCT order_id FROM deliveries WHERE order_id IN ({marks})"  # noqa: S608
        f" AND status = 'pending' AND kind IN {_WRITERS_SQL}"
        " AND claimed_by <> ? AND claimed_until > ?",
        (*ids, holder, now()),
    )
    return {int(row[0]) for row in rows}


async def claim_due_for_chat(
    conn: Connection,
    holder: str,
    chat_id: int,
    kind: DeliveryKind,
    *,
    limit: int,
    claim_seconds: int,
) -> list[Delivery]:
    """Claim one chat's due deliveries of one kind (for a digest), oldest first."""
    ts = now()
    rows = await fetch_all(
        conn,
        "UPDATE deliveries SET claimed_by = ?, claimed_until = ? WHERE id IN ("
        f" SELECT id FROM deliveries WHERE chat_id = ? AND kind = ? AND {_CLAIMABLE}"  # noqa: S608
        f" ORDER BY id LIMIT ?{conn.dialect.skip_locked}) RETURNING *",
        (holder, ts + claim_seconds, chat_id, kind.value, ts, ts, holder, limit),
    )  # fmt: skip
    return sorted((Delivery.from_row(row) for row in rows), key=lambda d: d.id)


# Where the outbox's writers tell every instance's worker that something is owed (PostgreSQL's
# LISTEN/NOTIFY; on SQLite one process wakes its own worker).
WAKE_CHANNEL = "shop_outbox"


async def announce(conn: Connection) -> None:
    """Wake every instance's delivery worker when this transaction commits (on PostgreSQL, a
    NOTIFY is delivered at commit and dropped with a rollback)."""
    await notify(conn, WAKE_CHANNEL)


async def next_due_at(conn: Connection) -> int | None:
    """When the next pending delivery may be claimed: its next attempt, or the end of the
    claim another instance holds on it."""
    row = await fetch_one(
        conn,
        "SELECT MIN(CASE WHEN claimed_until > next_attempt_at THEN claimed_until"
        " ELSE next_attempt_at END) FROM deliveries WHERE status = 'pending'",
    )
    return int(row[0]) if row and row[0] is not None else None


async def after_restart(conn: Connection) -> int:
    """At start, on SQLite (one process owns the file, so every claim is a dead process's):
    everything still pending is due at once and unclaimed — it may have waited on an outage that
    ended while we were down. On PostgreSQL other instances may be sending right now: nothing
    is touched, and a dead instance's claims expire on their own."""
    if conn.dialect.several_writers:
        return 0
    ts = now()
    return await conn.execute(
        "UPDATE deliveries SET claimed_by = NULL, claimed_until = NULL,"
        " next_attempt_at = CASE WHEN next_attempt_at > ? THEN ? ELSE next_attempt_at END"
        " WHERE status = 'pending' AND (next_attempt_at > ? OR claimed_by IS NOT NULL)",
        (ts, ts, ts),
    )


async def postpone(conn: Connection, delivery_ids: list[int], *, at: int) -> None:
    """Hold deliveries back without counting an attempt (pacing, not failure)."""
    await conn.executemany(
        f"UPDATE deliveries SET next_attempt_at = ?{_UNCLAIMED} WHERE id = ?",
        [(at, delivery_id) for delivery_id in delivery_ids],
    )


# Each takes any number of ids in one round trip (a digest settles hundreds at once), and
# ends the claim (_UNCLAIMED): the row is settled, or due again for whoever claims it next.


async def mark_sent(conn: Connection, *delivery_ids: int) -> None:
    ts = now()
    await conn.executemany(
        "UPDATE deliveries SET status = 'sent', attempts = attempts + 1, sent_at = ?,"
        f" last_error = NULL{_UNCLAIMED} WHERE id = ?",
        [(ts, delivery_id) for delivery_id in delivery_ids],
    )


async def reschedule(conn: Connection, *delivery_ids: int, at: int, error: str) -> None:
    await conn.executemany(
        "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?"
        f"{_UNCLAIMED} WHERE id = ?",
        [(at, error[:500], delivery_id) for delivery_id in delivery_ids],
    )


async def mark_failed(conn: Connection, *delivery_ids: int, error: str) -> None:
    await conn.executemany(
        "UPDATE deliveries SET status = 'failed', attempts = attempts + 1, last_error = ?"
        f"{_UNCLAIMED} WHERE id = ?",
        [(error[:500], delivery_id) for delivery_id in delivery_ids],
    )


async def for_order(conn: Connection, order_id: int) -> list[Delivery]:
    rows = await fetch_all(
        conn, "SELECT * FROM deliveries WHERE order_id = ? ORDER BY id", (order_id,)
    )
    return [Delivery.from_row(row) for row in rows]


async def count_pending(conn: Connection) -> int:
    row = await fetch_one(conn, "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'")
    return int(row[0]) if row else 0
