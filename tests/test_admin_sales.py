"""/sales: paid orders, units, revenue, refunds and net per currency for today (UTC), 7 and 30
days and all time, and each window's top products — from orders made through the real flow."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import stripe

from bot.admin.sales import WINDOWS, window_start
from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from storage import orders, products, sales
from storage.clock import now
from storage.models import OrderStatus, ProductKind
from storage.sqlite import SqliteDatabase
from tests.admin_order_steps import admin_says, open_card_as, tap, unpaid_order
from tests.conftest import ADMIN_ID, BUYER_ID, OTHER_BUYER_ID
from tests.story import add_product, applied, buy, order_of, session_of, settled

DAY = 86_400


async def bought(
    app: ShopApp,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    buyer: int,
    product_id: int,
    quantity: int = 1,
) -> int:
    """The buyer buys `quantity` of the product and pays; returns the order id."""
    card = await open_card_as(telegram, buyer, product_id, "Buyer")
    for step in range(1, quantity):
        telegram.user_taps(buyer, card, card.button("+")["callback_data"])
        await telegram.wait_for(buyer, _edited(card.message_id, times=step))
    pay_message = await buy(telegram, buyer, card)
    session_id = session_of(stripe_api, pay_message)
    stripe_api.pay(session_id)
    event = stripe_api.session_event("checkout.session.completed", session_id)
    assert (await stripe_api.deliver(event))[0] == 200
    await applied(app)
    order = await order_of(app, session_id)
    assert order.units == quantity and order.status is OrderStatus.PAID
    return order.id


def _edited(message_id: int, *, times: int) -> Callable[[FakeMessage], bool]:
    return lambda m: m.message_id == message_id and m.edits == times


async def paid_days_ago(app: ShopApp, order_id: int, days: int) -> None:
    assert app.db is not None
    async with app.db.transaction() as tx:
        await orders.update(tx, order_id, paid_at=now() - days * DAY)


async def dashboard_refund(
    stripe_api: FakeStripe, app: ShopApp, order_id: int, amount: int
) -> None:
    """A refund made in the Stripe Dashboard, reported by charge.refunded."""
    assert app.db is not None
    order = await orders.get(app.db.reader, order_id)
    assert order is not None and order.payment_intent_id is not None
    http = stripe.AIOHTTPClient()
    client = stripe.StripeClient(
        stripe_api.api_key, base_addresses={"api": stripe_api.api_base}, http_client=http
    )
    try:
        await client.v1.refunds.create_async(
            {"payment_intent": order.payment_intent_id, "amount": amount}
        )
    finally:
        await http.close_async()  # type: ignore[no-untyped-call]
    assert (await stripe_api.deliver(stripe_api.refund_event(order.payment_intent_id)))[0] == 200
    await applied(app)


def sections(message: FakeMessage) -> dict[str, str]:
    """The overview's blocks by their first line (the window's name)."""
    blocks = (message.text or "").split("\n\n")[1:]
    return {block.split("\n", 1)[0]: block.split("\n", 1)[1] for block in blocks}


@pytest.mark.slow
async def test_sales_by_window_currency_and_product(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    lamp = await add_product(app, title="Lamp", price_minor=1000)
    bulb = await add_product(app, title="Bulb <LED>", price_minor=500)
    poster = await add_product(app, title="Poster", price_minor=800, currency="eur")

    await bought(app, telegram, stripe_api, BUYER_ID, lamp, quantity=2)  # $20.00 today
    refunded = await bought(app, telegram, stripe_api, OTHER_BUYER_ID, bulb)  # $5.00 today
    await bought(app, telegram, stripe_api, BUYER_ID, poster)  # €8.00 today
    older = await bought(app, telegram, stripe_api, OTHER_BUYER_ID, bulb, quantity=4)  # $20.00
    oldest = await bought(app, telegram, stripe_api, BUYER_ID, poster, quantity=2)  # €16.00
    await unpaid_order(app, telegram, stripe_api, OTHER_BUYER_ID, title="Unpaid", price_minor=9900)
    await settled(app)
    await dashboard_refund(stripe_api, app, refunded, 200)
    await paid_days_ago(app, older, 10)
    await paid_days_ago(app, oldest, 40)

    overview = await admin_says(telegram, "/sales", lambda t: "Sales" in t)
    today = (
        "3 orders · 4 units\n"
        "EUR: revenue €8.00 · refunds €0.00 · net €8.00\n"
        "USD: revenue $25.00 · refunds $2.00 · net $23.00"
    )
    # Item 27: today and the last 7 days have the same figures, so they are one block, and
    # the all-time top products are shown without a tap.
    assert sections(overview) == {
        "Today (UTC) · Last 7 days": today,
        "Last 30 days": "4 orders · 8 units\n"
        "EUR: revenue €8.00 · refunds €0.00 · net €8.00\n"
        "USD: revenue $45.00 · refunds $2.00 · net $43.00",
        "All time": "5 orders · 10 units\n"
        "EUR: revenue €24.00 · refunds €0.00 · net €24.00\n"
        "USD: revenue $45.00 · refunds $2.00 · net $43.00",
        "🏆 Top 5 products by revenue (all time)": "EUR\n"
        "1. Poster — €24.00 · 3 units\n"
        "USD\n"
        "1. Bulb <LED> — $25.00 · 5 units\n"
        "2. Lamp — $20.00 · 2 units",
    }

    month = await tap(telegram, overview, "30 days", lambda t: "Sales · Last 30 days" in t)
    assert (month.text or "").endswith(
        "Top 5 products by revenue\n"
        "EUR\n"
        "1. Poster — €8.00 · 1 unit\n"
        "USD\n"
        "1. Bulb <LED> — $25.00 · 5 units\n"
        "2. Lamp — $20.00 · 2 units"
    )
    day = await tap(telegram, month, "Today", lambda t: "Sales · Today" in t)
    assert "1. Lamp — $20.00 · 2 units\n2. Bulb <LED> — $5.00 · 1 unit" in (day.text or "")
    back = await tap(telegram, day, "Overview", lambda t: "Last 30 days" in t)
    assert sections(back)["All time"].startswith("5 orders · 10 units")


async def test_sales_made_today_show_one_block_and_the_top_products(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    lamp = await add_product(app, title="Lamp", price_minor=1000)
    await bought(app, telegram, stripe_api, BUYER_ID, lamp, quantity=2)
    await settled(app)
    overview = await admin_says(telegram, "/sales", lambda t: "Sales" in t)
    assert sections(overview) == {
        "Today (UTC) · Last 7 days · Last 30 days · All time": "1 order · 2 units\n"
        "USD: revenue $20.00 · refunds $0.00 · net $20.00",
        "🏆 Top 5 products by revenue (all time)": "USD\n1. Lamp — $20.00 · 2 units",
    }


async def test_sales_of_an_empty_shop(app: ShopApp, telegram: FakeTelegram) -> None:
    overview = await admin_says(telegram, "/sales", lambda t: "Sales" in t)
    assert sections(overview) == {
        "Today (UTC) · Last 7 days · Last 30 days · All time": "No sales."
    }
    assert [b["text"] for b in overview.buttons()] == [
        "Today",
        "7 days",
        "30 days",
        "All time",
        "🔄 Refresh",
    ]
    assert telegram.messages(ADMIN_ID)


def test_today_starts_at_midnight_utc() -> None:
    at = 1_700_000_000  # 2023-11-14 22:13:20 UTC
    starts = {w.code: window_start(w, at) for w in WINDOWS}
    assert starts == {"d": 1_699_920_000, "w": at - 7 * DAY, "m": at - 30 * DAY, "a": 0}


async def test_top_products_keeps_five_per_currency(
    tmp_path: Path,
) -> None:
    db = await SqliteDatabase.open(tmp_path / "sales.db")
    try:
        async with db.transaction() as tx:
            for n, currency in [(n, "usd") for n in range(1, 8)] + [(8, "eur")]:
                product_id = await products.add(
                    tx, title=f"P{n}", price_minor=100 * n, currency=currency
                )
                order = await orders.create(
                    tx,
                    buyer_user_id=1,
                    buyer_chat_id=1,
                    buyer_name="B",
                    lines=[
                        orders.NewLine(product_id, f"P{n}", ProductKind.DIGITAL_TEXT, 100 * n, 1)
                    ],
                    currency=currency,
                    expires_at=now() + 3600,
                )
                assert await orders.transition(tx, order, OrderStatus.PAID, paid_at=now())
        top = await sales.top_products(db.reader, since=0)
        assert [(p.currency, p.title, p.rank) for p in top] == [
            ("eur", "P8", 1),
            ("usd", "P7", 1),
            ("usd", "P6", 2),
            ("usd", "P5", 3),
            ("usd", "P4", 4),
            ("usd", "P3", 5),
        ]
        assert await sales.top_products(db.reader, since=now() + 1) == []
        assert await sales.totals(db.reader, since=now() + 1) == []
    finally:
        await db.close()
