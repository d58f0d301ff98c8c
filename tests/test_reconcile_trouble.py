"""Reconciliation under trouble: Stripe throttling or down, sessions not ours, a restart."""

from __future__ import annotations

from pathlib import Path

import pytest
import stripe

from bot import reconcile as reconcile_schedule
from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from shop.gateways.stripe_gateway import NETWORK_RETRIES
from shop.reconcile import reconcile
from storage.clock import now
from storage.models import OrderStatus
from tests.conftest import BUYER_ID, OTHER_BUYER_ID, settings_for, start_app
from tests.reconcile_steps import shop, texts_to
from tests.story import checkout, order_of, settled

pytestmark = pytest.mark.usefixtures("no_scheduled_reconcile")


async def make_overdue(app: ShopApp, session_id: str) -> None:
    """Move an order's link expiry into the past, as if its whole life had gone by."""
    order = await order_of(app, session_id)
    assert app.db is not None
    async with app.db.transaction() as tx:
        await tx.execute("UPDATE orders SET expires_at = ? WHERE id = ?", (now() - 3600, order.id))


async def test_stripe_throttling_ends_the_run_and_the_next_one_catches_up(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    _, paid_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    stripe_api.pay(paid_id)
    _, lapsed_id = await checkout(app, telegram, stripe_api, OTHER_BUYER_ID)
    await make_overdue(app, lapsed_id)  # would be retrieved by itself if the run went on
    stripe_api.expire(lapsed_id)
    stripe_api.fail_next("GET", "/v1/checkout/sessions", status=429)
    calls = len(stripe_api.requests_to("GET", "/v1/checkout/sessions"))

    report = await reconcile(shop(app))

    assert (report.errors, report.seen, report.changed) == (1, 0, False)
    assert len(stripe_api.requests_to("GET", "/v1/checkout/sessions")) == calls + 1  # stopped
    assert (await order_of(app, paid_id)).status is OrderStatus.AWAITING_PAYMENT
    assert (await order_of(app, lapsed_id)).status is OrderStatus.AWAITING_PAYMENT
    report = await reconcile(shop(app))
    assert (report.errors, report.paid, report.expired) == (0, 1, 1)
    await settled(app)
    assert (await order_of(app, paid_id)).status is OrderStatus.FULFILLED
    assert (await order_of(app, lapsed_id)).status is OrderStatus.EXPIRED


async def test_a_stripe_outage_while_listing_leaves_the_rest_of_the_run_going(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0.01)  # the SDK's own retries
    _, lapsed_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    await make_overdue(app, lapsed_id)
    stripe_api.expire(lapsed_id)
    # The listing fails through all of the SDK's retries; retrieving one session then works.
    stripe_api.fail_next("GET", "/v1/checkout/sessions", times=1 + NETWORK_RETRIES, status=503)

    report = await reconcile(shop(app))

    assert (report.errors, report.expired) == (1, 1)
    assert (await order_of(app, lapsed_id)).status is OrderStatus.EXPIRED


async def test_sessions_that_are_not_ours_are_ignored(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    order = await order_of(app, session_id)
    http = stripe.AIOHTTPClient()
    client = stripe.StripeClient(
        stripe_api.api_key, base_addresses={"api": stripe_api.api_base}, http_client=http
    )
    try:  # another integration on the same account; one claiming our order from elsewhere
        others = [
            await client.v1.checkout.sessions.create_async(
                {
                    "mode": "payment",
                    "line_items": [
                        {
                            "quantity": 1,
                            "price_data": {
                                "currency": "usd",
                                "unit_amount": order.amount_total,
                                "product_data": {"name": "Elsewhere"},
                            },
                        }
                    ],
                    "success_url": "https://elsewhere.test/done",
                    "metadata": metadata,
                }
            )
            for metadata in ({}, {"order_id": str(order.id), "order_ref": "another-database"})
        ]
    finally:
        await http.close_async()  # type: ignore[no-untyped-call]
    for other in others:
        stripe_api.pay(other.id)

    report = await reconcile(shop(app))

    assert (report.seen, report.changed, report.errors) == (3, False, 0)
    assert (await order_of(app, session_id)).status is OrderStatus.AWAITING_PAYMENT
    await settled(app)
    assert not texts_to(telegram, BUYER_ID, "Your purchase")


async def test_the_job_runs_by_itself_at_start(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Paid while the shop was down and the webhook lost: the restart delivers it unasked."""
    settings = settings_for(tmp_path, telegram, stripe_api)
    app = await start_app(settings, telegram, stripe_api)
    try:
        pay_message, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    finally:
        await app.stop()
    stripe_api.pay(session_id)

    monkeypatch.setattr(reconcile_schedule, "FIRST_RUN_SECONDS", 0.2)
    app = await start_app(settings, telegram, stripe_api)
    try:
        receipt = await telegram.wait_for(
            BUYER_ID, lambda m: "Your purchase" in (m.text or ""), timeout=10
        )
        assert receipt.message_id == pay_message.message_id
        await settled(app)
        assert (await order_of(app, session_id)).status is OrderStatus.FULFILLED
    finally:
        await app.stop()
