"""The buyer's story end to end: real PTB and stripe SDKs over HTTP to the fakes, real SQLite."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from storage import deliveries
from storage.clock import now
from storage.models import DeliveryKind, OrderStatus, ProductKind
from storage.sql import fetch_one
from tests.conftest import ADMIN_ID, BUYER_ID, PUBLIC_BASE_URL, settings_for, start_app
from tests.story import (
    add_product,
    buy,
    checkout,
    open_card,
    order_of,
    paid_event,
    pay_and_notify,
    session_of,
    settled,
)


async def test_happy_path_from_start_to_goods(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    await add_product(app, title="Ebook", price_minor=1250)
    telegram.user_sends(BUYER_ID, "/start")
    welcome = await telegram.wait_for(BUYER_ID, lambda m: "Welcome" in (m.text or ""))
    telegram.user_taps(BUYER_ID, welcome, welcome.button("catalog")["callback_data"])
    catalog = await telegram.wait_for(BUYER_ID, lambda m: "Catalog" in (m.text or ""))
    telegram.user_taps(BUYER_ID, catalog, catalog.button("Ebook")["callback_data"])
    card = await telegram.wait_for(BUYER_ID, lambda m: "$12.50" in (m.text or ""))
    telegram.user_taps(BUYER_ID, card, card.button("+")["callback_data"])
    await telegram.wait_for(BUYER_ID, lambda m: m.message_id == card.message_id and m.edits > 0)
    card = next(m for m in telegram.messages(BUYER_ID) if m.message_id == card.message_id)
    assert "$25.00" in card.button("Buy")["text"]

    pay_message = await buy(telegram, BUYER_ID, card)
    assert "Pay $25.00" in pay_message.button("Pay")["text"]
    session_id = session_of(stripe_api, pay_message)
    session = stripe_api.sessions[session_id]
    order = await order_of(app, session_id)
    assert order.status is OrderStatus.AWAITING_PAYMENT
    assert session["amount_total"] == 2500 and session["currency"] == "usd"
    assert session["metadata"]["order_id"] == str(order.id)
    assert session["client_reference_id"] == str(order.id)
    assert session["success_url"] == f"{PUBLIC_BASE_URL}/success?session_id={{CHECKOUT_SESSION_ID}}"
    assert session["expires_at"] == order.expires_at

    assert await pay_and_notify(stripe_api, session_id) == 200
    receipt = await telegram.wait_for(
        BUYER_ID,
        lambda m: m.message_id == pay_message.message_id and "files.example" in (m.text or ""),
    )
    assert "Paid — order #" in (receipt.text or "") and not receipt.buttons()
    await telegram.wait_for(BUYER_ID, lambda m: "Payment received" in (m.text or ""))
    alert = await telegram.wait_for(ADMIN_ID, lambda m: "New sale" in (m.text or ""))
    assert "$25.00" in (alert.text or "")
    await settled(app)
    assert (await order_of(app, session_id)).status is OrderStatus.FULFILLED


async def test_same_event_twice_delivers_once(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    event = paid_event(stripe_api, session_id)
    first, second = await asyncio.gather(stripe_api.deliver(event), stripe_api.deliver(event))
    assert (first[0], second[0]) == (200, 200)
    assert (await stripe_api.deliver(event))[0] == 200
    await telegram.wait_for(BUYER_ID, lambda m: "Payment received" in (m.text or ""))
    await settled(app)
    notices = [m for m in telegram.messages(BUYER_ID) if "Payment received" in (m.text or "")]
    assert len(notices) == 1
    edits = [c for c in telegram.calls_of("editMessageText") if c.status == 200]
    assert len(edits) == 1
    assert len(telegram.messages(ADMIN_ID)) == 1


async def test_bad_and_stale_signatures_are_rejected(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    event = paid_event(stripe_api, session_id)
    assert (await stripe_api.deliver(event, secret="whsec_wrong"))[0] == 400
    stale = await stripe_api.deliver(event, timestamp=_now() - 301)
    assert stale[0] == 400
    assert (await stripe_api.deliver(event, signature="t=1,v1=deadbeef"))[0] == 400
    await asyncio.sleep(0.3)
    assert (await order_of(app, session_id)).status is OrderStatus.AWAITING_PAYMENT
    assert not [m for m in telegram.messages(BUYER_ID) if "Paid" in (m.text or "")]


async def test_garbage_body_is_400_and_process_stays_healthy(app: ShopApp) -> None:
    url = f"http://127.0.0.1:{app.port}"
    async with aiohttp.ClientSession() as http:
        for body, headers in [
            (b"\x00\xff not json", {"Stripe-Signature": "t=1,v1=00"}),
            (b"{}", {}),
            (b"[1, 2", {"Stripe-Signature": "garbage"}),
        ]:
            async with http.post(f"{url}/stripe/webhook", data=body, headers=headers) as r:
                assert r.status == 400
        async with http.get(f"{url}/healthz") as r:
            assert r.status == 200
            assert (await r.json())["status"] == "ok"


async def test_signed_garbage_is_400(app: ShopApp, stripe_api: FakeStripe) -> None:
    body = b'{"id": "evt_1", "type": "checkout.session.completed", "data": {"object": []}}'
    url = f"http://127.0.0.1:{app.port}/stripe/webhook"
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=body, headers={"Stripe-Signature": stripe_api.sign(body)}) as r,
    ):
        assert r.status == 400


async def test_session_that_is_not_ours_is_ignored(app: ShopApp, stripe_api: FakeStripe) -> None:
    foreign = {
        "id": "cs_test_foreign",
        "object": "checkout.session",
        "metadata": {},
        "payment_status": "paid",
        "status": "complete",
        "amount_total": 500,
        "currency": "usd",
        "livemode": False,
    }
    event = stripe_api.make_event("checkout.session.completed", foreign)
    assert (await stripe_api.deliver(event))[0] == 200
    other_type = stripe_api.make_event("customer.created", {"id": "cus_1", "object": "customer"})
    assert (await stripe_api.deliver(other_type))[0] == 200
    assert app.db is not None
    row = await fetch_one(app.db.reader, "SELECT COUNT(*) FROM stripe_events")
    assert row is not None and row[0] == 0


async def test_amount_mismatch_is_not_delivered_and_admins_are_alerted(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID, price_minor=999)
    event = paid_event(stripe_api, session_id)
    event["data"]["object"]["amount_total"] = 100
    assert (await stripe_api.deliver(event))[0] == 200
    alert = await telegram.wait_for(ADMIN_ID, lambda m: "needs attention" in (m.text or ""))
    assert "$1.00" in (alert.text or "") and "$9.99" in (alert.text or "")
    order = await order_of(app, session_id)
    assert order.status is OrderStatus.FAILED
    assert not [m for m in telegram.messages(BUYER_ID) if "files.example" in (m.text or "")]


@pytest.mark.parametrize(
    ("field", "value", "alert_says"),
    [("currency", "eur", "€9.99 paid"), ("livemode", True, "live-mode payment")],
)
async def test_currency_or_mode_mismatch_is_not_delivered_and_admins_are_alerted(
    app: ShopApp,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    field: str,
    value: object,
    alert_says: str,
) -> None:
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID, price_minor=999)
    event = paid_event(stripe_api, session_id)
    event["data"]["object"][field] = value
    assert (await stripe_api.deliver(event))[0] == 200
    alert = await telegram.wait_for(ADMIN_ID, lambda m: "needs attention" in (m.text or ""))
    assert alert_says in (alert.text or "")
    await settled(app)
    assert (await order_of(app, session_id)).status is OrderStatus.FAILED
    assert not [m for m in telegram.messages(BUYER_ID) if "files.example" in (m.text or "")]
    assert not [m for m in telegram.messages(ADMIN_ID) if "New sale" in (m.text or "")]


async def test_checkout_follows_the_merchants_settings(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    env = {
        "ALLOW_PROMOTION_CODES": "true",
        "CHECKOUT_EXPIRES_MINUTES": "45",
        "SHIPPING_COUNTRIES": "NL,BE",
    }
    app = await start_app(settings_for(tmp_path, telegram, stripe_api, **env), telegram, stripe_api)
    try:
        mug = await add_product(app, title="Mug", kind=ProductKind.PHYSICAL)
        before = now()
        await buy(telegram, BUYER_ID, await open_card(telegram, BUYER_ID, mug))
        params = stripe_api.requests_to("POST", "/v1/checkout/sessions")[0].params
        assert params["allow_promotion_codes"] == "true"
        assert before + 45 * 60 <= int(params["expires_at"]) <= now() + 45 * 60
        assert params["shipping_address_collection"]["allowed_countries"] == ["NL", "BE"]
    finally:
        await app.stop()


@pytest.mark.slow
async def test_telegram_429_then_ok_delivers_once(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    pay_message, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    telegram.fail_next("editMessageText", times=3, status=429, retry_after=1)
    assert await pay_and_notify(stripe_api, session_id) == 200
    await telegram.wait_for(BUYER_ID, lambda m: "Payment received" in (m.text or ""), timeout=15)
    await settled(app)
    edits = telegram.calls_of("editMessageText")
    assert [c.status for c in edits].count(429) == 3
    assert [c.status for c in edits].count(200) == 1
    notices = [m for m in telegram.messages(BUYER_ID) if "Payment received" in (m.text or "")]
    assert len(notices) == 1


async def test_buyer_who_blocked_the_bot_is_recorded_and_others_unaffected(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    other = BUYER_ID + 1
    product_id = await add_product(app)
    blocked_msg = await buy(telegram, BUYER_ID, await open_card(telegram, BUYER_ID, product_id))
    ok_msg = await buy(telegram, other, await open_card(telegram, other, product_id))
    telegram.block(BUYER_ID)
    assert await pay_and_notify(stripe_api, session_of(stripe_api, blocked_msg)) == 200
    assert await pay_and_notify(stripe_api, session_of(stripe_api, ok_msg)) == 200
    await telegram.wait_for(other, lambda m: "Payment received" in (m.text or ""))
    alert = await telegram.wait_for(ADMIN_ID, lambda m: "blocked the bot" in (m.text or ""))
    blocked_order = await order_of(app, session_of(stripe_api, blocked_msg))
    assert f"#{blocked_order.id}" in (alert.text or "")
    assert app.db is not None
    goods = [
        d
        for d in await deliveries.for_order(app.db.reader, blocked_order.id)
        if d.kind is DeliveryKind.GOODS
    ]
    assert [d.status for d in goods] == ["failed"]
    assert "blocked" in (goods[0].last_error or "")
    assert blocked_order.status is OrderStatus.PAID


async def test_buy_tapped_twice_makes_one_session(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    product_id = await add_product(app)
    card = await open_card(telegram, BUYER_ID, product_id)
    data = card.button("Buy")["callback_data"]
    telegram.user_taps(BUYER_ID, card, data)
    telegram.user_taps(BUYER_ID, card, data)
    for _ in range(100):
        pays = [m for m in telegram.messages(BUYER_ID) if any(b.get("url") for b in m.buttons())]
        if len(pays) == 2:
            break
        await asyncio.sleep(0.05)
    assert len(pays) == 2
    assert len(stripe_api.sessions) == 1
    assert pays[0].buttons()[0]["url"] == pays[1].buttons()[0]["url"]
    assert len(stripe_api.requests_to("POST", "/v1/checkout/sessions")) == 1


async def test_title_with_html_characters_renders(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    product_id = await add_product(
        app, title="Tom & Jerry <Deluxe>", description="Cat <b>&</b> mouse", delivery_text="<3"
    )
    card = await open_card(telegram, BUYER_ID, product_id)
    assert "Tom & Jerry <Deluxe>" in (card.text or "")
    assert "Cat <b>&</b> mouse" in (card.text or "")
    pay_message = await buy(telegram, BUYER_ID, card)
    assert "Tom & Jerry <Deluxe>" in (pay_message.text or "")
    session_id = session_of(stripe_api, pay_message)
    create = stripe_api.requests_to("POST", "/v1/checkout/sessions")[0]
    name = create.params["line_items"][0]["price_data"]["product_data"]["name"]
    assert name == "Tom & Jerry <Deluxe>"
    assert await pay_and_notify(stripe_api, session_id) == 200
    receipt = await telegram.wait_for(BUYER_ID, lambda m: "Your purchase" in (m.text or ""))
    assert "<3" in (receipt.text or "")
    alert = await telegram.wait_for(ADMIN_ID, lambda m: "New sale" in (m.text or ""))
    assert "Tom & Jerry <Deluxe>" in (alert.text or "")


async def test_success_page_fulfils_when_the_webhook_is_lost(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    pay_message, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    stripe_api.pay(session_id)  # paid, but no webhook arrives
    url = f"http://127.0.0.1:{app.port}"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/success", params={"session_id": session_id}) as r:
            assert r.status == 200
            page = await r.text()
        assert "Payment received" in page and "https://t.me/shop_test_bot" in page
        async with http.get(f"{url}/success", params={"session_id": session_id}) as r:
            assert r.status == 200
        async with http.get(f"{url}/cancel") as r:
            assert r.status == 200 and "Nothing was charged" in await r.text()
    await telegram.wait_for(BUYER_ID, lambda m: "Payment received" in (m.text or ""))
    # The webhook arriving late changes nothing.
    event = stripe_api.session_event("checkout.session.completed", session_id)
    assert (await stripe_api.deliver(event))[0] == 200
    await settled(app)
    notices = [m for m in telegram.messages(BUYER_ID) if "Payment received" in (m.text or "")]
    assert len(notices) == 1


async def test_orders_lists_and_sends_again(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    product_id = await add_product(app, delivery_text="KEY-123")
    pay_message = await buy(telegram, BUYER_ID, await open_card(telegram, BUYER_ID, product_id))
    assert await pay_and_notify(stripe_api, session_of(stripe_api, pay_message)) == 200
    await telegram.wait_for(BUYER_ID, lambda m: "Payment received" in (m.text or ""))
    await settled(app)
    telegram.user_sends(BUYER_ID, "/orders")
    listing = await telegram.wait_for(BUYER_ID, lambda m: "Your orders" in (m.text or ""))
    assert "delivered" in (listing.text or "")
    telegram.user_taps(BUYER_ID, listing, listing.button("again")["callback_data"])
    copy = await telegram.wait_for(
        BUYER_ID, lambda m: m.message_id > listing.message_id and "KEY-123" in (m.text or "")
    )
    assert copy.message_id != pay_message.message_id
    # Another buyer cannot ask for this order's goods with a forged button.
    other = BUYER_ID + 5
    telegram.user_sends(other, "/orders")
    theirs = await telegram.wait_for(other, lambda m: "no orders" in (m.text or ""))
    forged = {"callback_data": listing.button("again")["callback_data"]}
    telegram.user_taps(other, listing, forged["callback_data"], check_keyboard=False)
    await asyncio.sleep(0.3)
    assert not [m for m in telegram.messages(other) if "KEY-123" in (m.text or "")]
    assert theirs


def _now() -> int:
    import time

    return int(time.time())
