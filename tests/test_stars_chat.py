"""The buyer's Telegram Stars purchase in the chat, end to end: the real app over HTTP to the
Telegram and Stripe stand-ins through python-telegram-bot and stripe, a real SQLite file. The
stand-in plays the buyer on Telegram's payment sheet (`pay_invoice`): its pre_checkout_query
reaches the bot's handler, which must answer within the deadline, and its successful_payment
message is what delivers the goods — once, however often it arrives."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot import callbacks as cb
from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from shop import stars
from storage import stock
from storage.models import OrderStatus, ProductRail, Rail
from tests.cart_steps import open_cart
from tests.conftest import ADMIN_ID, BUYER_ID, OTHER_BUYER_ID, settings_for, start_app
from tests.people import shown
from tests.stars_steps import (
    STARS,
    add_to_cart,
    buy_for_stars,
    claimed,
    next_invoice,
    open_stars_card,
    order_by_ref,
    pay,
    resend_update,
    showing,
    stars_ebook,
    stars_key,
    tap_stars_buy,
)
from tests.story import buy, open_card, order_of, pay_and_notify, session_of, settled, tap_answer


async def test_a_key_bought_for_stars_is_delivered_once_through_repeats_and_a_restart(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    settings = settings_for(tmp_path, telegram, stripe_api)
    app = await start_app(settings, telegram, stripe_api)
    try:
        product_id = await stars_key(app, keys=2)
        card = await open_stars_card(telegram, BUYER_ID, product_id)
        labels = [b["text"] for b in card.buttons()]
        assert f"⭐ Buy for {STARS} Stars" in labels and not any("Buy now" in t for t in labels)
        assert "⭐ 150" in shown(card)
        tap_stars_buy(telegram, BUYER_ID, card)
        invoice = await next_invoice(telegram, BUYER_ID, card.message_id)
        assert invoice.invoice is not None
        assert (invoice.invoice.currency, invoice.invoice.total_amount) == ("XTR", STARS)
        assert (await claimed(app, invoice)).rail is Rail.STARS

        payment = await pay(telegram, BUYER_ID, invoice)
        assert payment.outcome == "paid"
        await settled(app)
        assert len(showing(telegram, BUYER_ID, "KEY-0000")) == 1
        resend_update(telegram, payment)  # the same successful_payment again
        await asyncio.sleep(0.3)
        await settled(app)
    finally:
        await app.stop()
    resend_update(telegram, payment)  # and once more, fetched by the restarted app
    app = await start_app(settings, telegram, stripe_api)
    try:
        await asyncio.sleep(0.5)
        await settled(app)
        assert len(showing(telegram, BUYER_ID, "KEY-0000")) == 1
        paid = await order_by_ref(app, invoice)
        assert paid.status is OrderStatus.FULFILLED
        assert paid.telegram_payment_charge_id == payment.charge_id
        assert app.db is not None
        assert await stock.available(app.db.reader, product_id) == 1
    finally:
        await app.stop()


async def test_pre_checkout_for_an_expired_order_is_refused_with_its_message(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    product_id = await stars_key(app)
    invoice = await buy_for_stars(telegram, BUYER_ID, product_id)
    order = await order_by_ref(app, invoice)
    assert app.db is not None
    async with app.db.transaction() as tx:
        await tx.execute("UPDATE orders SET expires_at = 1 WHERE id = ?", (order.id,))
    payment = await pay(telegram, BUYER_ID, invoice)
    assert (payment.outcome, payment.error_message) == (
        "refused",
        stars.REFUSALS[stars.Refusal.EXPIRED],
    )


async def test_a_second_tap_points_at_the_invoice_a_deleted_one_is_sent_again_paid_once(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    product_id = await stars_key(app)
    card = await open_stars_card(telegram, BUYER_ID, product_id)
    tap_stars_buy(telegram, BUYER_ID, card)
    first = await next_invoice(telegram, BUYER_ID, card.message_id)
    await claimed(app, first)
    tap_stars_buy(telegram, BUYER_ID, card)
    pointer = await telegram.wait_for(BUYER_ID, lambda m: "Your invoice is right here" in shown(m))
    assert sum(m.invoice is not None for m in telegram.messages(BUYER_ID)) == 1
    first.deleted = True  # the buyer deletes the invoice in their app
    tap_stars_buy(telegram, BUYER_ID, card)
    second = await next_invoice(telegram, BUYER_ID, pointer.message_id)
    assert second.invoice is not None and first.invoice is not None
    assert second.invoice.payload == first.invoice.payload  # the same order, offered again
    await claimed(app, second)
    assert (await pay(telegram, BUYER_ID, second)).outcome == "paid"
    await settled(app)
    assert len(showing(telegram, BUYER_ID, "KEY-0000")) == 1
    # Two invoices of one order (as a quick double tap can leave): the other one is refused.
    first.deleted = False
    refused = await pay(telegram, BUYER_ID, first)
    assert (refused.outcome, refused.error_message) == (
        "refused",
        stars.REFUSALS[stars.Refusal.ALREADY_PAID],
    )
    await settled(app)
    assert len(showing(telegram, BUYER_ID, "KEY-0000")) == 1


async def test_two_buyers_racing_for_the_last_key_through_stars(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    product_id = await stars_key(app)
    telegram.user_sends(OTHER_BUYER_ID, "/start", first_name="Bob")
    cards = [await open_stars_card(telegram, who, product_id) for who in (BUYER_ID, OTHER_BUYER_ID)]
    answers = await asyncio.gather(
        *(
            tap_answer(telegram, who, card, card.button("⭐ Buy for")["callback_data"])
            for who, card in zip((BUYER_ID, OTHER_BUYER_ID), cards, strict=True)
        )
    )
    assert sorted(answers) == ["", "Sorry, this product just sold out."]
    winner = (BUYER_ID, OTHER_BUYER_ID)[answers.index("")]
    invoice = await next_invoice(telegram, winner, 0)
    assert (await pay(telegram, winner, invoice)).outcome == "paid"
    await settled(app)
    assert len(showing(telegram, winner, "KEY-0000")) == 1
    loser = OTHER_BUYER_ID if winner == BUYER_ID else BUYER_ID
    assert not showing(telegram, loser, "KEY-0000")
    assert not any(m.invoice for m in telegram.messages(loser))


async def test_a_both_product_is_bought_once_each_way(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    product_id = await stars_key(app, keys=2, rail=ProductRail.BOTH)
    card = await open_card(telegram, BUYER_ID, product_id)
    labels = [b["text"] for b in card.buttons()]
    assert "⚡ Buy now — $4.99" in labels and f"⭐ Buy for {STARS} Stars" in labels
    assert "$4.99 or ⭐ 150" in shown(card)
    pay_message = await buy(telegram, BUYER_ID, card)
    session_id = session_of(stripe_api, pay_message)
    assert await pay_and_notify(stripe_api, session_id) == 200
    invoice = await buy_for_stars(telegram, BUYER_ID, product_id)
    assert (await pay(telegram, BUYER_ID, invoice)).outcome == "paid"
    await settled(app)
    by_card, by_stars = await order_of(app, session_id), await order_by_ref(app, invoice)
    assert (by_card.rail, by_card.currency) == (Rail.STRIPE, "usd")
    assert (by_stars.rail, by_stars.currency, by_stars.amount_paid) == (Rail.STARS, "xtr", STARS)
    assert len(showing(telegram, BUYER_ID, "KEY-0000")) == 1
    assert len(showing(telegram, BUYER_ID, "KEY-0001")) == 1


async def test_a_cart_of_stars_products_is_paid_with_one_invoice(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    key, ebook = await stars_key(app, keys=3), await stars_ebook(app)
    await add_to_cart(telegram, BUYER_ID, key, quantity=2)
    await add_to_cart(telegram, BUYER_ID, ebook)
    view = await open_cart(telegram, BUYER_ID)
    assert "Total: ⭐ 340" in shown(view) and "2 × ⭐ 150 = ⭐ 300" in shown(view)
    assert not any("Checkout" in b["text"] for b in view.buttons())
    telegram.user_taps(BUYER_ID, view, view.button("⭐ Pay 340 Stars")["callback_data"])
    invoice = await next_invoice(telegram, BUYER_ID, view.message_id)
    assert invoice.invoice is not None and invoice.invoice.total_amount == 340
    assert invoice.invoice.title == "Game key + 1 more"
    assert (await pay(telegram, BUYER_ID, invoice)).outcome == "paid"
    await settled(app)
    order = await order_by_ref(app, invoice)
    assert order.from_cart and len(order.lines) == 2 and order.status is OrderStatus.FULFILLED
    for text in ("KEY-0000", "KEY-0001", "Download: https://files.example/ebook.pdf"):
        assert len(showing(telegram, BUYER_ID, text)) == 1
    assert sum(m.invoice is not None for m in telegram.messages(BUYER_ID)) == 1


async def test_a_cart_mixing_rails_names_the_lines_to_take_out(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    from tests.story import add_product

    ebook = await stars_ebook(app, title="Stars ebook")
    mug = await add_product(app, title="Mug", price_minor=1800)
    sticker = await add_product(app, title="Sticker", price_minor=300)
    await add_to_cart(telegram, BUYER_ID, ebook)
    stars_only = await open_cart(telegram, BUYER_ID)
    assert stars_only.button("⭐ Pay 40 Stars")
    for product_id in (mug, sticker):
        await add_to_cart(telegram, BUYER_ID, product_id)
    view = await open_cart(telegram, BUYER_ID)
    warning = "“Stars ebook” can only be paid with Telegram Stars"
    assert warning in shown(view)
    assert not any("Checkout" in b["text"] or "Pay" in b["text"] for b in view.buttons())
    # ⭐ Pay on the cart as it was shown before the card products came in
    answer = await tap_answer(telegram, BUYER_ID, stars_only, cb.CART_STARS.encode())
    assert warning in answer
    assert not any(m.invoice for m in telegram.messages(BUYER_ID))


async def test_a_payment_made_while_a_support_question_is_open_is_recorded_not_relayed(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    """/paysupport opens a question that takes the buyer's next message; the successful
    payment message arriving meanwhile is still the payment's (and no admin gets it)."""
    product_id = await stars_key(app)
    invoice = await buy_for_stars(telegram, BUYER_ID, product_id)
    telegram.user_sends(BUYER_ID, "/paysupport")
    await telegram.wait_for(BUYER_ID, lambda m: m.message_id > invoice.message_id)
    admin_messages = len(telegram.messages(ADMIN_ID))
    assert (await pay(telegram, BUYER_ID, invoice)).outcome == "paid"
    await settled(app)
    assert len(showing(telegram, BUYER_ID, "KEY-0000")) == 1
    assert not any(
        "question" in shown(m).casefold() for m in telegram.messages(ADMIN_ID)[admin_messages:]
    )


async def test_a_card_older_than_the_merchants_rail_change_is_refused_in_its_alert(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    product_id = await stars_key(app)
    card = await open_stars_card(telegram, BUYER_ID, product_id)
    assert app.db is not None
    async with app.db.transaction() as tx:
        sql = "UPDATE products SET rail = 'stripe', stars_price = NULL WHERE id = ?"
        await tx.execute(sql, (product_id,))
    answer = await tap_answer(telegram, BUYER_ID, card, card.button("⭐ Buy for")["callback_data"])
    assert (
        answer
        == "This product is no longer sold for Telegram Stars. Open it again from the /catalog."
    )
    assert not any(m.invoice for m in telegram.messages(BUYER_ID))
