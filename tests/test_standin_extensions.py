"""What the sandbox added to the stand-ins, and that they stay as strict as the real services.

The sandbox plays the shop on the very FakeTelegram and FakeStripe the tests use; these pin the
small hooks it needs (hosted page address, line items, after-request hook, photo URLs, change
waits) and check that an unknown Stripe parameter and bad Telegram HTML are still refused.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
import stripe
from telegram import Bot, InputFile
from telegram.error import BadRequest

from sandbox.fake_stripe import FakeRequest, FakeStripe
from sandbox.fake_telegram import FakeTelegram
from sandbox.pulse import Pulse
from sandbox.webhook_log import WebhookLog

BUYER = 42
PARAMS: dict[str, Any] = {
    "mode": "payment",
    "line_items": [
        {
            "quantity": 2,
            "price_data": {
                "currency": "eur",
                "unit_amount": 450,
                "product_data": {"name": "Tea"},
            },
        }
    ],
    "success_url": "https://shop.example/success?session_id={CHECKOUT_SESSION_ID}",
    "cancel_url": "https://shop.example/cancel",
}


@pytest.fixture
async def fake_stripe() -> AsyncIterator[FakeStripe]:
    async with FakeStripe() as fake:
        yield fake


@pytest.fixture
async def client(fake_stripe: FakeStripe) -> AsyncIterator[stripe.StripeClient]:
    http_client = stripe.AIOHTTPClient()
    try:
        yield stripe.StripeClient(
            fake_stripe.api_key,
            base_addresses={"api": fake_stripe.api_base},
            http_client=http_client,
        )
    finally:
        await http_client.close_async()  # type: ignore[no-untyped-call]  # untyped in the SDK


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram()
    await fake.start()
    fake.user_sends(BUYER, "/start", queue=False)
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def bot(telegram: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(telegram.token, base_url=telegram.base_url) as b:
        yield b


async def create(client: stripe.StripeClient, **extra: Any) -> stripe.checkout.Session:
    params = cast(Any, {**PARAMS, "expires_at": int(time.time()) + 3600, **extra})
    return await client.v1.checkout.sessions.create_async(params)


# --- FakeStripe ----------------------------------------------------------------------------------


async def test_sessions_point_at_the_hosted_page_where_it_is_served(
    fake_stripe: FakeStripe, client: stripe.StripeClient
) -> None:
    fake_stripe.hosted_base_url = "http://localhost:8080/sandbox/stripe"
    session = await create(client)
    assert session.url == f"http://localhost:8080/sandbox/stripe/c/pay/{session.id}"
    [item] = fake_stripe.line_items(session.id)
    assert (item["quantity"], item["amount_total"], item["description"]) == (2, 900, "Tea")
    item["quantity"] = 99  # a copy: the stand-in's state is not the caller's to change
    assert fake_stripe.line_items(session.id)[0]["quantity"] == 2
    with pytest.raises(KeyError):
        fake_stripe.line_items("cs_test_nope")


async def test_after_request_sees_every_answer_and_unknown_parameters_are_still_refused(
    fake_stripe: FakeStripe, client: stripe.StripeClient
) -> None:
    seen: list[tuple[str, str, int]] = []

    def hook(record: FakeRequest, answer: dict[str, Any]) -> None:
        seen.append((record.method, record.path, record.status))

    fake_stripe.after_request = hook
    session = await create(client)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        await create(client, shipping_details={"name": "x"})
    assert refused.value.http_status == 400 and refused.value.code == "parameter_unknown"
    assert seen == [
        ("POST", "/v1/checkout/sessions", 200),
        ("POST", "/v1/checkout/sessions", 400),
    ]
    await client.v1.checkout.sessions.expire_async(session.id)
    assert seen[-1] == ("POST", f"/v1/checkout/sessions/{session.id}/expire", 200)


async def test_the_sandbox_sends_checkout_session_expired_after_an_api_expire(
    fake_stripe: FakeStripe, client: stripe.StripeClient
) -> None:
    """Nothing listens at the webhook URL: the delivery is logged as unanswered, not lost."""
    log = WebhookLog(fake_stripe)
    fake_stripe.webhook_url = "http://127.0.0.1:9/stripe/webhook"
    fake_stripe.send_event = log.send
    session = await create(client)
    await client.v1.checkout.sessions.expire_async(session.id)
    for _ in range(100):
        if log.deliveries():
            break
        await asyncio.sleep(0.02)
    [delivery] = log.deliveries()
    assert delivery.event_type == "checkout.session.expired" and delivery.object_id == session.id
    assert delivery.status is None and delivery.answer.startswith("no answer")
    await log.close()


# --- FakeTelegram --------------------------------------------------------------------------------


async def test_photos_sent_by_url_keep_their_url_for_viewers(
    telegram: FakeTelegram, bot: Bot
) -> None:
    by_url = await bot.send_photo(BUYER, "http://localhost:8080/sandbox/static/demo-mug.png")
    uploaded = await bot.send_photo(BUYER, InputFile(b"\x89PNG\r\n\x1a\n" + b"\0" * 32, "p.png"))
    assert telegram.file_url(by_url.photo[-1].file_id) == (
        "http://localhost:8080/sandbox/static/demo-mug.png"
    )
    assert telegram.file_url(uploaded.photo[-1].file_id) is None
    assert telegram.file_url("no-such-file") is None


async def test_wait_for_change_wakes_on_a_message_and_bad_html_is_still_refused(
    telegram: FakeTelegram, bot: Bot
) -> None:
    waiting = asyncio.ensure_future(telegram.wait_for_change(5))
    await asyncio.sleep(0)
    started = time.monotonic()
    await bot.send_message(BUYER, "<b>hello</b>", parse_mode="HTML")
    await waiting
    assert time.monotonic() - started < 1
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(BUYER, "<b>unclosed", parse_mode="HTML")
    await telegram.wait_for_change(0.01)  # nothing happens: returns after the timeout


async def test_a_change_made_before_the_wait_began_is_not_missed(
    telegram: FakeTelegram, bot: Bot
) -> None:
    """The sandbox page's stream notes the count, reads the chats, writes to a slow browser and
    only then waits: a bot reply sent during that write must wake it at once, not after the
    15 s heartbeat (the browser story's intermittent "no reply within 10 s")."""
    noted = telegram.change_count
    await bot.send_message(BUYER, "sent while the reader was busy")
    await asyncio.wait_for(telegram.wait_for_change(30, since=noted), 1)
    unchanged = telegram.change_count
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(telegram.wait_for_change(30, since=unchanged), 0.05)


async def test_the_webhook_pulse_remembers_a_fire_made_before_the_wait_began() -> None:
    pulse = Pulse()
    noted = pulse.version
    pulse.fire()
    await asyncio.wait_for(pulse.wait(30, since=noted), 1)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(pulse.wait(30, since=pulse.version), 0.05)
