"""A buyer hammering Buy costs Telegram's message budget nothing: every refusal is the tap's own
alert (answerCallbackQuery takes no slot of the ~30 messages/s), so another buyer's payment link
and goods leave as soon as they are due."""

from __future__ import annotations

import pytest

from bot.app import ShopApp
from bot.buyer import texts
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from shop.i18n import Languages
from storage import products
from tests.conftest import BUYER_ID, OTHER_BUYER_ID
from tests.story import add_product, buy, open_card, pay_and_notify, session_of, settled

TAPS = 200
EN = Languages.load(["en"]).default


@pytest.mark.slow
async def test_a_flood_of_refused_taps_sends_no_message_and_goods_still_go(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    assert app.db is not None
    gone = await add_product(app, title="Withdrawn")
    card = await open_card(telegram, OTHER_BUYER_ID, gone)
    async with app.db.transaction() as tx:
        await products.set_active(tx, gone, False)  # the card stays on the flooder's screen
    flooder_messages = len(telegram.messages(OTHER_BUYER_ID))
    answers_before = len(telegram.answered_callbacks)

    taps = [
        telegram.user_taps(OTHER_BUYER_ID, card, card.button("Buy")["callback_data"])
        for _ in range(TAPS)
    ]
    product_id = await add_product(app, title="Ebook")
    pay_message = await buy(telegram, BUYER_ID, await open_card(telegram, BUYER_ID, product_id))
    assert await pay_and_notify(stripe_api, session_of(stripe_api, pay_message)) == 200
    await telegram.wait_for(
        BUYER_ID, lambda m: m.message_id == pay_message.message_id and "Paid" in (m.text or "")
    )
    await settled(app, buyers_only=True)
    for _ in range(100):
        if len(telegram.answered_callbacks) - answers_before >= TAPS + 1:
            break
        await telegram.wait_for_change(0.1)

    tap_ids = {tap["callback_query"]["id"] for tap in taps}
    answers = [a for a in telegram.answered_callbacks if a["callback_query_id"] in tap_ids]
    assert len(answers) == TAPS and all(a["show_alert"] for a in answers)
    told = {a["text"] for a in answers}
    assert told == {texts.product_unavailable(EN), texts.slow_down(EN)}
    assert len(telegram.messages(OTHER_BUYER_ID)) == flooder_messages  # not one message
    flooder_sends = [
        c for c in telegram.calls_of("sendMessage") if c.params.get("chat_id") == OTHER_BUYER_ID
    ]
    assert len(flooder_sends) == 1  # the card, before the flood
