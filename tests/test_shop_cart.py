"""Service-level tests of carts (shop/cart.py, shop/checkout.py, shop/payments.py): a real SQLite
file and Checkout Sessions in the Stripe stand-in over real HTTP through the SDK, events signed
and verified. A cart fills, is reviewed against the shop before checkout, becomes one session
with a line item per line, reserves every line's stock all or nothing, and is paid once."""

from __future__ import annotations

import asyncio

import pytest

from sandbox.fake_stripe import FakeStripe
from shop import cart, payments
from shop.checkout import Buyer, MixedCurrencies, SoldOut, Wanted, start_checkout
from shop.context import Shop
from storage import carts, orders, products, stock
from storage.db import fetch_all
from storage.models import DeliveryKind, Order, OrderStatus, ProductKind, ProductRail
from tests.conftest import ADMIN_ID, BUYER_ID, OTHER_BUYER_ID
from tests.shop_service import owed_keys, receive, stock_states

ADA = Buyer(user_id=BUYER_ID, chat_id=BUYER_ID, name="Ada")
BO = Buyer(user_id=OTHER_BUYER_ID, chat_id=OTHER_BUYER_ID, name="Bo")
ADDRESS = {"name": "Ada", "address": {"line1": "1 Main St", "city": "Berlin", "country": "DE"}}


async def _product(
    shop: Shop, title: str, price: int, kind: ProductKind, keys: int = 0, currency: str = "usd"
) -> int:
    async with shop.db.transaction() as tx:
        product_id = await products.add(
            tx, title=title, price_minor=price, currency=currency, kind=kind
        )
        await stock.add_items(tx, product_id, [f"{title}-{n}" for n in range(keys)])
    return product_id


async def _shop_of_three(shop: Shop, keys: int = 5) -> tuple[int, int, int]:
    key = await _product(shop, "Game key", 499, ProductKind.DIGITAL_STOCK, keys=keys)
    ebook = await _product(shop, "Ebook", 1200, ProductKind.DIGITAL_TEXT)
    mug = await _product(shop, "Mug", 1800, ProductKind.PHYSICAL)
    return key, ebook, mug


async def _wanted(shop: Shop, buyer: Buyer) -> list[Wanted]:
    """What checkout is asked for from a cart: its lines as the buyer left them."""
    lines = await carts.lines(shop.db.reader, buyer.user_id)
    return [Wanted(line.product_id, line.quantity) for line in lines]


async def test_a_cart_of_three_kinds_is_one_session_paid_and_delivered_once(
    shop: Shop, stripe_api: FakeStripe
) -> None:
    key, ebook, mug = await _shop_of_three(shop)
    assert await cart.add(shop, ADA.user_id, key, 2) == 2
    await cart.add(shop, ADA.user_id, ebook, 1)
    await cart.add(shop, ADA.user_id, mug, 1)
    assert (await cart.load(shop.db.reader, ADA.user_id)).total == 2 * 499 + 1200 + 1800
    assert await cart.review(shop, ADA.user_id) == []
    order = await start_checkout(shop, ADA, await _wanted(shop, ADA), from_cart=True)
    assert order.status is OrderStatus.AWAITING_PAYMENT and order.checkout_session_id
    assert [(ln.title, ln.quantity, ln.unit_amount) for ln in order.lines] == [
        ("Game key", 2, 499), ("Ebook", 1, 1200), ("Mug", 1, 1800),
    ]  # fmt: skip
    session_id = order.checkout_session_id
    items = stripe_api.line_items(session_id)
    assert [(i["description"], i["quantity"], i["amount_total"]) for i in items] == [
        ("Game key", 2, 998), ("Ebook", 1, 1200), ("Mug", 1, 1800),
    ]  # fmt: skip
    assert stripe_api.sessions[session_id]["shipping_address_collection"] is not None
    assert await stock_states(shop, key) == {"available": 3, "reserved": 2}

    stripe_api.pay(session_id, shipping=ADDRESS)
    completed = stripe_api.session_event("checkout.session.completed", session_id)
    for event in (completed, completed):  # a redelivery changes nothing
        await receive(shop, stripe_api, event)
    paid = await orders.get(shop.db.reader, order.id)
    assert paid is not None and paid.status is OrderStatus.PAID and paid.shipping_address
    assert paid.amount_charged == 3998 and paid.can_ship
    assert await owed_keys(shop) == [f"goods:{order.id}", f"sale:{order.id}:{ADMIN_ID}"]
    assert await stock.items_of(shop.db.reader, order.id) == {key: ["Game key-0", "Game key-1"]}
    assert await carts.lines(shop.db.reader, ADA.user_id) == []  # what was bought left the cart


async def test_the_review_says_what_changed_and_corrects_the_cart(shop: Shop) -> None:
    key, ebook, mug = await _shop_of_three(shop, keys=3)
    for product_id, quantity in ((key, 3), (ebook, 1), (mug, 2)):
        await cart.add(shop, ADA.user_id, product_id, quantity)
    await start_checkout(shop, BO, [Wanted(key, 2)])  # Bo holds two of the three keys
    async with shop.db.transaction() as tx:
        await products.update(tx, ebook, price_minor=1500)
        await products.set_active(tx, mug, False)
    changes = await cart.review(shop, ADA.user_id)
    assert [(c.change, c.title, c.before, c.after) for c in changes] == [
        (cart.Change.FEWER, "Game key", 3, 1),
        (cart.Change.PRICE, "Ebook", 1200, 1500),
        (cart.Change.GONE, "Mug", 2, 0),
    ]
    left = await carts.lines(shop.db.reader, ADA.user_id)
    assert [(line.product_id, line.quantity, line.unit_amount) for line in left] == [
        (key, 1, 499), (ebook, 1, 1500),
    ]  # fmt: skip
    assert await cart.review(shop, ADA.user_id) == []  # the buyer has seen it: checkout goes on


async def test_two_carts_race_for_the_last_keys_and_one_gets_nothing_at_all(
    shop: Shop,
) -> None:
    key, ebook, _ = await _shop_of_three(shop, keys=3)
    await cart.add(shop, ADA.user_id, ebook, 1)
    await cart.add(shop, ADA.user_id, key, 2)
    await cart.add(shop, BO.user_id, key, 2)
    results = await asyncio.gather(
        start_checkout(shop, ADA, await _wanted(shop, ADA), from_cart=True),
        start_checkout(shop, BO, await _wanted(shop, BO), from_cart=True),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, Order)]
    lost = [r for r in results if isinstance(r, SoldOut)]
    assert len(won) == 1 and len(lost) == 1 and lost[0].title == "Game key"
    assert await stock_states(shop, key) == {"available": 1, "reserved": 2}
    rows = await fetch_all(shop.db.reader, "SELECT COUNT(*) FROM order_lines")
    assert rows[0][0] == len(won[0].lines)  # the loser's order and lines were rolled back


async def test_a_cart_mixing_currencies_is_refused_naming_the_lines(shop: Shop) -> None:
    key, ebook, mug = await _shop_of_three(shop)
    tea = await _product(shop, "Tea", 450, ProductKind.PHYSICAL, currency="eur")
    for product_id in (key, ebook, tea):
        await cart.add(shop, ADA.user_id, product_id, 1)
    with pytest.raises(MixedCurrencies) as refused:
        await start_checkout(shop, ADA, await _wanted(shop, ADA), from_cart=True)
    assert refused.value.by_currency == {"usd": ["Game key", "Ebook"], "eur": ["Tea"]}
    assert await fetch_all(shop.db.reader, "SELECT id FROM orders") == []
    assert (await cart.load(shop.db.reader, ADA.user_id)).total is None


async def test_an_expired_cart_session_releases_every_line(
    shop: Shop, stripe_api: FakeStripe
) -> None:
    key, ebook, _ = await _shop_of_three(shop, keys=2)
    other = await _product(shop, "Skin", 299, ProductKind.DIGITAL_STOCK, keys=1)
    for product_id, quantity in ((key, 2), (other, 1), (ebook, 1)):
        await cart.add(shop, ADA.user_id, product_id, quantity)
    order = await start_checkout(shop, ADA, await _wanted(shop, ADA), from_cart=True)
    assert order.checkout_session_id is not None
    stripe_api.expire(order.checkout_session_id)
    expired = stripe_api.session_event("checkout.session.expired", order.checkout_session_id)
    await receive(shop, stripe_api, expired)
    assert await stock_states(shop, key) == {"available": 2}
    assert await stock_states(shop, other) == {"available": 1}
    assert len(await carts.lines(shop.db.reader, ADA.user_id)) == 3  # the cart is still there


async def test_a_line_whose_stock_ran_out_before_the_late_payment_is_reported(
    shop: Shop, stripe_api: FakeStripe
) -> None:
    key, ebook, _ = await _shop_of_three(shop, keys=2)
    await cart.add(shop, ADA.user_id, key, 2)
    await cart.add(shop, ADA.user_id, ebook, 1)
    order = await start_checkout(shop, ADA, await _wanted(shop, ADA), from_cart=True)
    session_id = order.checkout_session_id
    assert session_id is not None
    ended = await payments.apply_cancelled(shop, order.id)  # ended here: the keys go back …
    assert ended is not None and ended.status is OrderStatus.EXPIRED
    taken = await start_checkout(shop, BO, [Wanted(key, 1)])  # … and one is taken
    assert taken.status is OrderStatus.AWAITING_PAYMENT
    stripe_api.pay(session_id)  # yet Stripe's page was still open, and took Ada's money
    completed = stripe_api.session_event("checkout.session.completed", session_id)
    await receive(shop, stripe_api, completed)
    paid = await orders.get(shop.db.reader, order.id)
    assert paid is not None and paid.status is OrderStatus.PAID
    assert await stock.items_of(shop.db.reader, order.id) == {key: ["Game key-1"]}
    rows = await fetch_all(shop.db.reader, "SELECT kind, dedupe_key FROM deliveries ORDER BY id")
    owed = [(str(row[0]), str(row[1])) for row in rows]
    assert (DeliveryKind.GOODS.value, f"goods:{order.id}") in owed
    assert (DeliveryKind.PROBLEM_ALERT.value, f"short:{order.id}:{ADMIN_ID}") in owed


async def test_adding_to_a_full_line_is_refused_not_pretended(shop: Shop) -> None:
    key, ebook, _ = await _shop_of_three(shop, keys=3)
    assert await cart.add(shop, ADA.user_id, ebook, 7) == 7
    assert await cart.add(shop, ADA.user_id, ebook, 7) == 10  # at most 10 on a line
    with pytest.raises(cart.LineFull) as full:
        await cart.add(shop, ADA.user_id, ebook, 1)
    assert full.value.most == 10
    assert await cart.add(shop, ADA.user_id, key, 5) == 3  # as many as are left
    with pytest.raises(cart.NoneLeft):
        await cart.add(shop, ADA.user_id, key, 1)


async def test_a_new_stars_price_is_a_change_the_buyer_is_told(shop: Shop) -> None:
    """A product sold on both rails: the review tells the buyer its Stars price changed (the
    invoice would ask for the new one), corrects the line, and the next review is quiet."""
    async with shop.db.transaction() as tx:
        ebook = await products.add(
            tx, title="Ebook", price_minor=1200, currency="usd", rail=ProductRail.BOTH,
            stars_price=600,
        )  # fmt: skip
    await cart.add(shop, ADA.user_id, ebook, 1)
    assert await cart.review(shop, ADA.user_id) == []
    async with shop.db.transaction() as tx:
        await products.update(tx, ebook, stars_price=750)
    [changed] = await cart.review(shop, ADA.user_id)
    assert (changed.change, changed.before, changed.after, changed.currency) == (
        cart.Change.PRICE, 600, 750, "xtr",
    )  # fmt: skip
    assert await cart.review(shop, ADA.user_id) == []
    [line] = await carts.lines(shop.db.reader, ADA.user_id)
    assert (line.unit_amount, line.stars_amount) == (1200, 750)


async def test_reviewing_a_cart_that_matches_the_shop_waits_for_no_write(shop: Shop) -> None:
    """Every /cart and Checkout tap reviews the cart; one that matches the shop is only read,
    so a flash sale's reviews never queue behind (or hold up) the writes of other buyers: here
    a write transaction stays open meanwhile, and the review still answers at once."""
    key, ebook, _ = await _shop_of_three(shop)
    await cart.add(shop, ADA.user_id, key, 1)
    await cart.add(shop, ADA.user_id, ebook, 1)
    assert await cart.review(shop, ADA.user_id) == []  # its prices are remembered now
    writing, done = asyncio.Event(), asyncio.Event()

    async def a_long_write() -> None:
        async with shop.db.transaction():
            writing.set()
            await done.wait()

    writer = asyncio.create_task(a_long_write())
    await writing.wait()
    try:
        changes, seen = await asyncio.wait_for(cart.reviewed(shop, ADA.user_id), timeout=2)
    finally:
        done.set()
        await writer
    assert changes == [] and [item.product_id for item in seen.items] == [key, ebook]
