"""Fuzz `/stripe/webhook` and `/telegram/webhook` with 10,000+ generated requests, one app.

Why: the two webhooks are the only doors anyone on the internet can knock on. Whatever arrives —
forged or stale signatures, truncated or non-UTF-8 bodies, huge bodies, mangled events, updates
of every shape — the shop must answer with a 2xx or 4xx instead of crashing, must not change a
single row for anything it cannot authenticate, and must go on selling afterwards. No 5xx at
all: a correctly signed checkout.session event naming an order this database does not have is
another integration's (or another database's) and is answered 200 — a 5xx would make Stripe
retry it for three days (`test_signed_event_for_an_order_we_do_not_have_is_200`).

The generator is a seeded `random.Random`: every run sends the same requests (bar timestamps and
ids the app assigns), so a failure message names a request that can be replayed. The five ways
to a 5xx it first found are pinned by small regression tests at the end of this module.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import aiohttp
import pytest

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from storage import orders
from storage.models import OrderStatus
from tests.conftest import settings_for, start_app
from tests.fuzz_requests import (
    CONCURRENCY,
    SEED,
    SESSION_TYPES,
    STRIPE_SIGNED,
    STRIPE_UNSIGNED,
    TABLES,
    TELEGRAM_SIGNED,
    TELEGRAM_UNSIGNED,
    TG_SECRET,
    Outcome,
    World,
)
from tests.fuzz_shop import (
    _coverage,
    _sending_calls,
    _world,
    buy_via_webhook,
    fire,
    quiesce,
    snapshot,
    statistics,
    violations,
)
from tests.fuzz_stripe_inputs import stripe_signed, stripe_unsigned
from tests.fuzz_telegram_inputs import telegram_signed, telegram_unsigned
from tests.story import add_product, applied

# --------------------------------------------------------------------------- the tests


async def _unauthenticated_phase(
    http: aiohttp.ClientSession,
    app: ShopApp,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    rng: random.Random,
    world: World,
) -> list[Outcome]:
    """Phase 1: nothing authenticated. Not one row and not one message may change."""
    assert app.port is not None
    port = app.port
    before = await snapshot(app)
    sends_before = _sending_calls(telegram)
    creates_before = len(stripe_api.requests_to("POST", "/v1/"))
    unsigned = await fire(http, port, lambda: stripe_unsigned(rng, world), STRIPE_UNSIGNED)
    unsigned += await fire(http, port, lambda: telegram_unsigned(rng, world), TELEGRAM_UNSIGNED)
    await asyncio.sleep(0.5)  # anything wrongly queued would start acting now
    after = await snapshot(app)
    changed = {t: (before[t], after[t]) for t in TABLES if before[t] != after[t]}
    assert not changed, f"unsigned requests changed the database: {changed}"
    assert _sending_calls(telegram) == sends_before, "unsigned requests made the bot talk"
    assert len(stripe_api.requests_to("POST", "/v1/")) == creates_before
    return unsigned


async def _still_healthy_and_selling(
    http: aiohttp.ClientSession, app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """Still healthy, and still selling: a whole purchase after the storm."""
    async with http.get(f"http://127.0.0.1:{app.port}/healthz") as response:
        assert response.status == 200, await response.text()
    assert app.application.running
    buyer = 799999
    product_id = await add_product(app, title="After the storm", delivery_text="GOODS-calm")
    pay, session_id = await buy_via_webhook(http, app, telegram, stripe_api, buyer, product_id)
    stripe_api.pay(session_id)
    event = stripe_api.session_event("checkout.session.completed", session_id)
    assert (await stripe_api.deliver(event))[0] == 200
    await telegram.wait_for(
        buyer,
        lambda m: m.message_id == pay.message_id and "GOODS-calm" in (m.text or ""),
        timeout=90,
    )
    await quiesce(app, telegram, stripe_api)
    assert app.db is not None
    order = await orders.by_session(app.db.reader, session_id)
    assert order is not None and order.status is OrderStatus.FULFILLED


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_fuzz_both_webhooks(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """10,000+ requests against one app in webhook mode; see the module docstring."""
    settings = settings_for(
        tmp_path, telegram, stripe_api, TELEGRAM_MODE="webhook", TELEGRAM_WEBHOOK_SECRET=TG_SECRET
    )
    app = await start_app(settings, telegram, stripe_api)
    rng = random.Random(SEED)
    started = time.monotonic()
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    timeout = aiohttp.ClientTimeout(total=120)
    try:
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            assert app.port is not None
            port = app.port
            world = await _world(http, app, telegram, stripe_api)
            await quiesce(app, telegram, stripe_api)
            unsigned = await _unauthenticated_phase(http, app, telegram, stripe_api, rng, world)

            # Phase 2: authenticated but mangled. May change rows; may never crash.
            signed = await fire(http, port, lambda: stripe_signed(rng, world), STRIPE_SIGNED)
            signed += await fire(http, port, lambda: telegram_signed(rng, world), TELEGRAM_SIGNED)
            results = unsigned + signed
            elapsed = time.monotonic() - started

            await _still_healthy_and_selling(http, app, telegram, stripe_api)
            coverage = await _coverage(app)
    finally:
        await app.stop()

    problems = violations(results)
    summary = (
        f"{len(results)} requests in {elapsed:.1f}s "
        f"({len(unsigned)} unauthenticated, {len(signed)} authenticated); "
        f"{coverage}\n{statistics(results)}"
    )
    print(summary)
    assert len(results) >= 10_000
    assert not problems, f"{len(problems)} violations, e.g.:\n" + "\n".join(problems[:25])


async def test_signed_event_for_an_order_we_do_not_have_is_200(
    app: ShopApp, stripe_api: FakeStripe, caplog: pytest.LogCaptureFixture
) -> None:
    """A signed session event naming an order id (ASCII, Arabic-Indic or superscript digits)
    that this database does not have, or ours without our order reference, is not ours: 200 and
    one log line, no traceback, never a retry loop (it used to be 503 forever); nothing changes
    but the event's records (received in the inbox, applied as "foreign")."""
    before = await snapshot(app)
    for raw_id, ref in [
        ("424242", "0123456789abcdef01234567"),
        ("١٢", "0123456789abcdef01234567"),
        ("²", "0123456789abcdef01234567"),
        ("1", None),
    ]:
        metadata = {"order_id": raw_id} | ({"order_ref": ref} if ref else {})
        session = {
            "id": "cs_test_missing_order",
            "object": "checkout.session",
            "metadata": metadata,
            "payment_status": "paid",
            "status": "complete",
            "amount_total": 999,
            "currency": "usd",
            "livemode": False,
            "payment_intent": "pi_missing",
        }
        for type_ in SESSION_TYPES:
            event = stripe_api.make_event(type_, session)
            for _ in range(2):  # a retry is answered the same way
                caplog.clear()
                status, body = await stripe_api.deliver(event)
                assert status == 200, (raw_id, type_, status, body)
                assert not [r for r in caplog.records if r.exc_info], raw_id
    await applied(app)
    records = ("stripe_inbox", "stripe_events")
    after = await snapshot(app)
    assert {k: v for k, v in after.items() if k not in records} == {
        k: v for k, v in before.items() if k not in records
    }
