"""Steps for stories of cart orders over the real stand-ins: products of each kind, a cart
filled and checked out through the shop's own use-cases (shop.cart.add and
shop.checkout.start_checkout, what the cart view's Checkout button calls), and its payment."""

from __future__ import annotations

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from shop import cart
from shop.checkout import Buyer, Wanted, start_checkout
from storage import carts, products, stock
from storage.models import Order, ProductKind
from tests.conftest import BUYER_ID
from tests.story import notify

ADA = Buyer(user_id=BUYER_ID, chat_id=BUYER_ID, name="Ada")
ADDRESS = {"name": "Ada", "address": {"line1": "1 Main St", "city": "Berlin", "country": "DE"}}


async def add_product(
    app: ShopApp, title: str, price: int, kind: ProductKind, keys: list[str] | None = None
) -> int:
    assert app.db is not None
    async with app.db.transaction() as tx:
        product_id = await products.add(
            tx,
            title=title,
            price_minor=price,
            currency="usd",
            kind=kind,
            delivery_text=f"{title}: thank you!" if kind is ProductKind.DIGITAL_TEXT else "",
        )
        await stock.add_items(tx, product_id, keys or [])
    return product_id


async def checkout_cart(
    app: ShopApp, telegram: FakeTelegram, wanted: list[tuple[int, int]]
) -> Order:
    """Ada, who has talked to the bot, fills her cart and checks it out: one order awaiting
    payment."""
    assert app.shop is not None
    telegram.user_sends(BUYER_ID, "/start")
    await telegram.wait_for(BUYER_ID, lambda m: True)
    for product_id, quantity in wanted:
        await cart.add(app.shop, ADA.user_id, product_id, quantity)
    lines = await carts.lines(app.shop.db.reader, ADA.user_id)
    return await start_checkout(
        app.shop, ADA, [Wanted(ln.product_id, ln.quantity) for ln in lines], from_cart=True
    )


async def pay(stripe_api: FakeStripe, order: Order, promotion_code: str | None = None) -> None:
    """Ada pays (with a shipping address when a line ships); Stripe sends the completion."""
    assert order.checkout_session_id is not None
    shipping = ADDRESS if order.ships else None
    stripe_api.pay(order.checkout_session_id, shipping=shipping, promotion_code=promotion_code)
    await notify(stripe_api, "checkout.session.completed", order.checkout_session_id)
