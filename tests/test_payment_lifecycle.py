"""The whole Checkout life cycle as the buyer lives it, and faults that heal."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from storage.models import OrderStatus
from tests.conftest import BUYER_ID, settings_for, start_app
from tests.story import add_product, checkout, open_card, order_of, pay_and_notify, settled


async def test_delayed_payment_that_clears(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    stripe_api.pay(session_id, payment_status="unpaid")
    completed = stripe_api.session_event("checkout.session.completed", session_id)
    assert (await stripe_api.deliver(completed))[0] == 200
    await telegram.wait_for(BUYER_ID, lambda m: "being confirmed" in (m.text or ""))
    assert (await order_of(app, session_id)).status is OrderStatus.PROCESSING
    stripe_api.settle(session_id, succeeded=True)
    cleared = stripe_api.session_event("checkout.session.async_payment_succeeded", session_id)
    assert (await stripe_api.deliver(cleared))[0] == 200
    await telegram.wait_for(BUYER_ID, lambda m: "Paid — order" in (m.text or ""))
    await settled(app)
    assert (await order_of(app, session_id)).status is OrderStatus.FULFILLED


async def test_delayed_payment_that_fails_offers_to_try_again(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID, title="Lamp")
    stripe_api.pay(session_id, payment_status="unpaid")
    stripe_api.settle(session_id, succeeded=False)
    failed = stripe_api.session_event("checkout.session.async_payment_failed", session_id)
    assert (await stripe_api.deliver(failed))[0] == 200
    notice = await telegram.wait_for(BUYER_ID, lambda m: "did not go through" in (m.text or ""))
    telegram.user_taps(BUYER_ID, notice, notice.button("Buy again")["callback_data"])
    await telegram.wait_for(
        BUYER_ID, lambda m: m.message_id > notice.message_id and "Lamp" in (m.text or "")
    )
    assert (await order_of(app, session_id)).status is OrderStatus.FAILED


async def test_expired_link_is_announced_once(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    stripe_api.expire(session_id)
    expired = stripe_api.session_event("checkout.session.expired", session_id)
    for _ in range(3):
        assert (await stripe_api.deliver(expired))[0] == 200
    await telegram.wait_for(BUYER_ID, lambda m: "expired" in (m.text or ""))
    await settled(app)
    notices = [m for m in telegram.messages(BUYER_ID) if "link for order" in (m.text or "")]
    assert len(notices) == 1 and notices[0].button("Buy again")


async def test_expired_after_completed_changes_nothing(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    assert await pay_and_notify(stripe_api, session_id) == 200
    late = stripe_api.make_event(
        "checkout.session.expired", {**stripe_api.sessions[session_id], "status": "expired"}
    )
    assert (await stripe_api.deliver(late))[0] == 200
    await settled(app)
    assert (await order_of(app, session_id)).status is OrderStatus.FULFILLED
    assert not [m for m in telegram.messages(BUYER_ID) if "link for order" in (m.text or "")]


async def test_notify_expired_false_keeps_quiet(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    settings = settings_for(tmp_path, telegram, stripe_api, NOTIFY_EXPIRED="false")
    app = await start_app(settings, telegram, stripe_api)
    try:
        pay_message, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
        stripe_api.expire(session_id)
        expired = stripe_api.session_event("checkout.session.expired", session_id)
        assert (await stripe_api.deliver(expired))[0] == 200
        await settled(app)
        assert (await order_of(app, session_id)).status is OrderStatus.EXPIRED
        # No notice; only the order's own message stops offering the dead link (issue 10, 23).
        assert [m for m in telegram.messages(BUYER_ID) if "expired" in (m.text or "")] == [
            pay_message
        ]
        assert pay_message.button("Buy again") and not any(
            b.get("url") for b in pay_message.buttons()
        )
    finally:
        await app.stop()


@pytest.mark.slow
async def test_telegram_down_for_a_while_then_back(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    telegram.down = True
    assert await pay_and_notify(stripe_api, session_id) == 200

    def refused() -> int:
        return len([c for c in telegram.calls_of("editMessageText") if c.status == 502])

    for _ in range(100):  # the worker keeps trying while Telegram is down
        if refused() >= 2:
            break
        await asyncio.sleep(0.1)
    assert refused() >= 2, "the worker did not retry during the outage"
    telegram.down = False
    await telegram.wait_for(BUYER_ID, lambda m: "Payment received" in (m.text or ""), timeout=20)
    await settled(app)
    assert len([c for c in telegram.calls_of("editMessageText") if c.status == 200]) == 1
    assert (await order_of(app, session_id)).status is OrderStatus.FULFILLED


@pytest.mark.slow
async def test_stripe_throttling_for_a_while_then_back(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    stripe_api.fail_next("POST", "/v1/checkout/sessions", times=4, status=429)
    pay_message, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    assert pay_message.button("Pay")
    assert await pay_and_notify(stripe_api, session_id) == 200
    await telegram.wait_for(BUYER_ID, lambda m: "Payment received" in (m.text or ""))


async def test_while_stripe_throttles_buyers_see_a_preparing_message_turn_into_the_link(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    first_card = await open_card(telegram, BUYER_ID, await add_product(app, title="A"))
    second = BUYER_ID + 1
    second_card = await open_card(telegram, second, await add_product(app, title="B"))
    stripe_api.fail_next("POST", "/v1/checkout/sessions", times=3, status=429)
    telegram.user_taps(BUYER_ID, first_card, first_card.button("Buy")["callback_data"])
    for _ in range(100):  # the first buyer's request meets Stripe's 429
        if stripe_api.rate_limited or any(
            r.status == 429 for r in stripe_api.requests_to("POST", "/v1/checkout/sessions")
        ):
            break
        await asyncio.sleep(0.02)
    telegram.user_taps(second, second_card, second_card.button("Buy")["callback_data"])
    waiting = await telegram.wait_for(
        second, lambda m: "preparing your payment link" in (m.text or "")
    )
    link = await telegram.wait_for(
        second, lambda m: m.message_id == waiting.message_id and "Order #" in (m.text or "")
    )
    assert link.button("Pay")
    await telegram.wait_for(BUYER_ID, lambda m: "Order #" in (m.text or ""))
