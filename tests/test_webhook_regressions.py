"""The five ways to a 5xx the webhook fuzzer (tests/test_fuzz_webhooks.py) found first, all
fixed since, each pinned by its smallest reproduction."""

from __future__ import annotations

import aiohttp

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from storage.models import OrderStatus
from tests.conftest import BUYER_ID
from tests.fuzz_requests import DEEP, TG_HEADER, Req
from tests.fuzz_shop import _send_raw
from tests.story import applied, checkout, order_of

# --------------------------------------------------------------------------- regressions
# The five ways to a 5xx the fuzz found first (all fixed since), each pinned by its smallest
# reproduction, so a regression names itself instead of hiding in 10,000 requests.


async def test_secret_header_that_is_not_utf8_is_403(app: ShopApp) -> None:
    """A secret-token header with bytes that are not UTF-8 reaches the handler as surrogate
    escapes; encoding them strictly crashed it (500). Anyone can send it; the answer is 403."""
    assert app.port is not None
    raw = Req(
        "bug",
        "raw-secret",
        "/telegram/webhook",
        b'{"update_id": 1}',
        raw_headers=TG_HEADER.encode() + b": \xff\xfe\r\n",
    )
    assert await _send_raw(app.port, raw) == 403


async def test_deeply_nested_json_is_400(app: ShopApp, stripe_api: FakeStripe) -> None:
    """A body nested deeper than Python's recursion limit makes `json.loads` raise
    RecursionError, not ValueError; it escaped as a 500 (on /stripe/webhook once signed, on
    /telegram/webhook with the right secret). A malformed body is a 400."""
    assert app.port is not None
    body = b"[" * DEEP + b"]" * DEEP
    async with aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{app.port}"
        headers = {"Stripe-Signature": stripe_api.sign(body)}
        async with http.post(f"{url}/stripe/webhook", data=body, headers=headers) as response:
            stripe_status = response.status
        headers = {TG_HEADER: app.settings.telegram_webhook_secret}
        async with http.post(f"{url}/telegram/webhook", data=body, headers=headers) as response:
            telegram_status = response.status
    assert (stripe_status, telegram_status) == (400, 400)


async def test_update_with_an_out_of_range_date_is_400(app: ShopApp) -> None:
    """An update dated past year 9999 makes `Update.de_json` raise OverflowError; it escaped
    as a 500, which Telegram would redeliver again and again. It is not an update we can serve:
    400, like other bad updates."""
    assert app.port is not None
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 10**20,
            "chat": {"id": 1, "type": "private"},
            "text": "hi",
        },
    }
    headers = {TG_HEADER: app.settings.telegram_webhook_secret}
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{app.port}/telegram/webhook", json=update, headers=headers
        ) as response,
    ):
        assert response.status == 400


async def test_refund_for_an_intent_stripe_does_not_know_is_ignored(
    app: ShopApp, stripe_api: FakeStripe
) -> None:
    """charge.refunded for a payment intent we do not have makes the shop ask Stripe whose it
    is; a 404 there (e.g. a connected account's charge on a Connect endpoint) escaped as a 503,
    so Stripe would retry a payment that is certainly not ours for days. It is ignored: 200."""
    charge = {
        "id": "ch_not_ours",
        "object": "charge",
        "amount": 500,
        "amount_refunded": 500,
        "currency": "usd",
        "payment_intent": "pi_nobody_knows",
        "refunded": True,
    }
    status, body = await stripe_api.deliver(stripe_api.make_event("charge.refunded", charge))
    assert status == 200, body


async def test_signed_event_with_an_absurd_amount_is_a_recorded_mismatch(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """A paid session of one of our orders with an absurd amount_total (10**30) takes the
    mismatch path, whose alert formats the amount; the decimal quantize overflowed and the event
    was answered 503 forever. It is recorded as a mismatch: 200, the order failed."""
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    stripe_api.pay(session_id)
    event = stripe_api.session_event("checkout.session.completed", session_id)
    event["data"]["object"]["amount_total"] = 10**30
    status, body = await stripe_api.deliver(event)
    assert status == 200, body
    await applied(app)
    assert (await order_of(app, session_id)).status is OrderStatus.FAILED
