"""Scenario 1's data: the orders seeded before the shop starts, one signed-to-be event body per
order, and what the bench reads back from the shop's database file (beside the running shop, as
WAL allows): the inbox's backlog and the paid orders.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any

from bench.harness import ADMIN_ID, PUBLIC_BASE_URL, TimedStripe, TimedTelegram
from shop.gateways.stripe_gateway import CheckoutSettings, StripeGateway
from storage import orders, products
from storage.clock import now
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


async def drained(database: Path, within: float = 300.0) -> tuple[int, float]:
    """Wait for the shop's applier to apply every event its inbox recorded: (events waiting
    when the load stopped, seconds until none was left)."""
    began = time.monotonic()
    backlog = left = waiting(database)
    while left:
        if time.monotonic() - began > within:
            raise RuntimeError(f"{left} events still not applied after {within:.0f} s")
        await asyncio.sleep(0.05)
        left = waiting(database)
    return backlog, time.monotonic() - began


def waiting(database: Path) -> int:
    """Events the shop's inbox holds unapplied (read beside the running shop, as WAL allows)."""
    with contextlib.closing(sqlite3.connect(database, timeout=10)) as conn:
        row = conn.execute("SELECT COUNT(*) FROM stripe_inbox WHERE applied_at IS NULL")
        return int(row.fetchone()[0])


async def count_paid(database: Path) -> int:
    db = await SqliteDatabase.open(database)
    try:
        row = await fetch_one(
            db.reader, "SELECT COUNT(*) FROM orders WHERE status IN ('paid', 'fulfilled')"
        )
    finally:
        await db.close()
    return int(row[0]) if row else 0
