"""/paysupport (issue 13, item 5): the merchant's terms and the buyer's last five orders, each
with Ask about this order; the buyer's next message goes to every admin once with the order and
the buyer's id, within the same per-buyer relay limit as plain messages; /cancel and a lapsed
question send nothing; merchant and buyer text is escaped and every message within limits.

Stories over the real Telegram stand-in; orders are written through the storage functions the
shop uses, in the states /orders lists."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app import ShopApp
from bot.buyer import paysupport, support_texts
from bot.callbacks import SUPPORT_ASK
from bot.config import ConfigError, load_settings
from bot.config.shop_rules import MAX_PAYSUPPORT_TEXT, MAX_SUPPORT_CONTACT
from bot.texts import MAX_TEXT, utf16_len
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeMessage, FakeTelegram, parse_html
from shop.i18n import Languages
from storage import orders, products
from storage.models import Order, OrderLine, OrderStatus, ProductKind
from tests.config_env import REQUIRED
from tests.conftest import ADMIN_ID, BUYER_ID, OTHER_BUYER_ID, app_with
from tests.people import Person, shown
from tests.shop_records import order_record

SECOND_ADMIN = 900002
QUESTION = "Payment support question"
EN = Languages.load(["en"]).default


async def _orders(app: ShopApp, buyer: int, titles: list[str]) -> list[Order]:
    """One order per title for `buyer`, awaiting payment (as /orders lists them), oldest first."""
    assert app.db is not None
    made = []
    async with app.db.transaction() as tx:
        for title in titles:
            product_id = await products.add(
                tx, title=title, price_minor=1250, currency="usd", kind=ProductKind.DIGITAL_TEXT
            )
            line = orders.NewLine(product_id, title, ProductKind.DIGITAL_TEXT, 1250, 1)
            order = await orders.create(
                tx, buyer_user_id=buyer, buyer_chat_id=buyer, buyer_name="Ada", lines=[line],
                currency="usd", expires_at=2**40,
            )  # fmt: skip
            assert await orders.transition(tx, order, OrderStatus.AWAITING_PAYMENT)
            made.append(order)
    return made


async def _forged_tap(telegram: FakeTelegram, message: FakeMessage, data: str) -> str:
    """The buyer sends callback data the message never carried (a modified client); the alert."""
    query = telegram.user_taps(BUYER_ID, message, data, check_keyboard=False)["callback_query"]
    for _ in range(100):
        for answer in telegram.answered_callbacks:
            if answer["callback_query_id"] == query["id"]:
                return str(answer["text"] or "")
        await asyncio.sleep(0.05)
    raise AssertionError("the forged tap was never answered")


def _questions(telegram: FakeTelegram, admin: int) -> list[FakeMessage]:
    return [m for m in telegram.messages(admin) if QUESTION in shown(m)]


async def test_paysupport_shows_the_terms_and_the_last_five_orders_each_to_ask_about(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    telegram.user_sends(SECOND_ADMIN, "/help", first_name="Bob", queue=False)
    async with app_with(
        tmp_path, telegram, stripe_api, ADMIN_IDS=f"{ADMIN_ID},{SECOND_ADMIN}"
    ) as app:
        made = await _orders(app, BUYER_ID, [f"Ebook {n}" for n in range(1, 6)] + ["<b>Key</b>"])
        await _orders(app, OTHER_BUYER_ID, ["Someone else's mug"])
        buyer = Person(telegram, BUYER_ID)
        page = await buyer.sends("/paysupport", "Payment support")
        text = shown(page)
        assert "handled by the merchant, not by Telegram" in text and "within 2 days" in text
        assert "Ebook 1" not in text and "Someone else" not in text  # the last five, hers
        assert f"#{made[-1].id} · <b>Key</b> × 1 · $12.50 · 🕒 awaiting payment" in text
        asks = [b["text"] for b in page.buttons()]
        assert asks == [f"❓ Ask about order #{o.id}" for o in reversed(made[1:])]

        prompt = await buyer.taps(page, f"order #{made[-1].id}", "Write your question about")
        assert "<b>Key</b>" in shown(prompt)
        hostile = "</code><b>refund</b> me & <a href='x'>now</a>"
        await buyer.sends(hostile, f"passed your question about order #{made[-1].id} on")
        for admin in (ADMIN_ID, SECOND_ADMIN):
            asked = await telegram.wait_for(admin, lambda m: QUESTION in shown(m))
            assert f"(id {BUYER_ID}, open their chat)" in shown(asked)
            assert f"Order #{made[-1].id} · <b>Key</b> × 1" in shown(asked)
            assert shown(asked).endswith(hostile)
        await buyer.sends("and another thing", "passed your message on")  # the question closed
        await asyncio.sleep(0.2)
        assert [len(_questions(telegram, a)) for a in (ADMIN_ID, SECOND_ADMIN)] == [1, 1]


async def test_a_buyer_without_orders_can_still_ask_and_a_forged_button_is_refused(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    terms = {"SUPPORT_CONTACT": "@shop_help", "PAYSUPPORT_TEXT": "Refunds <7 days> & more"}
    async with app_with(tmp_path, telegram, stripe_api, **terms) as app:
        (theirs,) = await _orders(app, OTHER_BUYER_ID, ["Mug"])
        buyer = Person(telegram, BUYER_ID)
        page = await buyer.sends("/paysupport", "You have no orders yet")
        assert "Refunds <7 days> & more" in shown(page) and "within 2 days" not in shown(page)
        assert "contact the merchant directly: @shop_help" in shown(page)
        assert page.buttons() == []
        forged = await _forged_tap(telegram, page, SUPPORT_ASK.encode(theirs.id))
        assert forged == support_texts.order_unknown(EN)
        await buyer.sends("I was charged twice", "passed your question on")
        asked = await telegram.wait_for(ADMIN_ID, lambda m: QUESTION in shown(m))
        assert "No order chosen." in shown(asked) and "I was charged twice" in shown(asked)
        # With a contact set, a plain message is not passed on; only the question was.
        await buyer.sends("hello?", "Contact the merchant: @shop_help")
        await asyncio.sleep(0.2)
        assert len(_questions(telegram, ADMIN_ID)) == 1
        assert not any("Message from a buyer" in shown(m) for m in telegram.messages(ADMIN_ID))


async def test_cancel_another_command_and_a_lapsed_question_send_nothing(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paysupport, "QUESTION_TIMEOUT_SECONDS", 0.5)
    async with app_with(tmp_path, telegram, stripe_api, SUPPORT_CONTACT="@shop_help"):
        buyer = Person(telegram, BUYER_ID)
        await buyer.sends("/paysupport", "Payment support")
        await buyer.sends("/cancel", "Your question was not sent")
        await buyer.sends("never mind", "Contact the merchant: @shop_help")
        await buyer.sends("/cancel", "nothing to cancel")
        await buyer.sends("/paysupport", "Payment support")
        await buyer.sends("/orders", "You have no orders yet")  # another command closes it
        await buyer.sends("thanks", "Contact the merchant: @shop_help")
        await buyer.sends("/paysupport", "Payment support")
        await asyncio.sleep(1.5)  # the question lapses
        await buyer.sends("much later", "Contact the merchant: @shop_help")
        await asyncio.sleep(0.2)
        assert _questions(telegram, ADMIN_ID) == []


async def test_questions_and_plain_messages_share_one_relay_limit(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    async with app_with(tmp_path, telegram, stripe_api):
        buyer = Person(telegram, BUYER_ID)
        for number in range(4):
            await buyer.sends(f"message {number}", "passed your message on")
        await buyer.sends("/paysupport", "Payment support")
        await buyer.sends("where is my key?", "passed your question on")
        await buyer.sends("/paysupport", "Payment support")
        await buyer.sends("and my refund?", "That's a lot of messages")
        await buyer.sends("/cancel", "Your question was not sent")  # it was still open
        await asyncio.sleep(0.2)
        relayed = [m for m in telegram.messages(ADMIN_ID) if "Message from a buyer" in shown(m)]
        assert len(relayed) == 4 and len(_questions(telegram, ADMIN_ID)) == 1


async def test_a_sticker_is_asked_again_as_text_and_a_long_question_is_clipped(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    async with app_with(tmp_path, telegram, stripe_api, SUPPORT_CONTACT="@shop_help"):
        buyer = Person(telegram, BUYER_ID)
        await buyer.sends("/paysupport", "Payment support")
        await buyer.sends_photo("Please write your question as text")
        await buyer.sends("😀" * 4000, "passed your question on")
        asked = await telegram.wait_for(ADMIN_ID, lambda m: QUESTION in shown(m))
        assert utf16_len(shown(asked)) <= MAX_TEXT and shown(asked).endswith("😀…")


async def test_a_question_no_admin_could_get_is_not_claimed_as_sent(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    async with app_with(tmp_path, telegram, stripe_api, SUPPORT_CONTACT="@shop_help"):
        buyer = Person(telegram, BUYER_ID)
        await buyer.sends("/paysupport", "Payment support")
        telegram.block(ADMIN_ID)
        await buyer.sends("refund please", "couldn't reach the merchant")
        telegram.unblock(ADMIN_ID)
        await buyer.sends("refund please", "passed your question on")  # still open
        assert len(_questions(telegram, ADMIN_ID)) == 1


def test_paysupport_text_is_checked_and_every_message_fits() -> None:
    assert load_settings({**REQUIRED}, env_file=None).paysupport_text is None
    kept = load_settings({**REQUIRED, "PAYSUPPORT_TEXT": "  We refund in 3 days. "}, env_file=None)
    assert kept.paysupport_text == "We refund in 3 days."
    blank = load_settings({**REQUIRED, "PAYSUPPORT_TEXT": "   "}, env_file=None)
    assert blank.paysupport_text is None  # as unset: the default terms
    for bad in ("x" * (MAX_PAYSUPPORT_TEXT + 1), "😀" * (MAX_PAYSUPPORT_TEXT // 2 + 1)):
        with pytest.raises(ConfigError, match="PAYSUPPORT_TEXT must be plain text"):
            load_settings({**REQUIRED, "PAYSUPPORT_TEXT": bad}, env_file=None)
    # The longest terms, contact, names and titles still fit one message, escaped.
    cart = [OrderLine(n, 1, "<&>" * 200, ProductKind.DIGITAL_TEXT, 999, 10) for n in range(20)]
    recent = [order_record(id=10**9 + n, lines=cart) for n in range(paysupport.RECENT_ORDERS)]
    for lang in Languages.load().offered:  # in every language the shop speaks
        page = support_texts.pay_support(
            lang, "<&>" * (MAX_PAYSUPPORT_TEXT // 3), "@" * MAX_SUPPORT_CONTACT, recent
        )
        asked = support_texts.support_question(lang, "<" * 300, 1, "u" * 32, recent[0], "&" * 5000)
        for html in (page, asked, support_texts.ask_about(lang, recent[0])):
            assert utf16_len(_plain(html)) <= MAX_TEXT, lang


def _plain(html: str) -> str:
    """What Telegram counts: the text after its entities are parsed."""
    return parse_html(html)[0]
