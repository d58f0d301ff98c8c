"""The Stripe event inbox end to end (shop/stripe_inbox.py): a verified event is answered 2xx once
it is recorded with group commit, and applied right after, in order per order, once.

Real HTTP from the Stripe stand-in, the real app, a real SQLite file. Where the database must
refuse something, a trigger on the shop's file refuses it (installed through a connection of
the test's own), as a full disk or a broken table would: the shop sees SQLite's own error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from shop import stripe_inbox
from storage import inbox
from storage.db import fetch_all
from storage.models import OrderStatus
from tests.backend import sqlite_path
from tests.conftest import ADMIN_ID, BUYER_ID, settings_for, start_app
from tests.shop_records import scratch_db
from tests.story import applied, checkout, order_of, paid_event, settled

# These stories read the inbox straight from the SQLite file (sqlite3), beside the shop.
pytestmark = pytest.mark.sqlite_file

GOODS = "Download: https://files.example/ebook.pdf"


def _execute(db_path: Path, sql: str) -> None:
    conn = sqlite3.connect(db_path, isolation_level=None, timeout=10)
    with contextlib.closing(conn):
        conn.execute(sql)


async def execute(db_path: Path, sql: str) -> None:
    """One statement on the shop's file through a connection of the test's own, in a thread:
    the shop's open transaction needs the event loop to finish before SQLite lets it in."""
    await asyncio.to_thread(_execute, db_path, sql)


@contextlib.asynccontextmanager
async def refusing(db_path: Path, table: str, when: str = "1") -> AsyncIterator[None]:
    """While inside, the database refuses new rows of `table` (those matching `when`)."""
    await execute(
        db_path,
        f"CREATE TRIGGER test_refuses BEFORE INSERT ON {table} WHEN {when}"
        " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
    )
    try:
        yield
    finally:
        await execute(db_path, "DROP TRIGGER test_refuses")


def inbox_rows(db_path: Path) -> list[dict[str, Any]]:
    """The inbox as stored, in arrival order."""
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM stripe_inbox ORDER BY seq")]
    finally:
        conn.close()


def outcomes(db_path: Path) -> list[tuple[str, str]]:
    """What was applied, in the order it was applied: (type, outcome)."""
    conn = sqlite3.connect(db_path)
    try:
        rows = conn.execute("SELECT type, outcome FROM stripe_events ORDER BY rowid")
        return [(str(t), str(o)) for t, o in rows]
    finally:
        conn.close()


async def until(check: Any, what: str, seconds: float = 10.0) -> None:
    """Poll `check()` (a plain callable) until it holds."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never: {what}")
        await asyncio.sleep(0.05)


def goods(telegram: FakeTelegram) -> list[str]:
    return [m.text or "" for m in telegram.messages(BUYER_ID) if GOODS in (m.text or "")]


async def test_a_duplicate_is_recorded_once_and_applied_once(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """Stripe sends the same event three times at once and once more later: every delivery is
    answered 200, the inbox holds it once, and it is applied once."""
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    event = paid_event(stripe_api, session_id)
    answers = await asyncio.gather(*(stripe_api.deliver(event) for _ in range(3)))
    assert [status for status, _ in answers] == [200, 200, 200]
    await settled(app)
    assert (await stripe_api.deliver(event))[0] == 200
    await settled(app)
    path = sqlite_path(app.settings)
    assert [(r["id"], r["attempts"]) for r in inbox_rows(path)] == [(event["id"], 0)]
    assert all(r["applied_at"] is not None for r in inbox_rows(path))
    assert outcomes(path) == [("checkout.session.completed", "paid")]
    assert len(goods(telegram)) == 1


async def test_foreign_unknown_and_malformed_events_never_enter_the_inbox(
    app: ShopApp, stripe_api: FakeStripe, caplog: pytest.LogCaptureFixture
) -> None:
    """Another integration's session and a type this shop does not handle: 200 and one log
    line, as before the inbox. A malformed event: 400, checked before anything is recorded."""
    caplog.set_level(logging.INFO, logger="shop.payments")
    foreign = stripe_api.make_event(
        "checkout.session.completed",
        {"id": "cs_test_elsewhere", "object": "checkout.session", "metadata": {}},
    )
    other = stripe_api.make_event("customer.created", {"id": "cus_1", "object": "customer"})
    malformed = stripe_api.make_event("checkout.session.completed", {"object": "customer"})
    no_charge = stripe_api.make_event("charge.refunded", {"object": "charge"})
    assert (await stripe_api.deliver(foreign))[0] == 200
    assert (await stripe_api.deliver(other))[0] == 200
    assert (await stripe_api.deliver(malformed))[0] == 400
    assert (await stripe_api.deliver(no_charge))[0] == 400
    assert inbox_rows(sqlite_path(app.settings)) == []
    said = [r.getMessage() for r in caplog.records if r.name == "shop.payments"]
    assert [line for line in said if foreign["id"] in line] == [
        f"stripe event {foreign['id']} ignored: session cs_test_elsewhere is not ours"
    ]
    assert [line for line in said if other["id"] in line] == [
        f"stripe event {other['id']} (customer.created) ignored: not a type this shop handles"
    ]


async def test_a_commit_that_fails_is_a_503_and_stripe_s_retry_is_applied_once(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """The inbox's commit fails (the database refuses the rows): every request in it is
    answered 503, nothing is recorded or applied; Stripe's retry is then recorded and applied,
    and the goods go out once."""
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    event = paid_event(stripe_api, session_id)
    path = sqlite_path(app.settings)
    async with refusing(path, "stripe_inbox"):
        answers = await asyncio.gather(*(stripe_api.deliver(event) for _ in range(2)))
        assert [status for status, _ in answers] == [503, 503]
        await applied(app)
        assert inbox_rows(path) == []
        assert (await order_of(app, session_id)).status is OrderStatus.AWAITING_PAYMENT
    assert (await stripe_api.deliver(event))[0] == 200  # Stripe retries
    await settled(app)
    assert (await order_of(app, session_id)).status is OrderStatus.FULFILLED
    assert len(goods(telegram)) == 1


async def test_an_event_whose_apply_fails_is_retried_in_order_and_reported(
    app: ShopApp,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database refuses to apply a payment: the event is answered 200 (it is recorded),
    stays in the inbox, is tried again with backoff, logged, and reported to the admin after
    ALERT_AFTER failures; a later event of the same order waits behind it. Once the database
    takes it, the payment is applied once, then the later event, in that order."""
    monkeypatch.setattr(stripe_inbox, "ALERT_AFTER", 2)
    monkeypatch.setattr(stripe_inbox, "MAX_BACKOFF_SECONDS", 1)
    order, session_id = await _delayed_order(app, telegram, stripe_api)
    completed = stripe_api.session_event("checkout.session.completed", session_id)
    stripe_api.settle(session_id, succeeded=True)
    cleared = stripe_api.session_event("checkout.session.async_payment_succeeded", session_id)
    path = sqlite_path(app.settings)
    refused = "NEW.type = 'checkout.session.completed'"
    async with refusing(path, "stripe_events", when=refused):
        assert (await stripe_api.deliver(completed))[0] == 200
        assert (await stripe_api.deliver(cleared))[0] == 200
        alert = await telegram.wait_for(
            ADMIN_ID, lambda m: "could not be applied after 2 tries" in (m.text or "")
        )
        assert f"Order #{order}" in (alert.text or "") and completed["id"] in (alert.text or "")
        first, second = inbox_rows(path)
        assert first["attempts"] >= 2 and "refused by the test" in first["last_error"]
        assert second["attempts"] == 0 and second["applied_at"] is None  # waits behind it
        assert outcomes(path) == []
    await telegram.wait_for(BUYER_ID, lambda m: "Paid — order" in (m.text or ""))
    await settled(app)
    assert outcomes(path) == [
        ("checkout.session.completed", "processing"),
        ("checkout.session.async_payment_succeeded", "paid"),
    ]
    assert (await order_of(app, session_id)).status is OrderStatus.FULFILLED
    assert len(goods(telegram)) == 1
    tries = [
        r.getMessage()
        for r in caplog.records
        if r.name == "shop.stripe_inbox" and completed["id"] in r.getMessage()
    ]
    assert tries[0].startswith(f"stripe event {completed['id']} (checkout.session.completed)")
    assert "not applied (attempt 1), trying again in 1s" in tries[0]
    assert "refused by the test" in tries[0]
    assert any("has failed 2 times and is still retried" in line for line in tries)


async def _delayed_order(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> tuple[int, str]:
    """An order paid with a delayed method (completed unpaid, confirmed later): (id, session)."""
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    stripe_api.pay(session_id, payment_status="unpaid")
    return (await order_of(app, session_id)).id, session_id


async def test_events_are_recorded_while_telegram_is_down_and_applied_in_stripes_order(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """The shop restarts while Telegram is unreachable: its HTTP server and the inbox are up,
    so Stripe's events are recorded (200) before the bot is ready. They arrived in the wrong
    order (the confirmation before the completion); once the bot is up, the applier applies
    them in Stripe's order (`created`), each once."""
    settings = settings_for(tmp_path, telegram, stripe_api)
    app = await start_app(settings, telegram, stripe_api)
    try:
        _, session_id = await _delayed_order(app, telegram, stripe_api)
    finally:
        await app.stop()
    completed = stripe_api.session_event("checkout.session.completed", session_id)
    stripe_api.settle(session_id, succeeded=True)
    cleared = stripe_api.session_event("checkout.session.async_payment_succeeded", session_id)
    completed["created"], cleared["created"] = 1_800_000_000, 1_800_000_005

    telegram.down = True
    app = ShopApp(settings)
    starting = asyncio.create_task(app.start())
    try:
        await until(lambda: app.port is not None, "the HTTP server listens")
        stripe_api.webhook_url = f"http://127.0.0.1:{app.port}/stripe/webhook"
        assert (await stripe_api.deliver(cleared))[0] == 200
        assert (await stripe_api.deliver(completed))[0] == 200
        assert [r["type"] for r in inbox_rows(sqlite_path(settings))] == [
            "checkout.session.async_payment_succeeded",
            "checkout.session.completed",
        ]
        assert outcomes(sqlite_path(settings)) == []  # recorded, not applied: no bot yet
        telegram.down = False
        await asyncio.wait_for(starting, 20)
        await settled(app)
        assert outcomes(sqlite_path(settings)) == [
            ("checkout.session.completed", "processing"),
            ("checkout.session.async_payment_succeeded", "paid"),
        ]
        assert len(goods(telegram)) == 1
    finally:
        starting.cancel()
        await app.stop()


async def test_healthz_warns_about_an_event_waiting_too_long(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """An event the database will not let the shop apply has waited past STUCK_SECONDS:
    /healthz still answers 200 (payments are recorded), and warns about it."""
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    path = sqlite_path(app.settings)
    url = f"http://127.0.0.1:{app.port}/healthz"
    async with refusing(path, "stripe_events"):
        assert (await stripe_api.deliver(paid_event(stripe_api, session_id)))[0] == 200
        await until(lambda: inbox_rows(path)[0]["attempts"] > 0, "the apply failed")
        await execute(path, "UPDATE stripe_inbox SET received_at = received_at - 600")
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            body = await response.json()
        assert response.status == 200 and body["status"] == "ok"
        assert body["warnings"] == ["a Stripe event has waited 10 min to be applied (see the log)"]
        assert app.db is not None
        assert await inbox.count_waiting(app.db.reader) == 1  # refused until now, still owed


async def test_a_batch_past_one_statement_with_ids_already_there_is_recorded_once(
    tmp_path: Path,
) -> None:
    """The group commit writes a hundred rows per INSERT, each committed on its own: a batch
    of 250 in which some ids were recorded before keeps every event exactly once."""
    arrivals = [
        inbox.Arrival(f"evt_{n}", "checkout.session.completed", f"order:{n}", n, "{}")
        for n in range(250)
    ]
    async with scratch_db(tmp_path) as db:
        async with db.single_statements() as conn:
            await inbox.add(conn, arrivals[90:110], now=1)
            await inbox.add(conn, arrivals, now=2)
        rows = await fetch_all(db.reader, "SELECT id, received_at FROM stripe_inbox")
    assert len(rows) == 250
    assert sorted(int(r[0].removeprefix("evt_")) for r in rows if r[1] == 1) == list(range(90, 110))
