"""One buyer's double tap reaching two instances at once (issue 15, item 2): each instance
serialises its own buyers' checkouts, so across instances the database decides. The second
tap is told to slow down while the first one's link is being made, and reuses that link once it
exists; an order a crash left pending does not block the buyer."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from shop.checkout import Buyer, LinkInProgress, Wanted, start_checkout
from shop.context import Shop
from storage import orders, products
from storage.clock import now
from storage.models import OrderStatus, ProductKind
from tests.conftest import BUYER_ID

BUYER = Buyer(user_id=BUYER_ID, chat_id=BUYER_ID, name="Ada")


async def _product(shop: Shop) -> int:
    async with shop.db.transaction() as tx:
        return await products.add(tx, title="Mug", price_minor=900, currency="usd")


def _other_instance(shop: Shop) -> Shop:
    """A second instance on the same database: its own buyer locks and rate windows."""
    return dataclasses.replace(shop, buyer_locks=type(shop.buyer_locks)())


async def test_a_double_tap_on_two_instances_makes_one_order_and_one_link(shop: Shop) -> None:
    product_id = await _product(shop)
    other = _other_instance(shop)
    stripe_called = asyncio.Event()
    let_stripe_answer = asyncio.Event()

    async def hold_stripe() -> None:
        stripe_called.set()
        await let_stripe_answer.wait()

    first = asyncio.create_task(
        start_checkout(shop, BUYER, [Wanted(product_id, 1)], before_stripe=hold_stripe)
    )
    await stripe_called.wait()  # the first tap's order is written, its session being made
    with pytest.raises(LinkInProgress):
        await start_checkout(other, BUYER, [Wanted(product_id, 1)])
    let_stripe_answer.set()
    made = await first
    again = await start_checkout(other, BUYER, [Wanted(product_id, 1)])
    assert again.id == made.id and again.checkout_url == made.checkout_url
    mine = await orders.for_buyer(shop.db.reader, BUYER_ID, offset=0, limit=10)
    assert [o.id for o in mine] == [made.id]


async def test_an_order_a_crash_left_pending_does_not_block_the_buyer(shop: Shop) -> None:
    product_id = await _product(shop)
    async with shop.db.transaction() as tx:
        stale = await orders.create(
            tx,
            buyer_user_id=BUYER_ID,
            buyer_chat_id=BUYER_ID,
            buyer_name="Ada",
            lines=[orders.NewLine(product_id, "Mug", ProductKind.DIGITAL_TEXT, 900, 1)],
            currency="usd",
            expires_at=now() + 3600,
        )
        await tx.execute("UPDATE orders SET created_at = ? WHERE id = ?", (now() - 600, stale.id))
    order = await start_checkout(shop, BUYER, [Wanted(product_id, 1)])
    assert order.id != stale.id and order.status is OrderStatus.AWAITING_PAYMENT
