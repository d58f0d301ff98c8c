"""Scenario 1's data: the orders seeded before the shop starts, one signed-to-be event body per
order, the same orders copied to PostgreSQL (so that the same bodies pay them there), and what
the bench reads back from the shop's database (beside the running shop, as WAL allows on
SQLite): the inbox's backlog and the paid orders.

A database is a SQLite file (a Path) or a PostgreSQL URL (a str), as testkit.process takes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import psycopg

from bench.harness import ADMIN_ID, PUBLIC_BASE_URL, TimedStripe, TimedTelegram
from shop.gateways.stripe_gateway import CheckoutSettings, StripeGateway
from storage import orders, products
from storage.clock import now
from storage.copy import copy_shop
from storage.db import DatabaseTarget, PostgresServer, SqliteFile, open_database
from storage.models import Order, OrderStatus, ProductKind
from storage.sql import fetch_one
from storage.sqlite import SqliteDatabase

BUYERS = 500


async def seed_orders(database: Path, count: int) -> tuple[list[Order], int]:
    """`count` orders awaiting payment with their session ids, as checkout leaves them."""
    db = await SqliteDatabase.open(database)
    made: list[Order] = []
    try:
        async with db.transaction() as tx:
            product_id = await products.add(
                tx,
                title="Flash drop: signed poster",
                description="Limited edition.",
                price_minor=2500,
                currency="usd",
                delivery_text="Your download: https://files.example/poster.pdf",
            )
            expires = now() + 3600
            for i in range(count):
                buyer = 700_000 + i % BUYERS
                order = await orders.create(
                    tx,
                    buyer_user_id=buyer,
                    buyer_chat_id=buyer,
                    buyer_name=f"Buyer {buyer}",
                    lines=[
                        orders.NewLine(
                            product_id,
                            "Flash drop: signed poster",
                            ProductKind.DIGITAL_TEXT,
                            2500,
                            1,
                        )
                    ],
                    currency="usd",
                    expires_at=expires,
                )
                session_id = "cs_test_" + secrets.token_hex(29)
                await orders.update(
                    tx,
                    order.id,
                    checkout_session_id=session_id,
                    checkout_url=f"https://checkout.stripe.com/c/pay/{session_id}",
                )
                await orders.transition(tx, order, OrderStatus.AWAITING_PAYMENT)
                current = await orders.get(tx, order.id)
                assert current is not None
                made.append(current)
    finally:
        await db.close()
    return made, product_id


async def template_event(stripe_api: TimedStripe, order: Order, database: Path) -> dict[str, Any]:
    """A checkout.session.completed as the stand-in sends it, for one real session."""
    db = await SqliteDatabase.open(database)
    try:
        product = await products.get(db.reader, order.lines[0].product_id)
    finally:
        await db.close()
    assert product is not None
    gateway = StripeGateway(stripe_api.api_key, stripe_api.api_base)
    try:
        link = await gateway.create_checkout_session(
            order, {product.id: product}, [], CheckoutSettings(PUBLIC_BASE_URL, False, ("US",))
        )
    finally:
        await gateway.close()
    stripe_api.pay(link.session_id)
    return stripe_api.session_event("checkout.session.completed", link.session_id)


def event_for(template: dict[str, Any], order: Order) -> bytes:
    """The template re-labelled for `order`, serialised the way Stripe sends it."""
    event = copy.deepcopy(template)
    event["id"] = "evt_" + secrets.token_hex(12)
    session = event["data"]["object"]
    assert order.checkout_session_id is not None
    session["id"] = order.checkout_session_id
    session["client_reference_id"] = str(order.id)
    session["metadata"] = {"order_id": str(order.id), "order_ref": order.ref}
    session["payment_intent"] = "pi_" + secrets.token_hex(12)
    return json.dumps(event, indent=2).encode()


async def prepared_bodies(
    telegram: TimedTelegram, stripe_api: TimedStripe, database: Path, count: int
) -> list[bytes]:
    """Buyers who started the bot, the orders seeded, and one signed-to-be event per order."""
    telegram.user_sends(ADMIN_ID, "/help", first_name="Admin", queue=False)
    for i in range(BUYERS):
        telegram.user_sends(700_000 + i, "/start", queue=False)
    made, _ = await seed_orders(database, count + 1)
    template = await template_event(stripe_api, made[-1], database)
    return [event_for(template, order) for order in made[:-1]]


def target(database: Path | str) -> DatabaseTarget:
    """The storage layer's name for a bench database: a SQLite file or a PostgreSQL URL."""
    return SqliteFile(database) if isinstance(database, Path) else PostgresServer(database)


async def copied_to_postgres(database: Path, url: str) -> float:
    """The seeded SQLite shop copied, ids and session ids kept, into the empty PostgreSQL
    database at `url` with the shop's own `storage.copy` (which checks counts and totals), so
    that the very same signed bodies pay the very same orders there; the seconds it took."""
    report = await copy_shop(SqliteFile(database), PostgresServer(url))
    return report.seconds


WAITING = "SELECT COUNT(*) FROM stripe_inbox WHERE applied_at IS NULL"


async def drained(database: Path | str, within: float = 300.0) -> tuple[int, float]:
    """Wait for the shop's applier to apply every event its inbox recorded: (events waiting
    when the load stopped, seconds until none was left)."""
    async with _waiting_counter(database) as waiting:
        began = time.monotonic()
        backlog = left = await waiting()
        while left:
            if time.monotonic() - began > within:
                raise RuntimeError(f"{left} events still not applied after {within:.0f} s")
            await asyncio.sleep(0.05)
            left = await waiting()
    return backlog, time.monotonic() - began


@contextlib.asynccontextmanager
async def _waiting_counter(database: Path | str) -> AsyncIterator[Callable[[], Awaitable[int]]]:
    """How many events the shop's inbox holds unapplied, read beside the running shop: on
    SQLite a short connection per look (as WAL allows), on PostgreSQL one connection."""
    if isinstance(database, Path):

        async def in_file() -> int:
            with contextlib.closing(sqlite3.connect(database, timeout=10)) as conn:
                return int(conn.execute(WAITING).fetchone()[0])

        yield in_file
        return
    async with await psycopg.AsyncConnection.connect(database, autocommit=True) as conn:

        async def on_server() -> int:
            row = await (await conn.execute(WAITING)).fetchone()
            return int(row[0]) if row else 0

        yield on_server


async def count_paid(database: Path | str) -> int:
    """Orders paid or fulfilled, read once the shop has stopped."""
    db = await open_database(target(database))
    try:
        row = await fetch_one(
            db.reader, "SELECT COUNT(*) FROM orders WHERE status IN ('paid', 'fulfilled')"
        )
    finally:
        await db.close()
    return int(row[0]) if row else 0
