"""Each person's language (table `person_languages`, migration 0011): the one they chose with
/language and the one their Telegram app last reported. Codes are stored as the catalogs name
them ("pt_BR"); which of them a person gets is decided in shop/i18n.py, not here."""

from __future__ import annotations

from dataclasses import dataclass

from storage.clock import now
from storage.sql import Connection, fetch_one


@dataclass(frozen=True)
class PersonLanguage:
    chosen: str | None  # set with /language; wins over what Telegram says
    seen: str | None  # the language_code of their latest update


async def of(conn: Connection, user_id: int) -> PersonLanguage:
    row = await fetch_one(
        conn, "SELECT chosen, seen FROM person_languages WHERE user_id = ?", (user_id,)
    )
    return PersonLanguage(row[0], row[1]) if row else PersonLanguage(None, None)


async def choose(conn: Connection, user_id: int, code: str | None) -> None:
    """Remember a person's /language choice (None: follow their Telegram app again)."""
    await conn.execute(
        "INSERT INTO person_languages (user_id, chosen, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET chosen = excluded.chosen,"
        " updated_at = excluded.updated_at",
        (user_id, code, now()),
    )


async def saw(conn: Connection, user_id: int, code: str | None) -> None:
    """Remember the language Telegram reported for a person (written only when it changed)."""
    await conn.execute(
        "INSERT INTO person_languages (user_id, seen, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET seen = excluded.seen,"
        " updated_at = excluded.updated_at",
        (user_id, code, now()),
    )
