"""The buyer's story when Stripe refuses, throttles or fails: a friendly word, the same
idempotency key on every retry, and no buyer able to flood checkout."""

from __future__ import annotations

import asyncio

import pytest

from bot.app import ShopApp
from bot.buyer import texts
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from shop.said import worded
from storage import orders
from storage.models import OrderStatus
from tests.conftest import BUYER_ID
from tests.english import EN
from tests.story import (
    add_product,
    buy,
    open_card,
    tap_answer,
)


async def test_stripe_refusal_gives_a_friendly_message_and_fails_the_order(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    product_id = await add_product(app, price_minor=10)  # under Stripe's minimum charge
    card = await open_card(telegram, BUYER_ID, product_id)
    telegram.user_taps(BUYER_ID, card, card.button("Buy")["callback_data"])
    await telegram.wait_for(BUYER_ID, lambda m: "couldn't start the payment" in (m.text or ""))
    assert app.db is not None
    order = await orders.get(app.db.reader, 1)
    assert order is not None and order.status is OrderStatus.FAILED
    assert order.failure_reason is not None
    assert worded(EN, order.failure_reason) == "Stripe refused the payment link (amount_too_small)"
    assert len(stripe_api.requests_to("POST", "/v1/checkout/sessions")) == 1  # not retried


@pytest.mark.slow
async def test_stripe_throttling_and_outage_are_retried_under_the_same_key(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    product_id = await add_product(app)
    card = await open_card(telegram, BUYER_ID, product_id)
    stripe_api.fail_next("POST", "/v1/checkout/sessions", times=3, status=429)
    pay_message = await buy(telegram, BUYER_ID, card)
    assert pay_message.button("Pay")
    attempts = stripe_api.requests_to("POST", "/v1/checkout/sessions")
    assert [r.status for r in attempts] == [429, 429, 429, 200]
    assert len({r.idempotency_key for r in attempts}) == 1
    stripe_api.fail_next("POST", "/v1/checkout/sessions", times=2, status=503)
    other = BUYER_ID + 1
    assert (await buy(telegram, other, await open_card(telegram, other, product_id))).button("Pay")
    assert len(stripe_api.sessions) == 2


async def test_while_stripe_throttles_the_preparing_message_holds_up_no_session(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """After Stripe answered 429, a Buy tap also gets a "preparing your link…" message; the
    session is made beside it, not after it: here Telegram holds that message back 2 s, and
    the session exists long before. The link then takes the placeholder's place."""
    product_id = await add_product(app)
    first, second = BUYER_ID, BUYER_ID + 1
    stripe_api.fail_next("POST", "/v1/checkout/sessions", times=1, status=429)
    await buy(telegram, first, await open_card(telegram, first, product_id))
    card = await open_card(telegram, second, product_id)
    shown = len(telegram.messages(second))
    telegram.fail_next("sendMessage", times=1, status=429, retry_after=2)
    telegram.user_taps(second, card, card.button("Buy")["callback_data"])
    loop = asyncio.get_running_loop()
    tapped = loop.time()
    while len(stripe_api.sessions) < 2:
        assert loop.time() - tapped < 1.5, "the session waited for the placeholder"
        await asyncio.sleep(0.02)
    linked = await telegram.wait_for(
        second, lambda m: any(b["text"].startswith("Pay") for b in m.buttons()), timeout=10
    )
    [placeholder] = [
        call.response["result"]["message_id"]
        for call in telegram.calls_of("sendMessage")
        if call.status == 200 and call.params.get("text") == texts.preparing_link(EN)
    ]
    assert linked.message_id == placeholder  # edited into the link
    assert len(telegram.messages(second)) == shown + 1


async def test_buyers_cannot_flood_checkout(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    product_ids = [await add_product(app, title=f"P{n}") for n in range(7)]
    for product_id in product_ids[:5]:
        await buy(telegram, BUYER_ID, await open_card(telegram, BUYER_ID, product_id))
    card = await open_card(telegram, BUYER_ID, product_ids[5])
    messages = len(telegram.messages(BUYER_ID))
    buy_data = card.button("Buy")["callback_data"]
    # Refusals are the tap's own alert, never a chat message.
    assert "several unpaid payment links" in await tap_answer(telegram, BUYER_ID, card, buy_data)
    assert len(stripe_api.sessions) == 5
    # 4 more taps reach the limit of 10 a minute, then it says slow down
    answers = [await tap_answer(telegram, BUYER_ID, card, buy_data) for _ in range(6)]
    assert all("several unpaid payment links" in answer for answer in answers[:4])
    assert all("lot of taps" in answer for answer in answers[4:])
    assert len(stripe_api.sessions) == 5
    assert len(telegram.messages(BUYER_ID)) == messages
