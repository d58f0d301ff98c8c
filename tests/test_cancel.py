"""Cancel on Checkout: the session is expired through Stripe and its stock released at once,
only for the buyer whose link it is, and never for a session paid meanwhile (issue 10, item 4).
The page speaks the order's language, or for a link not the order's own the browser's (issue 14,
item 3)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from shop.checkout import Buyer, Wanted, start_checkout
from storage import events, stock
from storage.models import OrderStatus, ProductKind
from tests.conftest import ADMIN_ID, BUYER_ID, OTHER_BUYER_ID, PUBLIC_BASE_URL
from tests.language_catalogs import app_speaking
from tests.story import (
    add_product,
    buy,
    checkout,
    open_card,
    order_of,
    session_of,
    settled,
    tap_buy_with_quantity,
)


async def get_page(app: ShopApp, url: str, headers: dict[str, str] | None = None) -> str:
    """Open a page the way the buyer's browser would, on this test's server."""
    local = url.replace(PUBLIC_BASE_URL, f"http://127.0.0.1:{app.port}")
    async with aiohttp.ClientSession(headers=headers) as http, http.get(local) as response:
        assert response.status == 200
        return await response.text()


def cancel_url(stripe_api: FakeStripe, session_id: str) -> str:
    return str(stripe_api.sessions[session_id]["cancel_url"])


def expire_calls(stripe_api: FakeStripe) -> int:
    return sum(r.path.endswith("/expire") for r in stripe_api.requests_to("POST", "/v1/"))


async def stock_product(app: ShopApp, keys: int) -> int:
    product_id = await add_product(app, title="Game key", kind=ProductKind.DIGITAL_STOCK)
    assert app.db is not None
    async with app.db.transaction() as tx:
        await stock.add_items(tx, product_id, [f"KEY-{n}" for n in range(keys)])
    return product_id


async def admin_products(telegram: FakeTelegram) -> str:
    seen = len(telegram.messages(ADMIN_ID))
    telegram.user_sends(ADMIN_ID, "/products")
    listing = await telegram.wait_for(
        ADMIN_ID, lambda m: m in telegram.messages(ADMIN_ID)[seen:] and "Products" in (m.text or "")
    )
    return listing.text or ""


def has_pay_link(message: FakeMessage) -> bool:
    return any(b.get("url") for b in message.buttons())


async def test_cancel_expires_the_session_releases_the_stock_and_edits_the_order_message(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    product_id = await stock_product(app, 3)
    await tap_buy_with_quantity(telegram, BUYER_ID, product_id, 2)
    pay_message = await telegram.wait_for(BUYER_ID, has_pay_link)
    session_id = session_of(stripe_api, pay_message)
    assert "1 available · 2 reserved" in await admin_products(telegram)

    page = await get_page(app, cancel_url(stripe_api, session_id))

    assert "Payment cancelled" in page and "link is closed" in page
    assert stripe_api.sessions[session_id]["status"] == "expired"
    assert app.db is not None
    assert await stock.counts(app.db.reader, product_id) == (3, 0)
    order = await order_of(app, session_id)
    assert order.status is OrderStatus.EXPIRED
    # The order message says so, without the dead Pay link, with a way to buy again.
    await telegram.wait_for(BUYER_ID, lambda m: m is pay_message and "Cancelled" in (m.text or ""))
    assert not has_pay_link(pay_message) and pay_message.button("Buy again")
    # Stripe's checkout.session.expired for our own expire arrives and changes nothing.
    [expired] = [e for e in stripe_api.events if e["type"] == "checkout.session.expired"]
    for _ in range(100):
        if await events.outcome_of(app.db.reader, expired["id"]) is not None:
            break
        await asyncio.sleep(0.02)
    assert await events.outcome_of(app.db.reader, expired["id"]) == "ignored"
    await settled(app)
    assert not [m for m in telegram.messages(BUYER_ID) if "link for order" in (m.text or "")]
    assert "3 available · 0 reserved" in await admin_products(telegram)

    # The link opened again: the same answer, no second call to Stripe.
    assert "Payment cancelled" in await get_page(app, cancel_url(stripe_api, session_id))
    assert expire_calls(stripe_api) == 1
    telegram.user_taps(BUYER_ID, pay_message, pay_message.button("Buy again")["callback_data"])
    await telegram.wait_for(BUYER_ID, lambda m: "3 left in stock" in (m.text or ""))


async def test_a_guessed_or_borrowed_cancel_link_cancels_nothing(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    product_id = await stock_product(app, 3)
    mine = await buy(telegram, BUYER_ID, await open_card(telegram, BUYER_ID, product_id))
    theirs = await buy(
        telegram, OTHER_BUYER_ID, await open_card(telegram, OTHER_BUYER_ID, product_id)
    )
    my_session, their_session = session_of(stripe_api, mine), session_of(stripe_api, theirs)
    order = await order_of(app, my_session)
    their_token = cancel_url(stripe_api, their_session).split("token=")[1]
    base = f"{PUBLIC_BASE_URL}/cancel"
    for forged in (
        f"{base}?order={order.id}",
        f"{base}?order={order.id}&token=",
        f"{base}?order={order.id}&token=0123456789abcdef0123456789abcdef",
        f"{base}?order={order.id}&token={their_token}",  # another buyer's own, valid token
        f"{base}?order=%C2%B2&token={their_token}",
        base,
    ):
        page = await get_page(app, forged)
        assert "Nothing was charged" in page and "link is closed" not in page
    assert expire_calls(stripe_api) == 0
    assert (await order_of(app, my_session)).status is OrderStatus.AWAITING_PAYMENT
    assert stripe_api.sessions[my_session]["status"] == "open"
    assert app.db is not None
    assert await stock.counts(app.db.reader, product_id) == (1, 2)


async def test_cancel_after_paying_keeps_the_payment_and_delivers(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """Paid in another tab, then "back" in this one: Stripe refuses to expire a completed
    session, and the payment it reports is recorded instead of the order being ended."""
    pay_message, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    stripe_api.pay(session_id)  # and the webhook has not arrived yet

    page = await get_page(app, cancel_url(stripe_api, session_id))

    assert "Payment received" in page
    assert expire_calls(stripe_api) == 1
    assert [
        r.status for r in stripe_api.requests_to("POST", "/v1/") if r.path.endswith("/expire")
    ] == [400]
    assert stripe_api.sessions[session_id]["status"] == "complete"
    assert not [e for e in stripe_api.events if e["type"] == "checkout.session.expired"]
    await telegram.wait_for(
        BUYER_ID, lambda m: m is pay_message and "Paid — order" in (m.text or "")
    )
    await settled(app)
    assert (await order_of(app, session_id)).status is OrderStatus.FULFILLED


async def test_a_cancel_link_opened_many_times_at_once_expires_once(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    url = cancel_url(stripe_api, session_id)
    pages = await asyncio.gather(*(get_page(app, url) for _ in range(50)))
    assert all("Payment cancelled" in page and "link is closed" in page for page in pages)
    assert expire_calls(stripe_api) == 1
    assert stripe_api.requests_to("GET", f"/v1/checkout/sessions/{session_id}") == []


async def test_the_cancel_page_speaks_the_order_language_and_a_forged_one_the_browsers(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    async with app_speaking(tmp_path, telegram, stripe_api) as app:
        assert app.shop is not None
        product_id = await stock_product(app, 2)
        buyer = Buyer(user_id=BUYER_ID, chat_id=BUYER_ID, name="Ada", language="es")
        order = await start_checkout(app.shop, buyer, [Wanted(product_id, 1)])
        assert order.checkout_session_id is not None
        url = cancel_url(stripe_api, order.checkout_session_id)

        page = await get_page(app, url, {"Accept-Language": "en"})
        assert '<html lang="es" dir="ltr">' in page and "<h1>Pago cancelado</h1>" in page
        assert "No se cobró nada y el enlace de pago está cerrado." in page
        assert "Nothing was charged" not in page and 'class="amount"' not in page
        assert (await order_of(app, order.checkout_session_id)).status is OrderStatus.EXPIRED
        # Back on the success page later (the browser's history): the same words, not "expired".
        success = f"{PUBLIC_BASE_URL}/success?session_id={order.checkout_session_id}"
        assert "<h1>Pago cancelado</h1>" in await get_page(app, success)

        forged = f"{PUBLIC_BASE_URL}/cancel?order={order.id}&token=0123456789abcdef"
        spanish = await get_page(app, forged, {"Accept-Language": "es-ES,en;q=0.5"})
        assert '<html lang="es" dir="ltr">' in spanish
        assert "No se cobró nada. Puedes seguir donde lo dejaste en el bot." in spanish
        english = await get_page(app, forged)
        assert "Nothing was charged. You can pick up where you left off in the bot." in english
