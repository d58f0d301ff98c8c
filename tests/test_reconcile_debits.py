"""Bank debits confirmed days later: reconciliation delivers or releases them once, unasked."""

from __future__ import annotations

import pytest

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from shop.reconcile import reconcile
from storage import stock
from storage.clock import now
from storage.models import OrderStatus
from tests.conftest import BUYER_ID
from tests.reconcile_steps import shop, stock_product, texts_to
from tests.story import add_product, buy, checkout, open_card, order_of, session_of, settled

pytestmark = pytest.mark.usefixtures("no_scheduled_reconcile")


async def test_a_delayed_payment_without_webhook_becomes_processing(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    stripe_api.pay(session_id, payment_status="unpaid")  # a bank debit: complete, not yet paid

    report = await reconcile(shop(app))
    assert (report.processing, report.paid, report.errors) == (1, 0, 0)
    await settled(app)
    assert (await order_of(app, session_id)).status is OrderStatus.PROCESSING
    assert (await reconcile(shop(app))).changed is False
    await settled(app)
    assert len(texts_to(telegram, BUYER_ID, "is being confirmed")) == 1
    assert not texts_to(telegram, BUYER_ID, "Your purchase")


async def delayed_payment_days_ago(
    app: ShopApp,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    days: int,
    product_id: int | None = None,
) -> str:
    """A bank debit whose 'being confirmed' webhook came `days` ago; its session is that old."""
    product_id = product_id or await add_product(app)
    pay_message = await buy(telegram, BUYER_ID, await open_card(telegram, BUYER_ID, product_id))
    session_id = session_of(stripe_api, pay_message)
    stripe_api.pay(session_id, payment_status="unpaid")
    completed = stripe_api.session_event("checkout.session.completed", session_id)
    assert (await stripe_api.deliver(completed))[0] == 200
    await settled(app)
    order = await order_of(app, session_id)
    assert order.status is OrderStatus.PROCESSING
    then = now() - days * 24 * 60 * 60
    stripe_api.sessions[session_id]["created"] = then
    assert app.db is not None
    async with app.db.transaction() as tx:
        await tx.execute(
            "UPDATE orders SET created_at = ?, updated_at = ?, expires_at = ? WHERE id = ?",
            (then, then, then + 3600, order.id),
        )
    return session_id


async def test_a_debit_settling_days_later_without_webhook_is_delivered_once(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    session_id = await delayed_payment_days_ago(app, telegram, stripe_api, days=3)
    stripe_api.settle(session_id, succeeded=True)  # the webhook for it is lost

    report = await reconcile(shop(app))
    assert (report.paid, report.failed, report.errors) == (1, 0, 0)
    await settled(app)
    assert (await order_of(app, session_id)).status is OrderStatus.FULFILLED
    assert len(texts_to(telegram, BUYER_ID, "Your purchase")) == 1
    listing = "/v1/checkout/sessions"
    lists = [r for r in stripe_api.requests_to("GET", listing) if r.path == listing]
    created = stripe_api.sessions[session_id]["created"]
    assert lists and all(int(r.params["created"]["gte"]) > created for r in lists)  # too old

    asked = len(stripe_api.requests_to("GET", "/v1/payment_intents/"))
    assert (await reconcile(shop(app))).changed is False
    assert len(stripe_api.requests_to("GET", "/v1/payment_intents/")) == asked  # settled now
    late = stripe_api.session_event("checkout.session.async_payment_succeeded", session_id)
    assert (await stripe_api.deliver(late))[0] == 200
    await settled(app)
    assert len(texts_to(telegram, BUYER_ID, "Your purchase")) == 1
    assert len(texts_to(telegram, BUYER_ID, "Payment received")) == 1


async def test_a_debit_failing_days_later_without_webhook_frees_the_key_and_tells_the_buyer(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    product_id = await stock_product(app, ["KEY-1"])
    session_id = await delayed_payment_days_ago(
        app, telegram, stripe_api, days=5, product_id=product_id
    )
    stripe_api.settle(session_id, succeeded=False)

    report = await reconcile(shop(app))
    assert (report.paid, report.failed, report.errors) == (0, 1, 0)
    await settled(app)
    order = await order_of(app, session_id)
    assert order.status is OrderStatus.FAILED
    assert app.db is not None
    assert await stock.available(app.db.reader, product_id) == 1
    assert (await reconcile(shop(app))).changed is False
    late = stripe_api.session_event("checkout.session.async_payment_failed", session_id)
    assert (await stripe_api.deliver(late))[0] == 200
    await settled(app)
    assert len(texts_to(telegram, BUYER_ID, "did not go through")) == 1


async def test_debits_still_being_confirmed_are_only_asked_about_once_a_run(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    old = await delayed_payment_days_ago(app, telegram, stripe_api, days=2)
    _, fresh = await checkout(app, telegram, stripe_api, BUYER_ID)
    stripe_api.pay(fresh, payment_status="unpaid")
    completed = stripe_api.session_event("checkout.session.completed", fresh)
    assert (await stripe_api.deliver(completed))[0] == 200
    await settled(app)

    report = await reconcile(shop(app))
    assert (report.changed, report.errors) == (False, 0)
    asked = stripe_api.requests_to("GET", "/v1/payment_intents/")
    old_intent = stripe_api.sessions[old]["payment_intent"]
    assert [r.path for r in asked] == [f"/v1/payment_intents/{old_intent}"]  # fresh: too soon
    assert not stripe_api.requests_to("GET", f"/v1/checkout/sessions/{old}")
    for session_id in (old, fresh):
        assert (await order_of(app, session_id)).status is OrderStatus.PROCESSING
