"""Two more yardsticks for the webhook path, between bare and ours: what recording an event
durably costs before the 2xx, whatever the shop then does with it.

- ``record``: verify the signature, parse the JSON, and insert the event id in one transaction
  of the shop's own `storage.db.Database` (its lock, BEGIN IMMEDIATE, aiosqlite) per request:
  the least that DESIGN's "record the event in a transaction, then answer 2xx" can cost.
- ``group``: the same checks, but queued events are inserted by one writer task with one
  ``executemany`` per transaction (group commit): the "transactional inbox" FINDINGS §1 weighs.

Run as its own process, like the shop and bare (`python -m bench.floor <port> <mode> <db>`).
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
from storage.db import Database
from storage.sqlite import SqliteDatabase

INBOX = "CREATE TABLE IF NOT EXISTS bench_inbox (event_id TEXT PRIMARY KEY, body BLOB NOT NULL)"
INSERT = "INSERT OR IGNORE INTO bench_inbox (event_id, body) VALUES (?, ?)"


def _verified(request_body: bytes, signature: str, secret: str) -> tuple[str, bytes]:
    stripe.WebhookSignature.verify_header(request_body, signature, secret, 300)
    return str(json.loads(request_body)["id"]), request_body


class GroupCommit:
    """One writer: whatever queued while the last transaction ran goes into the next one."""

    def __init__(self, db: Database) -> None:
        self._db = db
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
            async with self._db.transaction() as tx:
                await tx.executemany(INSERT, [(event_id, body) for event_id, body, _ in batch])
            for _, _, done in batch:
                done.set_result(None)


async def serve(port: int, mode: str, database: Path) -> None:
    db = await SqliteDatabase.open(database)
    async with db.transaction() as tx:
        await tx.execute(INBOX)
    secret = os.environ["STRIPE_WEBHOOK_SECRET"]
    group = GroupCommit(db) if mode == "group" else None

    async def webhook(request: web.Request) -> web.Response:
        body = await request.read()
        event_id, raw = _verified(body, request.headers["Stripe-Signature"], secret)
        if group is not None:
            await group.record(event_id, raw)
        else:
            async with db.transaction() as tx:
                await tx.execute(INSERT, (event_id, raw))
        return web.json_response({"received": True})

    try:
        await serve_until_signal(webhook, port)
    finally:
        await db.close()


def main() -> int:
    asyncio.run(serve(int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
