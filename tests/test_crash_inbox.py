"""SIGKILL between the 2xx and the apply: every event Stripe was told we have is applied after
the restart, exactly once.

The real `python -m bot` (testkit's child process, as the crash storm runs it) takes a burst of
signed checkout.session.completed events for orders seeded in its database. The inbox answers
each once it is committed, far faster than the applier applies them, so when the last answer
arrives many events are recorded but not applied yet; the process is killed right then. The
database as the kill left it must hold those events, unapplied; after a restart (and Stripe
sending some of them again) every order is paid once, every event applied once, the goods
owed once per order, and nothing is left in the inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from storage import orders, products
from storage.clock import now
from storage.models import Order, OrderStatus, ProductKind
from storage.sqlite import SqliteDatabase
from testkit.process import shop_process
from tests.conftest import ADMIN_ID

ORDERS = 400
CONCURRENCY = 32
PRICE = 999
FIRST_BUYER = 760_000


async def _seed(db_path: Path) -> list[Order]:
    """ORDERS orders awaiting payment, each with its Checkout Session, as checkout leaves them."""
    db = await SqliteDatabase.open(db_path)
    made: list[Order] = []
    try:
        async with db.transaction() as tx:
            product_id = await products.add(
                tx, title="Crash ebook", price_minor=PRICE, currency="usd", delivery_text="GOODS"
            )
            line = orders.NewLine(product_id, "Crash ebook", ProductKind.DIGITAL_TEXT, PRICE, 1)
            for n in range(ORDERS):
                buyer = FIRST_BUYER + n
                order = await orders.create(
                    tx,
                    buyer_user_id=buyer,
                    buyer_chat_id=buyer,
                    buyer_name="Buyer",
                    lines=[line],
                    currency="usd",
                    expires_at=now() + 3600,
                )
                await orders.update(tx, order.id, checkout_session_id=f"cs_test_crash_{n}")
                await orders.transition(tx, order, OrderStatus.AWAITING_PAYMENT)
                made.append(order)
    finally:
        await db.close()
    return made


def _paid(stripe_api: FakeStripe, order: Order, n: int) -> dict[str, Any]:
    """checkout.session.completed for the order's session, paid in full."""
    session = {
        "id": f"cs_test_crash_{n}",
        "object": "checkout.session",
        "client_reference_id": str(order.id),
        "metadata": {"order_id": str(order.id), "order_ref": order.ref},
        "status": "complete",
        "payment_status": "paid",
        "amount_subtotal": PRICE,
        "amount_total": PRICE,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "currency": "usd",
        "livemode": False,
        "payment_intent": f"pi_crash_{n}",
    }
    return stripe_api.make_event("checkout.session.completed", session)


async def _post_all(
    http: aiohttp.ClientSession, url: str, stripe_api: FakeStripe, events: list[dict[str, Any]]
) -> list[int]:
    """Deliver every event, CONCURRENCY at a time, signed as Stripe signs: the statuses."""
    limit = asyncio.Semaphore(CONCURRENCY)

    async def post(event: dict[str, Any]) -> int:
        body = json.dumps(event, indent=2).encode()
        headers = {"Stripe-Signature": stripe_api.sign(body), "Content-Type": "application/json"}
        async with limit, http.post(url, data=body, headers=headers) as response:
            return response.status

    return list(await asyncio.gather(*map(post, events)))


def _one(db_path: Path, sql: str) -> Any:
    with contextlib.closing(sqlite3.connect(db_path, timeout=10)) as conn:
        return conn.execute(sql).fetchone()[0]


async def _drained(db_path: Path, seconds: float) -> None:
    """Wait for the restarted shop to apply everything its inbox holds."""
    deadline = time.monotonic() + seconds
    waiting = "SELECT COUNT(*) FROM stripe_inbox WHERE applied_at IS NULL"
    while _one(db_path, waiting):
        if time.monotonic() > deadline:
            raise AssertionError(f"{_one(db_path, waiting)} events still not applied")
        await asyncio.sleep(0.1)


@pytest.mark.sqlite_file
@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_sigkill_after_the_2xx_loses_no_event_and_applies_none_twice(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    db_path = tmp_path / "shop.db"
    made = await _seed(db_path)
    events = [_paid(stripe_api, order, n) for n, order in enumerate(made)]
    telegram.user_sends(ADMIN_ID, "/help", first_name="Admin", queue=False)
    shop, port = shop_process(
        telegram, stripe_api, db_path, tmp_path, "bot", admin_id=ADMIN_ID,
        public_base_url="https://shop.test",
    )  # fmt: skip
    health, url = f"http://127.0.0.1:{port}/healthz", f"http://127.0.0.1:{port}/stripe/webhook"
    try:
        await shop.start()
        await shop.wait_http(health)
        async with aiohttp.ClientSession() as http:
            statuses = await _post_all(http, url, stripe_api, events)
            await shop.kill()  # right after the last 2xx: no handler runs, nothing is flushed
        assert set(statuses) == {200}, shop.log_path.read_text()[-3000:]
        recorded = _one(db_path, "SELECT COUNT(*) FROM stripe_inbox")
        unapplied = _one(db_path, "SELECT COUNT(*) FROM stripe_inbox WHERE applied_at IS NULL")
        assert recorded == ORDERS  # every 2xx was on disk
        assert unapplied > 0, "the kill came after the applier had caught up: nothing tested"

        await shop.start()
        await shop.wait_http(health)
        async with aiohttp.ClientSession() as http:  # Stripe sends some of them again
            assert set(await _post_all(http, url, stripe_api, events[::7])) == {200}
        await _drained(db_path, 60)
    finally:
        assert await shop.stop(20) == 0, shop.log_path.read_text()[-3000:]

    paid = "SELECT COUNT(*) FROM orders WHERE status IN ('paid', 'fulfilled')"
    assert _one(db_path, paid) == ORDERS
    assert _one(db_path, "SELECT COUNT(*) FROM stripe_events WHERE outcome = 'paid'") == ORDERS
    assert _one(db_path, "SELECT COUNT(*) FROM stripe_events") == ORDERS
    goods = "SELECT COUNT(*), COUNT(DISTINCT order_id) FROM deliveries WHERE kind = 'goods'"
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute(goods).fetchone() == (ORDERS, ORDERS)
    log = shop.log_path.read_text()
    assert f"stripe inbox: {unapplied} events waiting to be applied, applying now" in log
