"""Service-level tests of the payments use-case (shop/payments.py): a real SQLite file, and
Checkout Sessions made, paid, settled and expired in the Stripe stand-in over real HTTP through
the stripe SDK; each event is signed by the stand-in and verified by the SDK as the webhook
does, then checked with `received` and applied with `apply_event` (or looked up by the success
page's `fulfil_session`). What is asserted is what the shop owes afterwards: the order's state,
its stock and the outbox rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import stripe

from sandbox.fake_stripe import FakeStripe
from shop import payments
from shop.checkout import Buyer, Wanted, start_checkout
from shop.context import Shop
from shop.gateways.stripe_gateway import checkout_session_params
from storage import orders, products, stock
from storage.db import fetch_all
from storage.models import Order, OrderStatus, Product, ProductKind
from tests.conftest import ADMIN_ID, BUYER_ID
from tests.shop_records import add_product, new_order, scratch_db
from tests.shop_service import owed_keys, receive, stock_states

BUYER = Buyer(user_id=BUYER_ID, chat_id=BUYER_ID, name="Ada")
PRICE = 500


async def _stocked_product(shop: Shop, items: int = 1) -> int:
    async with shop.db.transaction() as tx:
        product_id = await products.add(
            tx, title="Key", price_minor=PRICE, currency="eur", kind=ProductKind.DIGITAL_STOCK
        )
        await stock.add_items(tx, product_id, [f"KEY-{n}" for n in range(items)])
    return product_id


async def _checkout(shop: Shop, product_id: int) -> tuple[Order, str]:
    """An order awaiting payment and its Checkout Session, made through the SDK."""
    order = await start_checkout(shop, BUYER, [Wanted(product_id, 1)])
    assert order.status is OrderStatus.AWAITING_PAYMENT and order.checkout_session_id
    return order, order.checkout_session_id


async def _stored(shop: Shop, order_id: int) -> Order:
    order = await orders.get(shop.db.reader, order_id)
    assert order is not None
    return order


async def _outcomes(shop: Shop) -> list[tuple[str, str]]:
    """(type, outcome) of every event recorded, sorted (the table keeps no arrival order)."""
    rows = await fetch_all(
        shop.db.reader, "SELECT type, outcome FROM stripe_events ORDER BY type, outcome"
    )
    return [(str(row[0]), str(row[1])) for row in rows]


async def test_a_paid_session_owes_the_goods_once_however_often_it_is_seen(
    shop: Shop, stripe_api: FakeStripe
) -> None:
    product_id = await _stocked_product(shop, items=2)
    order, session_id = await _checkout(shop, product_id)
    stripe_api.pay(session_id)
    completed = stripe_api.session_event("checkout.session.completed", session_id)
    await receive(shop, stripe_api, completed)
    paid = await _stored(shop, order.id)
    assert paid.status is OrderStatus.PAID and paid.amount_charged == PRICE
    assert paid.payment_intent_id and paid.payment_intent_id.startswith("pi_")
    owed = [f"goods:{order.id}", f"sale:{order.id}:{ADMIN_ID}"]
    assert await owed_keys(shop) == owed
    assert await stock_states(shop, product_id) == {"available": 1, "sold": 1}

    await receive(shop, stripe_api, completed)  # Stripe redelivers the same event
    again = stripe_api.session_event("checkout.session.completed", session_id)
    await receive(shop, stripe_api, again)  # a second event about the same payment
    snapshot = await shop.stripe.retrieve_checkout_session(session_id)  # reconciliation
    assert await payments.apply_session_snapshot(shop, snapshot.to_dict()) == paid
    assert await _stored(shop, order.id) == paid
    assert await owed_keys(shop) == owed
    assert await stock_states(shop, product_id) == {"available": 1, "sold": 1}
    assert await _outcomes(shop) == [
        ("checkout.session.completed", "already_paid"),
        ("checkout.session.completed", "paid"),
    ]


async def _delayed_payment(shop: Shop, stripe_api: FakeStripe) -> tuple[int, Order, str]:
    """A product, and an order whose buyer completed Checkout with a delayed method (a bank
    debit): the completed event is applied while the payment is still being confirmed."""
    product_id = await _stocked_product(shop)
    order, session_id = await _checkout(shop, product_id)
    stripe_api.pay(session_id, payment_status="unpaid")
    completed = stripe_api.session_event("checkout.session.completed", session_id)
    await receive(shop, stripe_api, completed)
    return product_id, order, session_id


async def test_a_delayed_payment_that_succeeds_owes_the_goods_only_then(
    shop: Shop, stripe_api: FakeStripe
) -> None:
    product_id, order, session_id = await _delayed_payment(shop, stripe_api)
    processing = await _stored(shop, order.id)
    assert processing.status is OrderStatus.PROCESSING and processing.payment_intent_id
    assert await owed_keys(shop) == [
        f"order_message:{order.id}:processing",
        f"processing_notice:{order.id}",
    ]
    assert await stock_states(shop, product_id) == {"reserved": 1}  # still held for this buyer
    seen = await payments.fulfil_session(shop, session_id)  # the success page
    assert seen is not None and payments.page_state(seen) == "processing"
    assert len(await owed_keys(shop)) == 2

    stripe_api.settle(session_id, succeeded=True)
    succeeded = stripe_api.session_event("checkout.session.async_payment_succeeded", session_id)
    await receive(shop, stripe_api, succeeded)
    assert (await _stored(shop, order.id)).status is OrderStatus.PAID
    assert (await owed_keys(shop))[2:] == [f"goods:{order.id}", f"sale:{order.id}:{ADMIN_ID}"]
    assert await stock_states(shop, product_id) == {"sold": 1}


async def test_a_delayed_payment_that_fails_ends_the_order_and_frees_itsstock_states(
    shop: Shop, stripe_api: FakeStripe
) -> None:
    product_id, order, session_id = await _delayed_payment(shop, stripe_api)
    stripe_api.settle(session_id, succeeded=False)
    failed = stripe_api.session_event("checkout.session.async_payment_failed", session_id)
    await receive(shop, stripe_api, failed)
    await receive(shop, stripe_api, failed)  # redelivered
    ended = await _stored(shop, order.id)
    assert ended.status is OrderStatus.FAILED and ended.failure_reason == "delayed payment failed"
    assert await stock_states(shop, product_id) == {"available": 1}
    assert (await owed_keys(shop))[2:] == [
        f"order_message:{order.id}:failed",
        f"failed_notice:{order.id}",
    ]
    assert await _outcomes(shop) == [
        ("checkout.session.async_payment_failed", "failed"),
        ("checkout.session.completed", "processing"),
    ]


async def test_an_expired_session_ends_the_unpaid_order_and_frees_itsstock_states(
    shop: Shop, stripe_api: FakeStripe
) -> None:
    product_id = await _stocked_product(shop)
    order, session_id = await _checkout(shop, product_id)
    assert await stock_states(shop, product_id) == {"reserved": 1}
    stripe_api.expire(session_id)
    expired = stripe_api.session_event("checkout.session.expired", session_id)
    await receive(shop, stripe_api, expired)
    assert (await _stored(shop, order.id)).status is OrderStatus.EXPIRED
    assert await stock_states(shop, product_id) == {"available": 1}
    owed = [f"order_message:{order.id}:expired", f"expired_notice:{order.id}"]
    assert await owed_keys(shop) == owed
    again = stripe_api.session_event("checkout.session.expired", session_id)
    await receive(shop, stripe_api, again)  # a second event about the same expiry
    assert await owed_keys(shop) == owed
    assert await _outcomes(shop) == [
        ("checkout.session.expired", "expired"),
        ("checkout.session.expired", "ignored"),
    ]


def _underpaid_event(stripe_api: FakeStripe, session_id: str) -> dict[str, Any]:
    """checkout.session.completed reporting 1.00 charged for our 5.00 order (as the buyer-flow
    stories do: the stand-in charges what it was asked, so the event is altered)."""
    event = stripe_api.session_event("checkout.session.completed", session_id)
    session = event["data"]["object"]
    session["amount_total"] = session["amount_subtotal"] = 100
    return event


async def test_an_amount_mismatch_delivers_nothing_and_stays_refundable(
    shop: Shop, stripe_api: FakeStripe
) -> None:
    product_id = await _stocked_product(shop)
    order, session_id = await _checkout(shop, product_id)
    stripe_api.pay(session_id)
    await receive(shop, stripe_api, _underpaid_event(stripe_api, session_id))
    held = await _stored(shop, order.id)
    assert held.status is OrderStatus.FAILED and "€1.00" in (held.failure_reason or "")
    intent = stripe_api.sessions[session_id]["payment_intent"]
    assert held.payment_intent_id == intent and intent.startswith("pi_")
    assert held.amount_charged == 100 and held.refundable_amount == 100
    assert await stock_states(shop, product_id) == {"available": 1}
    owed = [
        f"mismatch:{order.id}:{ADMIN_ID}",
        f"held_notice:{order.id}",
        f"order_message:{order.id}:held",
    ]
    assert await owed_keys(shop) == owed
    await receive(shop, stripe_api, _underpaid_event(stripe_api, session_id))  # seen again
    assert await _stored(shop, order.id) == held
    assert await owed_keys(shop) == owed
    assert await _outcomes(shop) == [("checkout.session.completed", "mismatch")] * 2


async def _other_integrations_session(shop: Shop, order: Order, product: Product) -> str:
    """A session another integration on the same Stripe account made through the SDK: it names
    a bare numeric order id, which happens to be one of ours, and none of our references."""
    params = checkout_session_params(order, {product.id: product}, [], shop.checkout_settings)
    params["metadata"] = {"order_id": str(order.id)}
    params["payment_intent_data"] = {"metadata": {"order_id": str(order.id)}}
    http = stripe.AIOHTTPClient()
    client = stripe.StripeClient(
        shop.settings.stripe_secret_key,
        base_addresses={"api": shop.settings.stripe_api_base},
        http_client=http,
    )
    try:
        return (await client.v1.checkout.sessions.create_async(params)).id
    finally:
        await http.close_async()  # type: ignore[no-untyped-call]


async def test_events_for_sessions_that_are_not_ours_change_nothing(
    shop: Shop, stripe_api: FakeStripe, tmp_path: Path
) -> None:
    product_id = await _stocked_product(shop)
    order, _ = await _checkout(shop, product_id)
    product = await products.get(shop.db.reader, product_id)
    assert product is not None
    # A staging database on the same Stripe account: its own order 1, with its own reference.
    staging_db = scratch_db(tmp_path / "staging", separate=True)
    async with staging_db as staging, staging.transaction() as tx:
        staged = await new_order(tx, await add_product(tx, price=PRICE))
    assert staged.id == order.id and staged.ref != order.ref
    staged_link = await shop.stripe.create_checkout_session(
        staged, {product.id: product}, [], shop.checkout_settings
    )
    for session_id in (
        staged_link.session_id,
        await _other_integrations_session(shop, order, product),
    ):
        stripe_api.pay(session_id)
        paid = stripe_api.session_event("checkout.session.completed", session_id)
        await receive(shop, stripe_api, paid)
    assert await _stored(shop, order.id) == order
    assert await owed_keys(shop) == []
    assert await stock_states(shop, product_id) == {"reserved": 1}
    # Recorded (so a redelivery is answered at once) only when it names one of our orders.
    assert await _outcomes(shop) == [("checkout.session.completed", "foreign")]
