"""/sales for a cart (issue 12: "every figure in /sales still adds up"): a cart of three lines
paid with a promotion code is one order, its units the sum of the lines, its revenue what was
charged, and each product in the top list its share of it; a refund then moves the refunds and
the net only. A story over the real stand-ins, with ALLOW_PROMOTION_CODES on."""

from __future__ import annotations

import re

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from storage.models import ProductKind
from tests.cart_orders import add_product, checkout_cart, pay
from tests.conftest import ADMIN_ID, BUYER_ID
from tests.people import Person, shown
from tests.story import refund_in_dashboard, settled


async def sales_screen(admin: Person) -> str:
    text = shown(await admin.sends("/sales", "Sales"))
    return re.sub(r"as of .+? UTC", "as of (now)", text)


async def test_a_discounted_cart_is_one_order_of_its_units_and_each_product_its_share(
    promo_app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    key = await add_product(promo_app, "Game key", 500, ProductKind.DIGITAL_STOCK, ["K-1", "K-2"])
    ebook = await add_product(promo_app, "Ebook", 1200, ProductKind.DIGITAL_TEXT)
    mug = await add_product(promo_app, "Mug", 1800, ProductKind.PHYSICAL)
    order = await checkout_cart(promo_app, telegram, [(key, 2), (ebook, 1), (mug, 1)])
    coupon = stripe_api.add_coupon(percent_off=25)
    stripe_api.add_promotion_code(coupon, "SPRING25")
    await pay(stripe_api, order, promotion_code="SPRING25")  # $40.00 less 25 %: $30.00
    await settled(promo_app)
    admin = Person(telegram, ADMIN_ID)

    figures = (
        "1 order · 4 units\n"
        "USD: revenue $30.00 · refunds {refunds} · net {net}\n"
        "\n"
        "🏆 Top 5 products by revenue (all time)\n"
        "USD\n"
        "1. Mug — $13.50 · 1 unit\n"
        "2. Ebook — $9.00 · 1 unit\n"
        "3. Game key — $7.50 · 2 units"
    )
    assert (await sales_screen(admin)).endswith(
        "Today (UTC) · Last 7 days · Last 30 days · All time\n"
        + figures.format(refunds="$0.00", net="$30.00")
    )

    # The admin about to refund sees what the cart held, line by line.
    asked = shown(await admin.sends(f"/refund {order.id}", "Refund order"))
    assert "Game key × 2 — $10.00\nEbook × 1 — $12.00\nMug × 1 — $18.00\n" in asked
    assert "Paid $30.00" in asked

    assert order.checkout_session_id is not None
    payment_intent = stripe_api.sessions[order.checkout_session_id]["payment_intent"]
    await refund_in_dashboard(stripe_api, payment_intent, 500)
    assert (await stripe_api.deliver(stripe_api.refund_event(payment_intent)))[0] == 200
    await settled(promo_app)
    assert (await sales_screen(admin)).endswith(figures.format(refunds="$5.00", net="$25.00"))
    # The buyer sees it too: on the receipt, which keeps every line's goods, and in /orders.
    receipt = await telegram.wait_for(BUYER_ID, lambda m: "Refunded:" in (m.text or ""))
    assert "Refunded: $5.00 of $30.00" in (receipt.text or "")
    assert "Mug × 1 — $18.00" in (receipt.text or "")
    assert "Ebook: thank you!" in (receipt.text or "")
    listing = shown(await Person(telegram, BUYER_ID).sends("/orders", "Your orders"))
    assert f"#{order.id} · Game key × 2 + 2 more · $30.00\n" in listing
    assert "partly refunded ($5.00)" in listing
