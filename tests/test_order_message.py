"""The order's own message never offers a dead Pay link: at each state it is edited, through
the outbox, into what is true now (issue 10, item 23)."""

from __future__ import annotations

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from storage.models import OrderStatus
from tests.conftest import BUYER_ID
from tests.story import (
    checkout,
    notify,
    order_of,
    pay_and_notify,
    refund_in_dashboard,
    settled,
)


def has_pay_link(message: FakeMessage) -> bool:
    return any(b.get("url") for b in message.buttons())


async def edited_to(telegram: FakeTelegram, message: FakeMessage, words: str) -> FakeMessage:
    return await telegram.wait_for(
        message.chat_id, lambda m: m is message and words in (m.text or "")
    )


async def test_delayed_payment_then_failure_edit_the_pay_message_each_time(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    pay_message, session_id = await checkout(app, telegram, stripe_api, BUYER_ID, title="Lamp")
    stripe_api.pay(session_id, payment_status="unpaid")  # a bank debit
    await notify(stripe_api, "checkout.session.completed", session_id)

    await edited_to(telegram, pay_message, "Payment being confirmed")
    assert "Tap the button below to pay" not in (pay_message.text or "")
    assert pay_message.buttons() == []

    stripe_api.settle(session_id, succeeded=False)
    for _ in range(2):  # Stripe retries; the message is edited once
        await notify(stripe_api, "checkout.session.async_payment_failed", session_id)
    await edited_to(telegram, pay_message, "Payment failed")
    await settled(app)
    assert not has_pay_link(pay_message) and pay_message.button("Buy again")
    assert pay_message.edits == 2
    # The push notices still come, as separate messages.
    texts = [m.text or "" for m in telegram.messages(BUYER_ID)]
    assert sum("being confirmed by your bank" in t for t in texts) == 1
    assert sum("did not go through" in t for t in texts) == 1
    telegram.user_taps(BUYER_ID, pay_message, pay_message.button("Buy again")["callback_data"])
    await telegram.wait_for(
        BUYER_ID, lambda m: m.message_id > pay_message.message_id and "Lamp" in (m.text or "")
    )


async def test_an_expired_link_is_taken_off_the_pay_message(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    pay_message, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    stripe_api.expire(session_id)
    await notify(stripe_api, "checkout.session.expired", session_id)
    await edited_to(telegram, pay_message, "Payment link expired")
    assert not has_pay_link(pay_message) and pay_message.button("Buy again")
    assert (await order_of(app, session_id)).status is OrderStatus.EXPIRED


async def test_a_refund_is_noted_on_the_receipt_which_keeps_the_goods(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    pay_message, session_id = await checkout(app, telegram, stripe_api, BUYER_ID, price_minor=2000)
    assert await pay_and_notify(stripe_api, session_id) == 200
    await edited_to(telegram, pay_message, "Paid — order")
    await settled(app)
    order = await order_of(app, session_id)
    assert order.payment_intent_id is not None
    await refund_in_dashboard(stripe_api, order.payment_intent_id, 500)  # $5 of $20
    refunded = stripe_api.refund_event(order.payment_intent_id)
    assert (await stripe_api.deliver(refunded))[0] == 200

    await edited_to(telegram, pay_message, "Refunded: $5.00")
    assert "Download: https://files.example/ebook.pdf" in (pay_message.text or "")
    assert pay_message.buttons() == []
