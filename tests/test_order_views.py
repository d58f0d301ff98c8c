"""A cart's order as the buyer sees it (issue 12, items 4–6): one receipt listing each line with
its goods, Send again sending the same goods, a receipt that fits one message however long the
cart's items, and Buy again putting an unpaid cart's products back in the cart.

Stories over the real stand-ins. The cart's checkout goes through the shop's own use-cases
(shop.cart.add, shop.checkout.start_checkout), as the cart view's Checkout button does; the
payment, the events, the receipt and every tap go over HTTP as in production."""

from __future__ import annotations

import re

from bot import callbacks as cb
from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from shop import cart, payments
from shop.checkout import Buyer, Wanted, start_checkout
from storage import carts, products
from storage.models import ProductKind
from tests.cart_orders import ADA, add_product, checkout_cart, pay
from tests.conftest import ADMIN_ID, BUYER_ID, OTHER_BUYER_ID
from tests.story import notify, settled, tap_answer


def _receipt(message: FakeMessage) -> bool:
    return "Paid — order" in (message.text or "")


async def test_a_cart_receipt_lists_each_line_with_its_goods_and_send_again_repeats_them(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    key = await add_product(app, "Game key", 499, ProductKind.DIGITAL_STOCK, ["K-1", "K-2", "K-3"])
    ebook = await add_product(app, "Ebook", 1200, ProductKind.DIGITAL_TEXT)
    mug = await add_product(app, "Mug", 1800, ProductKind.PHYSICAL)
    order = await checkout_cart(app, telegram, [(key, 2), (ebook, 1), (mug, 1)])
    await pay(stripe_api, order)

    receipt = (await telegram.wait_for(BUYER_ID, _receipt)).text or ""
    assert f"Paid — order #{order.id}" in receipt and "Total paid: $39.98" in receipt
    # Each line once, under its title with its subtotal, followed by its own goods.
    assert receipt.count("Game key") == 1 and receipt.count("Mug") == 1
    game, book, cup = (receipt.index(t) for t in ("Game key × 2 — $9.98", "Ebook × 1 — $12.00",
                                                 "Mug × 1 — $18.00"))  # fmt: skip
    keys = re.findall(r"K-\d", receipt)
    assert len(set(keys)) == 2 and game < receipt.index(keys[0]) < book
    assert book < receipt.index("Ebook: thank you!") < cup
    assert cup < receipt.index("We'll ship it to") and "Berlin" in receipt
    await settled(app)

    telegram.user_sends(BUYER_ID, "/orders")
    orders_page = await telegram.wait_for(BUYER_ID, lambda m: "Your orders" in (m.text or ""))
    assert f"#{order.id} · Game key × 2 + 2 more · $39.98" in (orders_page.text or "")
    answer = await tap_answer(telegram, BUYER_ID, orders_page, cb.SEND_AGAIN.encode(order.id))
    assert answer == "Sending it again…"
    again = await telegram.wait_for(BUYER_ID, lambda m: "📦 Order #" in (m.text or ""))
    assert sorted(re.findall(r"K-\d", again.text or "")) == sorted(keys)
    assert "Ebook: thank you!" in (again.text or "")


async def test_a_cart_of_twenty_long_keys_gets_one_receipt_with_no_key_cut(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """Checkout refuses such a cart; should one be paid anyway, the receipt still goes out:
    whole keys only, and the lines left out are named."""
    wanted = []
    for n in range(20):
        key = f"{n:02d}" + "X" * 254  # as long as a stock item may be
        wanted.append(
            (await add_product(app, f"Key {n}", 100, ProductKind.DIGITAL_STOCK, [key]), 1)
        )
    order = await checkout_cart(app, telegram, wanted)
    await pay(stripe_api, order)

    receipt = (await telegram.wait_for(BUYER_ID, _receipt)).text or ""
    shown = re.findall(r"\d\dX+", receipt)
    assert shown and all(len(key) == 256 for key in shown)
    assert f"the goods of {20 - len(shown)} more lines did not fit" in receipt


async def test_buy_again_puts_an_expired_carts_products_back_in_the_cart(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    assert app.shop is not None
    key = await add_product(app, "Game key", 499, ProductKind.DIGITAL_STOCK, ["K-1", "K-2", "K-3"])
    ebook = await add_product(app, "Ebook", 1200, ProductKind.DIGITAL_TEXT)
    gone = await add_product(app, "Poster", 900, ProductKind.DIGITAL_TEXT)
    order = await checkout_cart(app, telegram, [(key, 2), (ebook, 1), (gone, 1)])
    await cart.empty(app.shop, ADA.user_id)
    async with app.shop.db.transaction() as tx:
        await products.set_active(tx, gone, False)
    assert order.checkout_session_id is not None
    stripe_api.expire(order.checkout_session_id)
    await notify(stripe_api, "checkout.session.expired", order.checkout_session_id)

    notice = await telegram.wait_for(BUYER_ID, lambda m: "expired" in (m.text or ""))
    data = notice.button("Buy again")["callback_data"]
    assert data == cb.BUY_AGAIN.encode(order.id)
    forged = telegram.user_taps(OTHER_BUYER_ID, notice, data, check_keyboard=False)
    assert forged  # someone else's order: nothing goes into their cart
    answer = await tap_answer(telegram, BUYER_ID, notice, data)
    assert answer == (
        "2 products back in your cart, shown below. 1 of them can't be bought now and was left out."
    )
    shown = await telegram.wait_for(BUYER_ID, lambda m: "Checkout" in str(m.buttons()))
    assert "Game key" in (shown.text or "") and "Poster" not in (shown.text or "")
    lines = await carts.lines(app.shop.db.reader, ADA.user_id)
    assert [(ln.product_id, ln.quantity) for ln in lines] == [(key, 2), (ebook, 1)]
    await settled(app)
    assert await carts.lines(app.shop.db.reader, OTHER_BUYER_ID) == []


async def test_a_short_line_says_so_on_its_line_with_the_rest_delivered(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """The keys went back when the order was cancelled here, one was sold to Bo, and then
    Stripe's still-open page took Ada's money: her receipt has the one key left, says on the
    key's line that the other will follow, and delivers the ebook; the admins hear which line."""
    assert app.shop is not None
    key = await add_product(app, "Game key", 499, ProductKind.DIGITAL_STOCK, ["K-1", "K-2"])
    ebook = await add_product(app, "Ebook", 1200, ProductKind.DIGITAL_TEXT)
    order = await checkout_cart(app, telegram, [(key, 2), (ebook, 1)])
    assert await payments.apply_cancelled(app.shop, order.id) is not None
    bo = Buyer(user_id=OTHER_BUYER_ID, chat_id=OTHER_BUYER_ID, name="Bo")
    await start_checkout(app.shop, bo, [Wanted(key, 1)])
    await pay(stripe_api, order)

    receipt = (await telegram.wait_for(BUYER_ID, _receipt)).text or ""
    game, book = receipt.index("Game key × 2"), receipt.index("Ebook × 1")
    short = receipt.index("(1 more will follow from the merchant: they have been told.)")
    assert game < receipt.index("K-") < short < book < receipt.index("Ebook: thank you!")
    assert len(re.findall(r"K-\d", receipt)) == 1
    alert = await telegram.wait_for(ADMIN_ID, lambda m: "needs attention" in (m.text or ""))
    assert "Game key: 1 of 2 missing" in (alert.text or "")
