"""Property: any interleaving, duplication and reordering of Stripe's events converges.

Each order follows one of the stories Stripe really tells (card paid, delayed method that
clears or fails, link expired, paid then refunded). The events are produced in the true order
by the Stripe stand-in, then delivered to the shop in a random order with random duplicates.
Whatever the order: each order ends in its one correct state, goods are delivered exactly to
the paid orders, and no stock item is ever given twice or left reserved.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
import stripe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from storage import deliveries, orders, stock
from storage.models import DeliveryKind, OrderStatus, ProductKind
from tests.story import add_product, buy, open_card, session_of, settled

STORIES: dict[str, OrderStatus] = {
    "card": OrderStatus.FULFILLED,
    "delayed_ok": OrderStatus.FULFILLED,
    "delayed_failed": OrderStatus.FAILED,
    "expired": OrderStatus.EXPIRED,
    "refunded": OrderStatus.REFUNDED,
}
PAID_STORIES = {"card", "delayed_ok", "refunded"}
_buyers = itertools.count(800_000)


async def _events_for(
    story: str, session_id: str, stripe_api: FakeStripe, refunds: stripe.StripeClient
) -> list[dict[str, Any]]:
    """Advance the session in the stand-in as Stripe would, collecting the events it sends."""
    event = stripe_api.session_event
    if story == "expired":
        stripe_api.expire(session_id)
        return [event("checkout.session.expired", session_id)]
    if story in ("card", "refunded"):
        stripe_api.pay(session_id)
        events = [event("checkout.session.completed", session_id)]
        if story == "refunded":
            intent = stripe_api.sessions[session_id]["payment_intent"]
            await refunds.v1.refunds.create_async({"payment_intent": intent})
            events.append(stripe_api.refund_event(intent))
        return events
    stripe_api.pay(session_id, payment_status="unpaid")
    events = [event("checkout.session.completed", session_id)]
    stripe_api.settle(session_id, succeeded=story == "delayed_ok")
    kind = "succeeded" if story == "delayed_ok" else "failed"
    return [*events, event(f"checkout.session.async_payment_{kind}", session_id)]


async def _converged(
    app: ShopApp, telegram: FakeTelegram, story: str, session_id: str, buyer: int
) -> int:
    """Check one story's order ended where its story says; 1 when it sold its key."""
    assert app.db is not None
    order = await orders.by_session(app.db.reader, session_id)
    assert order is not None
    assert order.status is STORIES[story], (story, order.status)
    goods = [
        d
        for d in await deliveries.for_order(app.db.reader, order.id)
        if d.kind is DeliveryKind.GOODS
    ]
    by_product = await stock.items_of(app.db.reader, order.id)
    items = [item for line in by_product.values() for item in line]
    assert await stock.reserved_for(app.db.reader, order.id) == 0
    if story not in PAID_STORIES:
        assert goods == [] and items == []
        return 0
    assert [d.status for d in goods] == ["sent"]
    assert len(items) == 1
    receipts = [m for m in telegram.messages(buyer) if items[0] in (m.text or "")]
    assert len(receipts) == 1
    return 1


@pytest.mark.slow
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    stories=st.lists(st.sampled_from(sorted(STORIES)), min_size=1, max_size=5),
    data=st.data(),
)
async def test_any_event_order_converges(
    app: ShopApp,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    stories: list[str],
    data: st.DataObject,
) -> None:
    assert app.db is not None
    product_id = await add_product(app, title="Key", kind=ProductKind.DIGITAL_STOCK)
    async with app.db.transaction() as tx:
        await stock.add_items(tx, product_id, [f"K-{product_id}-{n}" for n in range(10)])
    http = stripe.AIOHTTPClient()
    client = stripe.StripeClient(
        stripe_api.api_key, base_addresses={"api": stripe_api.api_base}, http_client=http
    )
    sessions: list[tuple[str, str, int]] = []
    all_events: list[dict[str, Any]] = []
    try:
        for story in stories:
            buyer = next(_buyers)
            pay_message = await buy(telegram, buyer, await open_card(telegram, buyer, product_id))
            session_id = session_of(stripe_api, pay_message)
            sessions.append((story, session_id, buyer))
            all_events += await _events_for(story, session_id, stripe_api, client)
    finally:
        await http.close_async()  # type: ignore[no-untyped-call]

    duplicated = all_events + data.draw(st.lists(st.sampled_from(all_events), max_size=6))
    shuffled = data.draw(st.permutations(duplicated))
    batch = data.draw(st.integers(min_value=1, max_value=4))
    for start in range(0, len(shuffled), batch):
        answers = await asyncio.gather(
            *(stripe_api.deliver(e) for e in shuffled[start : start + batch])
        )
        assert all(status == 200 for status, _ in answers), answers
    await settled(app, buyers_only=True)  # 25 examples share one admin's paced alert chat

    sold = 0
    for story, session_id, buyer in sessions:
        sold += await _converged(app, telegram, story, session_id, buyer)
    assert await stock.available(app.db.reader, product_id) == 10 - sold
