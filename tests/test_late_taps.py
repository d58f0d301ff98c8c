"""Button taps that reach their handler after Telegram stopped taking an answer to them: a flash
sale's queue, a restart in polling mode, or (webhook mode) one instance taking over the chats of
another that died. Telegram then refuses the answer ("query is too old"); the tap's work must
still be done, and nobody is told "something went wrong" (bot/shop_bot.py)."""

from __future__ import annotations

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from storage.models import OrderStatus
from tests.admin_product_steps import open_admin_card, product
from tests.conftest import ADMIN_ID, BUYER_ID
from tests.people import Person
from tests.story import add_product, buy, open_card, order_of, session_of

WENT_WRONG = "something went wrong"


def _went_wrong(telegram: FakeTelegram, chat: int) -> list[str]:
    return [m.text or "" for m in telegram.messages(chat) if WENT_WRONG in (m.text or "")]


async def test_taps_handled_too_late_to_answer_still_do_their_work(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe, admin: Person
) -> None:
    telegram.callback_answer_seconds = 0.0  # every answer is too late, as after a takeover
    product_id = await add_product(app, title="Ebook")

    card = await open_card(telegram, BUYER_ID, product_id)
    pay = await buy(telegram, BUYER_ID, card)
    order = await order_of(app, session_of(stripe_api, pay))
    assert order.status is OrderStatus.AWAITING_PAYMENT

    admin_card = await open_admin_card(admin, "Ebook")
    await admin.taps(admin_card, "Hide", "Hidden from buyers")
    assert not (await product(app, product_id)).active

    assert telegram.answered_callbacks == []  # Telegram took none of the late answers
    assert _went_wrong(telegram, BUYER_ID) == [] and _went_wrong(telegram, ADMIN_ID) == []


async def test_a_refusal_too_late_for_the_tap_s_alert_comes_as_a_message(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    product_id = await add_product(app, title="Ebook")
    card = await open_card(telegram, BUYER_ID, product_id)
    admin_card = await open_admin_card(admin, "Ebook")
    await admin.taps(admin_card, "Hide", "Hidden from buyers")
    telegram.callback_answer_seconds = 0.0
    telegram.user_taps(BUYER_ID, card, card.button("Buy")["callback_data"])
    await telegram.wait_for(BUYER_ID, lambda m: "no longer available" in (m.text or ""))
    assert _went_wrong(telegram, BUYER_ID) == []
