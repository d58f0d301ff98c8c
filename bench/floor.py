"""Two more yardsticks for the webhook path, between bare and ours: what recording an event
durably costs before the 2xx, whatever the shop then does with it.

- ``record``: verify the signature, parse the JSON, and insert the event id in one transaction
  of the shop's own `storage.db.Database` (its lock, BEGIN IMMEDIATE, aiosqlite) per request:
  the least that DESIGN's "record the event in a transaction, then answer 2xx" can cost.
- ``group``: the same checks, but queued events are inserted by one writer task with one
  ``executemany`` per transaction (group commit): the "transactional inbox" FINDINGS §1 weighs.

Run as its own process, like the shop and bare (`python -m bench.floor <port> <mode> <db>`),
where <db> is a SQLite file or a `postgresql://` URL: the floors are measured on both engines,
beside the shop on each. On PostgreSQL the transactions are not serial (an insert of its own
is safe side by side, so the pool's connections commit concurrently), and the table's body is
`bytea`, PostgreSQL's BLOB.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import stripe
from aiohttp import web

from bench.bare import serve_until_signal
from storage.db import Database, PostgresServer, SqliteFile, open_database

_TABLE = "CREATE TABLE IF NOT EXISTS bench_inbox (event_id TEXT PRIMARY KEY, body {} NOT NULL)"
INBOX = {"sqlite": _TABLE.format("BLOB"), "postgresql": _TABLE.format("BYTEA")}
INSERT = {
    "sqlite": "INSERT OR IGNORE INTO bench_inbox (event_id, body) VALUES (?, ?)",
    "postgresql": (
        "INSERT INTO bench_inbox (event_id, body) VALUES (?, ?) ON CONFLICT (event_id) DO NOTHING"
    ),
}


def _verified(request_body: bytes, signature: str, secret: str) -> tuple[str, bytes]:
    stripe.WebhookSignature.verify_header(request_body, signature, secret, 300)
    return str(json.loads(request_body)["id"]), request_body


class GroupCommit:
    """One writer: whatever queued while the last transaction ran goes into the next one."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._insert = INSERT[db.dialect.name]
        self._queue: asyncio.Queue[tuple[str, bytes, asyncio.Future[None]]] = asyncio.Queue()
        self._task = asyncio.create_task(self._run())

    async def record(self, event_id: str, body: bytes) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((event_id, body, done))
        await done

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            async with self._db.transaction(serial=False) as tx:
                await tx.executemany(
                    self._insert, [(event_id, body) for event_id, body, _ in batch]
                )
            for _, _, done in batch:
                done.set_result(None)


async def serve(port: int, mode: str, database: str) -> None:
    target = PostgresServer(database) if database.startswith("postgresql://") else None
    db = await open_database(target or SqliteFile(Path(database)))
    async with db.transaction() as tx:
        await tx.execute(INBOX[db.dialect.name])
    insert = INSERT[db.dialect.name]
    secret = os.environ["STRIPE_WEBHOOK_SECRET"]
    group = GroupCommit(db) if mode == "group" else None

    async def webhook(request: web.Request) -> web.Response:
        body = await request.read()
        event_id, raw = _verified(body, request.headers["Stripe-Signature"], secret)
        if group is not None:
            await group.record(event_id, raw)
        else:
            async with db.transaction(serial=False) as tx:
                await tx.execute(insert, (event_id, raw))
        return web.json_response({"received": True})

    try:
        await serve_until_signal(webhook, port)
    finally:
        await db.close()


def main() -> int:
    asyncio.run(serve(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
