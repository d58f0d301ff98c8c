"""Telegram's updates as received in webhook mode, waiting to be handled, then kept a while."""

from __future__ import annotations

from dataclasses import dataclass

from storage.clock import now
from storage.sql import Connection, fetch_all, notify, placeholders

# Where the webhook tells every instance that an update waits (PostgreSQL's LISTEN/NOTIFY).
WAKE_CHANNEL = "shop_telegram"
KEEP_HANDLED_SECONDS = 24 * 3600


@dataclass(frozen=True)
class WaitingUpdate:
    update_id: int
    chat_id: int
    body: str


async def record(conn: Connection, update_id: int, chat_id: int, part: int, body: str) -> bool:
    """Keep an update until it is handled; False when it was recorded before (Telegram sent
    it again), which is answered 200 all the same and handled once."""
    changed = await conn.execute(
        "INSERT INTO telegram_updates (update_id, chat_id, part, body, received_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (update_id) DO NOTHING",
        (update_id, chat_id, part, body, now()),
    )
    if changed == 1:
        await notify(conn, WAKE_CHANNEL)
    return changed == 1


async def waiting_chats(conn: Connection, parts: list[int], *, limit: int) -> list[int]:
    """Chats with updates not handled yet in the given partitions, the one waiting longest
    first: just their ids (the bodies are read per chat, when its turn comes)."""
    if not parts:
        return []
    rows = await fetch_all(
        conn,
        "SELECT chat_id FROM telegram_updates WHERE handled_at IS NULL"
        f" AND part IN ({placeholders(len(parts))})"  # noqa: S608
        " GROUP BY chat_id ORDER BY MIN(update_id) LIMIT ?",
        (*parts, limit),
    )
    return [int(row[0]) for row in rows]


async def waiting_for_chat(
    conn: Connection, chat_id: int, part: int, *, limit: int
) -> list[WaitingUpdate]:
    """One chat's updates not handled yet, oldest first (`part` is the chat's partition: it
    lets the waiting updates' index find them)."""
    rows = await fetch_all(
        conn,
        "SELECT update_id, chat_id, body FROM telegram_updates WHERE handled_at IS NULL"
        " AND part = ? AND chat_id = ? ORDER BY update_id LIMIT ?",
        (part, chat_id, limit),
    )
    return [WaitingUpdate(int(row[0]), int(row[1]), str(row[2])) for row in rows]


async def mark_handled(conn: Connection, update_id: int) -> None:
    await conn.execute(
        "UPDATE telegram_updates SET handled_at = ? WHERE update_id = ?", (now(), update_id)
    )


async def forget_handled(conn: Connection) -> int:
    """Drop what was handled more than a day ago (Telegram stops resending long before)."""
    return await conn.execute(
        "DELETE FROM telegram_updates WHERE handled_at IS NOT NULL AND handled_at < ?",
        (now() - KEEP_HANDLED_SECONDS,),
    )
