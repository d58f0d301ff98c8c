"""Checkout from the cart in the chat, end to end over the stand-ins: the review before the
session (a product hidden, a price changed), a cart mixing currencies, two buyers racing for
the last keys, an expired cart session, a cart too big for one receipt, and the largest cart
a buyer can fill staying within Telegram's limits."""

from __future__ import annotations

import asyncio

from bot import callbacks as cb
from bot.app import ShopApp
from bot.buyer import cart_view
from bot.buyer import texts as buyer_texts
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import MAX_INLINE_BUTTONS, FakeMessage, FakeTelegram, utf16_len
from shop import cart
from shop.i18n import Languages
from storage import carts, products
from storage.carts import MAX_CART_LINES
from storage.db import fetch_all
from tests.cart_steps import (
    add_from_card,
    now_of,
    open_cart,
    shop_of_three,
    stock_product,
    tap_and_see,
)
from tests.conftest import BUYER_ID, OTHER_BUYER_ID
from tests.people import shown
from tests.shop_service import stock_states
from tests.story import (
    _has_pay_button,
    add_product,
    notify,
    session_of,
    settled,
    tap_answer,
    tap_buy_with_quantity,
)

EN = Languages.load(["en"]).default


def _checkout(telegram: FakeTelegram, buyer: int, view: FakeMessage) -> str:
    """Tap Checkout on the cart's message (not waiting for the answer): the query's id."""
    update = telegram.user_taps(buyer, view, cb.CART_CHECKOUT.encode())
    return str(update["callback_query"]["id"])


async def _pay_message(telegram: FakeTelegram, buyer: int, after: int) -> FakeMessage:
    return await telegram.wait_for(buyer, lambda m: m.message_id > after and _has_pay_button(m))


async def test_what_changed_before_checkout_is_shown_and_the_second_tap_pays_the_new_price(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    key, ebook, mug = await shop_of_three(app)
    for product_id in (key, ebook, mug):
        await add_from_card(telegram, BUYER_ID, product_id)
    view = await open_cart(telegram, BUYER_ID)
    assert "Total: $34.99" in shown(view)
    assert app.db is not None
    async with app.db.transaction() as tx:
        await products.set_active(tx, mug, False)  # the admin hides the mug
        await products.update(tx, ebook, price_minor=1500)  # and raises the ebook's price
    answer, view = await tap_and_see(
        telegram, BUYER_ID, view, cb.CART_CHECKOUT.encode(), "Your cart changed"
    )
    assert answer == cart_view.cart_changed(EN)
    text = shown(view)
    assert "“Mug” is no longer available — removed." in text
    assert "“Ebook” now costs $15.00." in text and "tap Checkout again" in text
    assert "1 × $15.00 = $15.00" in text and "Total: $19.99" in text
    assert stripe_api.sessions == {}  # told first: nothing was offered for payment

    telegram.user_taps(BUYER_ID, view, view.button("Checkout · $19.99")["callback_data"])
    pay = await telegram.wait_for(
        BUYER_ID, lambda m: m.message_id > view.message_id and _has_pay_button(m)
    )
    assert pay.button("Pay $19.99")
    items = stripe_api.line_items(session_of(stripe_api, pay))
    assert [(i["description"], i["amount_total"]) for i in items] == [
        ("Game key", 499), ("Ebook", 1500),
    ]  # fmt: skip
    # Confirmed by the second tap: the cart on screen drops the notes about the changes.
    await telegram.wait_for(
        BUYER_ID,
        lambda m: m.message_id == view.message_id and "Your cart changed" not in shown(m),
    )


async def test_a_cart_mixing_currencies_is_refused_naming_the_lines_to_remove(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    key, ebook, _ = await shop_of_three(app)
    tea = await add_product(app, title="Tea", price_minor=450, currency="eur")
    for product_id in (key, ebook):
        await add_from_card(telegram, BUYER_ID, product_id)
    earlier = await open_cart(telegram, BUYER_ID)  # still one currency: Checkout offered
    assert earlier.button("Checkout · $16.99")
    await add_from_card(telegram, BUYER_ID, tea)

    view = await open_cart(telegram, BUYER_ID)
    text = shown(view)
    assert "Totals: $16.99 · €4.50" in text
    assert "One payment takes one currency" in text and "Remove Tea to pay in USD" in text
    assert not [b for b in view.buttons() if "Checkout" in b["text"]]

    answer, edited = await tap_and_see(
        telegram, BUYER_ID, earlier, cb.CART_CHECKOUT.encode(), "Remove Tea to pay in USD"
    )
    assert answer == cart_view.mixed_alert(EN)
    assert telegram.answered_callbacks[-1]["show_alert"] is True
    assert not [b for b in edited.buttons() if "Checkout" in b["text"]]
    assert stripe_api.sessions == {}
    assert app.db is not None
    assert await fetch_all(app.db.reader, "SELECT id FROM orders") == []


async def test_two_carts_race_for_the_last_keys_and_the_loser_holds_nothing(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    key, ebook, _ = await shop_of_three(app, keys=3)
    await add_from_card(telegram, BUYER_ID, ebook)
    for buyer in (BUYER_ID, OTHER_BUYER_ID):
        await add_from_card(telegram, buyer, key, quantity=2)
    views = {buyer: await open_cart(telegram, buyer) for buyer in (BUYER_ID, OTHER_BUYER_ID)}
    taps = {buyer: _checkout(telegram, buyer, view) for buyer, view in views.items()}  # at once
    sold_out = "Sorry, only 1 of “Game key” left — please choose a smaller quantity."

    async def outcome(buyer: int) -> str:
        for _ in range(200):
            if any(_has_pay_button(m) for m in telegram.messages(buyer)):
                return "link"
            answers = [
                a for a in telegram.answered_callbacks if a["callback_query_id"] == taps[buyer]
            ]
            if answers and answers[0]["text"] == sold_out:
                return "refused"
            if "Only 1 of “Game key” left" in shown(now_of(telegram, buyer, views[buyer])):
                return "told"  # its review already saw the winner's reservation
            await asyncio.sleep(0.025)
        return "nothing"

    results = await asyncio.gather(*(outcome(buyer) for buyer in views))
    assert sorted(results) in (["link", "refused"], ["link", "told"])
    loser = (BUYER_ID, OTHER_BUYER_ID)[results.index("link") ^ 1]
    assert app.shop is not None
    assert await stock_states(app.shop, key) == {"available": 1, "reserved": 2}
    assert app.db is not None
    rows = await fetch_all(app.db.reader, "SELECT buyer_user_id FROM orders")
    assert loser not in [int(row[0]) for row in rows]  # nothing reserved for the loser
    assert len(stripe_api.sessions) == 1


async def test_an_expired_cart_session_releases_every_line_and_the_cart_remains(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    key, ebook, _ = await shop_of_three(app, keys=2)
    skin = await stock_product(app, "Skin", 299, ["SKIN-1"])
    for product_id, quantity in ((key, 2), (skin, 1), (ebook, 1)):
        await add_from_card(telegram, BUYER_ID, product_id, quantity)
    view = await open_cart(telegram, BUYER_ID)
    _checkout(telegram, BUYER_ID, view)
    pay = await _pay_message(telegram, BUYER_ID, view.message_id)
    assert app.shop is not None
    assert await stock_states(app.shop, key) == {"reserved": 2}
    assert await stock_states(app.shop, skin) == {"reserved": 1}

    session_id = session_of(stripe_api, pay)
    stripe_api.expire(session_id)
    await notify(stripe_api, "checkout.session.expired", session_id)
    await settled(app)
    assert await stock_states(app.shop, key) == {"available": 2}
    assert await stock_states(app.shop, skin) == {"available": 1}
    again = await open_cart(telegram, BUYER_ID)
    assert "Your cart · 3 products" in shown(again) and "Your cart changed" not in shown(again)
    telegram.user_taps(BUYER_ID, again, again.button("Checkout · $24.97")["callback_data"])
    fresh = await _pay_message(telegram, BUYER_ID, again.message_id)
    assert session_of(stripe_api, fresh) != session_id


async def test_a_cart_whose_keys_cannot_fit_one_receipt_is_refused(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    long = "x" * 240  # licence blocks of 250 characters: each counts at its length
    first = await stock_product(app, "Key A", 100, [f"A-{n:04d}-{long}" for n in range(10)])
    second = await stock_product(app, "Key B", 100, [f"B-{n:04d}-{long}" for n in range(10)])
    await add_from_card(telegram, BUYER_ID, first, quantity=7)
    await add_from_card(telegram, BUYER_ID, second, quantity=7)
    view = await open_cart(telegram, BUYER_ID)
    answer = await tap_answer(telegram, BUYER_ID, view, cb.CART_CHECKOUT.encode())
    assert answer == cart_view.too_big_for_one_receipt(EN)
    assert telegram.answered_callbacks[-1]["show_alert"] is True
    assert stripe_api.sessions == {}
    _, view = await tap_and_see(telegram, BUYER_ID, view, cb.CART_LESS.encode(second), "6 × $1.00")
    for _ in range(3):  # 7 + 3 keys fit: each at its longest, with room for the rest
        await tap_answer(telegram, BUYER_ID, view, cb.CART_LESS.encode(second))
    await telegram.wait_for(BUYER_ID, lambda m: "3 × $1.00" in shown(m))
    telegram.user_taps(BUYER_ID, view, cb.CART_CHECKOUT.encode())
    await _pay_message(telegram, BUYER_ID, view.message_id)


async def test_short_keys_let_a_bigger_cart_fit_one_receipt(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """The estimate weighs each key as long as the longest left in its pool: twenty short codes
    in two lines fit one receipt and are offered for payment."""
    first = await stock_product(app, "Code A", 100, [f"A-{n}" for n in range(10)])
    second = await stock_product(app, "Code B", 100, [f"B-{n}" for n in range(10)])
    await add_from_card(telegram, BUYER_ID, first, quantity=10)
    await add_from_card(telegram, BUYER_ID, second, quantity=10)
    view = await open_cart(telegram, BUYER_ID)
    telegram.user_taps(BUYER_ID, view, cb.CART_CHECKOUT.encode())
    await _pay_message(telegram, BUYER_ID, view.message_id)
    assert len(stripe_api.sessions) == 1


async def test_the_fullest_cart_stays_within_telegrams_limits(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    """Twenty lines of the longest titles in two currencies, every price changed: the view,
    its changes and its buttons all fit; a twenty-first product is refused."""
    title = "🎁" * 32 + "&<" * 16  # 64 units of emoji, then what escaping makes longer
    ids = [
        await add_product(
            app, title=title, price_minor=99_999_999, currency="usd" if n % 2 else "eur"
        )
        for n in range(MAX_CART_LINES + 1)
    ]
    assert app.shop is not None
    for product_id in ids[:-1]:
        await cart.add(app.shop, BUYER_ID, product_id, 10)
    view = await open_cart(telegram, BUYER_ID)
    assert len(view.buttons()) <= MAX_INLINE_BUTTONS
    assert app.db is not None
    async with app.db.transaction() as tx:
        for product_id in ids:
            await products.update(tx, product_id, price_minor=99_999_998)
    view = await open_cart(telegram, BUYER_ID)
    assert "…and 10 more" in shown(view) and utf16_len(shown(view)) <= 4096
    assert await carts.count(app.db.reader, BUYER_ID) == MAX_CART_LINES
    toast, _ = await add_from_card(telegram, BUYER_ID, ids[-1])
    assert toast == "Your cart is full (20 products at most). Check out or remove something first."


async def test_a_cart_refusal_names_its_line_in_the_taps_own_alert(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """The buyer's open Buy-now link holds 9 of the keys; a cart asking for 2 more is refused,
    naming the line, in the tap's own alert (at most 200 units however long the title)."""
    title = "Season Pass: The Longest Game Title in the Store, Ultimate Edition"
    key = await stock_product(app, title, 100, [f"K-{n}" for n in range(12)])
    await tap_buy_with_quantity(telegram, BUYER_ID, key, 9)
    await _pay_message(telegram, BUYER_ID, 0)
    await add_from_card(telegram, BUYER_ID, key, quantity=2)
    view = await open_cart(telegram, BUYER_ID)
    before = len(telegram.messages(BUYER_ID))
    answer = await tap_answer(telegram, BUYER_ID, view, cb.CART_CHECKOUT.encode())
    assert answer == buyer_texts.holding_too_many(EN, 1, title)
    assert "“Season Pass: The Longest Game T…”" in answer
    assert telegram.answered_callbacks[-1]["show_alert"] is True
    await asyncio.sleep(0.2)
    assert len(telegram.messages(BUYER_ID)) == before and len(stripe_api.sessions) == 1
