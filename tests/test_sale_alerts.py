"""Sale alerts: a quiet shop tells the admin each sale; a burst arrives as a digest, paced so the
admin's chat stays within Telegram's per-chat limit."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest

from bot import texts
from bot.admin import texts as admin_texts
from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from storage import deliveries
from storage.models import DeliveryKind, Order, OrderLine, OrderStatus, ProductKind
from tests.conftest import ADMIN_ID, BUYER_ID
from tests.english import EN
from tests.shop_records import order_record
from tests.story import add_product, buy, open_card, order_of, paid_event, session_of, settled

ADDRESS = {"line1": "12 Byron St", "city": "London", "postal_code": "N1", "country": "GB"}


async def test_a_burst_of_sales_reaches_the_admin_as_a_digest_within_the_chat_limit(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    sticker = await add_product(app, title="Sticker <pack>", price_minor=500)
    mug = await add_product(app, title="Mug", kind=ProductKind.PHYSICAL, price_minor=1500)
    sessions = []
    for n, product_id in enumerate([sticker] * 6 + [mug]):
        buyer = BUYER_ID + n
        pay_message = await buy(telegram, buyer, await open_card(telegram, buyer, product_id))
        sessions.append(session_of(stripe_api, pay_message))
    events = [paid_event(stripe_api, session_id) for session_id in sessions[:-1]]
    stripe_api.pay(sessions[-1], shipping={"name": "Ada <Lovelace>", "address": ADDRESS})
    events.append(stripe_api.session_event("checkout.session.completed", sessions[-1]))

    telegram.chat_rate_limit = (3, 3.0)  # strict: Telegram allows only short bursts per chat
    answers = await asyncio.gather(*(stripe_api.deliver(event) for event in events))
    assert [status for status, _ in answers] == [200] * 7
    await settled(app)

    alerts = [m.text or "" for m in telegram.messages(ADMIN_ID) if "New sale" in (m.text or "")]
    assert 1 <= len(alerts) <= 3, alerts  # at most a burst of three
    paid = [await order_of(app, session_id) for session_id in sessions]
    mentioned = [int(n) for text in alerts for n in re.findall(r"#(\d+)", text)]
    assert sorted(mentioned) == sorted(order.id for order in paid)  # each sale exactly once
    everything = "\n".join(alerts)
    assert re.search(r"New sales: \d", everything)
    assert "Sticker <pack>" in everything
    assert "12 Byron St" in everything and f"/ship {paid[-1].id}" in everything
    assert telegram.rate_limited == 0
    assert app.db is not None
    for order in paid:
        assert order.status is OrderStatus.FULFILLED
        owed = await deliveries.for_order(app.db.reader, order.id)
        alert_rows = [d for d in owed if d.kind is DeliveryKind.SALE_ALERT]
        assert [d.status for d in alert_rows] == ["sent"]


@pytest.mark.slow
async def test_after_a_burst_of_three_the_admin_hears_at_most_every_few_seconds(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    product_id = await add_product(app, title="Sticker", price_minor=500)
    sessions = []
    for n in range(5):
        buyer = BUYER_ID + n
        pay_message = await buy(telegram, buyer, await open_card(telegram, buyer, product_id))
        sessions.append(session_of(stripe_api, pay_message))

    def alerts() -> list[str]:
        return [m.text or "" for m in telegram.messages(ADMIN_ID) if "New sale" in (m.text or "")]

    for count, session_id in enumerate(sessions[:3], start=1):  # a quiet shop: one each
        assert (await stripe_api.deliver(paid_event(stripe_api, session_id)))[0] == 200
        while len(alerts()) < count:
            await telegram.wait_for_change(1.0)
    third = time.monotonic()
    late = [paid_event(stripe_api, session_id) for session_id in sessions[3:]]
    assert [s for s, _ in await asyncio.gather(*map(stripe_api.deliver, late))] == [200, 200]
    await telegram.wait_for(ADMIN_ID, lambda m: len(alerts()) == 4, timeout=15)
    assert time.monotonic() - third >= 2.0  # the burst was spent: the next waits its turn
    assert "New sales: 2" in alerts()[-1]
    await settled(app)
    assert len(alerts()) == 4


async def test_an_admin_who_blocked_the_bot_does_not_hold_up_buyers(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    product_id = await add_product(app)
    telegram.block(ADMIN_ID)
    pay_message = await buy(telegram, BUYER_ID, await open_card(telegram, BUYER_ID, product_id))
    session_id = session_of(stripe_api, pay_message)
    assert (await stripe_api.deliver(paid_event(stripe_api, session_id)))[0] == 200
    await telegram.wait_for(BUYER_ID, lambda m: "Payment received" in (m.text or ""))
    await settled(app)
    order = await order_of(app, session_id)
    assert order.status is OrderStatus.FULFILLED
    assert app.db is not None
    owed = await deliveries.for_order(app.db.reader, order.id)
    alert = next(d for d in owed if d.kind is DeliveryKind.SALE_ALERT)
    assert alert.status == "failed" and "blocked" in (alert.last_error or "")


def _order(n: int, kind: ProductKind = ProductKind.DIGITAL_TEXT, **fields: Any) -> Order:
    line = OrderLine(0, 1, "T" * 300, kind, 250, 2)
    return order_record(
        lines=[line], id=n, ref=f"ref{n}", buyer_user_id=n, buyer_chat_id=n,
        buyer_name="Ann <Admin> & co", checkout_session_id=None, payment_intent_id=None,
        **fields,
    )  # fmt: skip


def test_a_digest_too_long_for_one_message_counts_the_rest() -> None:
    sold = [_order(n, currency="eur" if n % 2 else "usd") for n in range(1, 301)]
    sold[0] = _order(1, ProductKind.PHYSICAL, currency="eur", shipping_address="<b>" * 500)
    text = admin_texts.sale_digest(EN, sold)
    assert len(text) <= texts.MAX_TEXT
    assert text.startswith("💰 <b>New sales: 300</b> — <b>€750.00 + $750.00</b>")
    shown = len(re.findall(r"^#\d+ ", text, re.MULTILINE))
    assert 10 < shown < 300
    assert text.endswith(f"…and {300 - shown} more: /orders")
    assert "<b><b>" not in text and "&lt;b&gt;" in text  # merchant and buyer text escaped
    assert "Ann &lt;Admin&gt; &amp; co" in text
