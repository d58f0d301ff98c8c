"""Payments in Telegram Stars through the stand-in, driven by a real telegram.Bot over HTTP:
invoices and their limits, the pre-checkout query and its deadline, successful payments, Star
transactions and refunds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
    TransactionPartnerUser,
    Update,
)
from telegram.error import BadRequest

from sandbox.fake_telegram import FakeMessage, FakePayment, FakeTelegram
from sandbox.telegram_standin import payments
from sandbox.telegram_standin.protocol import BUTTON_TYPE_INVALID, QUERY_INVALID
from tests.telegram_standin.helpers import BUYER, keyboard

OTHER = 43
STARS: dict[str, Any] = {
    "title": "Ebook",
    "description": "A book about strict stand-ins",
    "payload": "order-1",
    "currency": "XTR",
    "prices": [LabeledPrice("Ebook", 50)],
}


class Poller:
    """The bot's side of long polling: each update is fetched once, in order."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.offset = 0

    async def next(
        self, wanted: Callable[[Update], bool], *, allowed: list[str] | None = None
    ) -> Update:
        for _ in range(10):
            updates = await self.bot.get_updates(self.offset, timeout=1, allowed_updates=allowed)
            for update in updates:
                self.offset = update.update_id + 1
                if wanted(update):
                    return update
        raise AssertionError("no such update")

    async def checkout(self) -> Update:
        return await self.next(lambda u: u.pre_checkout_query is not None)

    async def message(self, field: str) -> Message:
        update = await self.next(lambda u: getattr(u.message, field, None) is not None)
        assert update.message is not None
        return update.message


async def refused(call: Any, fake: FakeTelegram, method: str) -> str:
    """The description Telegram answered for a refused call (PTB reshapes its own message)."""
    with pytest.raises(BadRequest) as error:
        await call
    description = str(fake.calls_of(method)[-1].response["description"])
    assert error.value.message == BadRequest(description).message
    return description


async def send_invoice(bot: Bot, fake: FakeTelegram, **changes: Any) -> FakeMessage:
    await bot.send_invoice(BUYER, **{**STARS, **changes})
    return fake.messages(BUYER)[-1]


async def pay(
    fake: FakeTelegram,
    bot: Bot,
    poller: Poller,
    invoice: FakeMessage,
    *,
    ok: bool = True,
    error_message: str | None = None,
) -> tuple[FakePayment, Update]:
    """The buyer pays while the bot answers the pre-checkout query."""
    paying = asyncio.create_task(fake.pay_invoice(BUYER, invoice))
    update = await poller.checkout()
    assert update.pre_checkout_query is not None
    await bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok, error_message)
    return await paying, update


async def test_a_stars_invoice_is_a_message_with_an_invoice(
    bot: Bot, fake: FakeTelegram, buyer: int
) -> None:
    sent = await bot.send_invoice(buyer, **STARS, provider_token="", start_parameter="ebook")
    assert sent.invoice is not None
    invoice = sent.invoice
    assert (invoice.title, invoice.description, invoice.start_parameter) == (
        "Ebook",
        "A book about strict stand-ins",
        "ebook",
    )
    assert (invoice.currency, invoice.total_amount) == ("XTR", 50)
    [stored] = [m for m in fake.messages(buyer) if m.invoice is not None]
    assert stored.invoice is not None and stored.invoice.pay_text == "Pay \u2b50\ufe0f50"
    assert stored.invoice.payload == "order-1" and stored.invoice.charge_id is None


async def test_the_limits_of_an_invoice_are_the_documented_ones(
    bot: Bot, fake: FakeTelegram, buyer: int
) -> None:
    await send_invoice(bot, fake, title="t" * 32, description="d" * 255, payload="p" * 128)
    assert fake.calls_of("sendInvoice")[-1].status == 200


@pytest.mark.parametrize(
    ("changes", "description"),
    [
        ({"title": ""}, 'Bad Request: Parameter "title" is required'),
        ({"title": "t" * 33}, payments.TITLE_TOO_LONG),
        ({"description": ""}, 'Bad Request: Parameter "description" is required'),
        ({"description": "d" * 256}, payments.DESCRIPTION_TOO_LONG),
        ({"payload": ""}, 'Bad Request: Parameter "payload" is required'),
        ({"payload": "p" * 129}, payments.INVOICE_PAYLOAD_INVALID),
        ({"payload": "\u00e9" * 65}, payments.INVOICE_PAYLOAD_INVALID),  # 130 bytes
        ({"currency": "USD"}, payments.PAYMENT_PROVIDER_INVALID),
        ({"provider_token": "284685063:TEST:abc"}, payments.PAYMENT_PROVIDER_INVALID),
        ({"prices": []}, "Bad Request: There must be at least one price"),
        (
            {"prices": [LabeledPrice("Ebook", 50), LabeledPrice("Tax", 5)]},
            payments.STARS_INVOICE_INVALID,
        ),
        ({"prices": [LabeledPrice("Ebook", 0)]}, payments.TOTAL_NOT_POSITIVE),
        ({"prices": [LabeledPrice("Ebook", -5)]}, payments.TOTAL_NOT_POSITIVE),
        (
            {"prices": [LabeledPrice("Ebook", 1.5)]},  # type: ignore[arg-type]
            'Bad Request: Can\'t parse labeled price: Field "amount" must be a valid Number',
        ),
        (
            {"prices": [LabeledPrice("", 50)]},
            "Bad Request: Can't parse labeled price: LabeledPrice label must be non-empty",
        ),
        ({"max_tip_amount": 10}, payments.STARS_INVOICE_INVALID),
        ({"max_tip_amount": 10, "suggested_tip_amounts": [5]}, payments.STARS_INVOICE_INVALID),
        ({"need_name": True}, payments.STARS_INVOICE_INVALID),
        ({"is_flexible": True}, payments.STARS_INVOICE_INVALID),
        (
            {"reply_markup": keyboard(("Buy", "buy"))},
            BUTTON_TYPE_INVALID,  # a custom keyboard must start with the pay button
        ),
    ],
)
async def test_an_invoice_over_a_limit_is_refused_and_not_sent(
    bot: Bot, fake: FakeTelegram, buyer: int, changes: dict[str, Any], description: str
) -> None:
    call = bot.send_invoice(buyer, **{**STARS, **changes})
    assert await refused(call, fake, "sendInvoice") == description
    assert [m for m in fake.messages(buyer) if m.invoice is not None] == []


async def test_pay_buttons_belong_first_on_invoices_only(
    bot: Bot, fake: FakeTelegram, buyer: int
) -> None:
    pay_first = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Pay 50 stars", pay=True)],
            [InlineKeyboardButton("Cancel", callback_data="cancel")],
        ]
    )
    invoice = await send_invoice(bot, fake, reply_markup=pay_first)
    assert invoice.buttons()[0] == {"text": "Pay 50 stars", "pay": True}
    message = bot.send_message(buyer, "no invoice", reply_markup=pay_first)
    assert await refused(message, fake, "sendMessage") == BUTTON_TYPE_INVALID
    no_pay = bot.edit_message_reply_markup(
        buyer, invoice.message_id, reply_markup=keyboard(("Cancel", "cancel"))
    )
    assert await refused(no_pay, fake, "editMessageReplyMarkup") == BUTTON_TYPE_INVALID
    caption = bot.edit_message_caption(buyer, invoice.message_id, caption="cheaper")
    assert "no caption" in await refused(caption, fake, "editMessageCaption")


async def test_a_paid_invoice_delivers_a_successful_payment_and_a_transaction(
    bot: Bot, fake: FakeTelegram, buyer: int
) -> None:
    poller = Poller(bot)
    invoice = await send_invoice(bot, fake)
    payment, update = await pay(fake, bot, poller, invoice)
    query = update.pre_checkout_query
    assert query is not None
    assert (query.from_user.id, query.currency, query.total_amount) == (buyer, "XTR", 50)
    assert query.invoice_payload == "order-1"
    assert payment.outcome == "paid" and payment.charge_id is not None
    message = await poller.message("successful_payment")
    paid = message.successful_payment
    assert paid is not None and message.from_user is not None
    assert (message.chat.id, message.from_user.id) == (buyer, buyer)
    assert (paid.currency, paid.total_amount, paid.invoice_payload) == ("XTR", 50, "order-1")
    assert paid.telegram_payment_charge_id == payment.charge_id
    assert paid.provider_payment_charge_id
    [transaction] = (await bot.get_star_transactions()).transactions
    assert (transaction.id, transaction.amount) == (payment.charge_id, 50)
    assert transaction.receiver is None
    source = transaction.source
    assert isinstance(source, TransactionPartnerUser)
    assert (source.user.id, source.invoice_payload) == (buyer, "order-1")
    assert source.transaction_type == "invoice_payment"


async def test_an_invoice_is_paid_once(bot: Bot, fake: FakeTelegram, buyer: int) -> None:
    poller = Poller(bot)
    invoice = await send_invoice(bot, fake)
    first, _ = await pay(fake, bot, poller, invoice)
    with pytest.raises(AssertionError, match="paid once"):
        await fake.pay_invoice(buyer, invoice)
    assert [p.outcome for p in fake.payments] == ["paid"]
    assert len((await bot.get_star_transactions()).transactions) == 1
    with pytest.raises(AssertionError, match="cannot see"):
        await fake.pay_invoice(OTHER, await send_invoice(bot, fake))


async def test_a_refused_checkout_shows_the_bots_message_and_takes_nothing(
    bot: Bot, fake: FakeTelegram, buyer: int
) -> None:
    poller = Poller(bot)
    invoice = await send_invoice(bot, fake)
    payment, _ = await pay(fake, bot, poller, invoice, ok=False, error_message="Sold out, sorry")
    assert (payment.outcome, payment.error_message, payment.charge_id) == (
        "refused",
        "Sold out, sorry",
        None,
    )
    assert (await bot.get_star_transactions()).transactions == ()
    again, _ = await pay(fake, bot, poller, invoice)  # a refused invoice may be tried again
    assert again.outcome == "paid"


async def test_refusing_needs_an_error_message(bot: Bot, fake: FakeTelegram, buyer: int) -> None:
    fake.pre_checkout_timeout = 1.0
    poller = Poller(bot)
    paying = asyncio.create_task(fake.pay_invoice(buyer, await send_invoice(bot, fake)))
    update = await poller.checkout()
    assert update.pre_checkout_query is not None
    call = bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=False)
    description = await refused(call, fake, "answerPreCheckoutQuery")
    assert description == 'Bad Request: Parameter "error_message" is required'
    assert (await paying).outcome == "timeout"


async def test_an_unanswered_checkout_times_out_and_a_late_answer_is_refused(
    bot: Bot, fake: FakeTelegram, buyer: int
) -> None:
    fake.pre_checkout_timeout = 0.3
    poller = Poller(bot)
    payment = await fake.pay_invoice(buyer, await send_invoice(bot, fake))
    assert (payment.outcome, payment.charge_id) == ("timeout", None)
    update = await poller.checkout()
    assert update.pre_checkout_query is not None
    late = bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=True)
    assert await refused(late, fake, "answerPreCheckoutQuery") == QUERY_INVALID
    unknown = bot.answer_pre_checkout_query("12345", ok=True)
    assert await refused(unknown, fake, "answerPreCheckoutQuery") == QUERY_INVALID
    assert (await bot.get_star_transactions()).transactions == ()


async def test_a_query_is_answered_once(bot: Bot, fake: FakeTelegram, buyer: int) -> None:
    poller = Poller(bot)
    _, update = await pay(fake, bot, poller, await send_invoice(bot, fake))
    assert update.pre_checkout_query is not None
    again = bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=True)
    assert await refused(again, fake, "answerPreCheckoutQuery") == QUERY_INVALID


async def test_a_bot_not_subscribed_to_checkouts_lets_them_time_out(
    bot: Bot, fake: FakeTelegram, buyer: int
) -> None:
    fake.pre_checkout_timeout = 0.5
    paying = asyncio.create_task(fake.pay_invoice(buyer, await send_invoice(bot, fake)))
    await asyncio.sleep(0.1)
    updates = await bot.get_updates(timeout=0, allowed_updates=["message", "callback_query"])
    assert [u.pre_checkout_query for u in updates] == [None]  # only the buyer's /start
    assert (await paying).outcome == "timeout"
    assert await bot.get_updates(timeout=0, allowed_updates=["pre_checkout_query"]) == ()


async def test_a_refund_is_made_once_and_recorded(bot: Bot, fake: FakeTelegram, buyer: int) -> None:
    poller = Poller(bot)
    payment, _ = await pay(fake, bot, poller, await send_invoice(bot, fake))
    assert payment.charge_id is not None
    assert await bot.refund_star_payment(buyer, payment.charge_id) is True
    notice = await poller.message("refunded_payment")
    refunded = notice.refunded_payment
    assert refunded is not None and notice.from_user is not None
    assert (notice.chat.id, notice.from_user.id) == (buyer, fake.bot_id)
    assert (refunded.total_amount, refunded.invoice_payload) == (50, "order-1")
    assert refunded.telegram_payment_charge_id == payment.charge_id
    [shown] = fake.service_messages  # the buyer sees it in the chat too
    assert shown["message_id"] == notice.message_id
    assert shown["refunded_payment"]["telegram_payment_charge_id"] == payment.charge_id
    twice = bot.refund_star_payment(buyer, payment.charge_id)
    assert await refused(twice, fake, "refundStarPayment") == payments.CHARGE_ALREADY_REFUNDED
    paid, refund = (await bot.get_star_transactions()).transactions
    assert (refund.id, refund.amount, refund.source) == (payment.charge_id, 50, None)
    assert isinstance(refund.receiver, TransactionPartnerUser)
    assert (refund.receiver.user.id, refund.receiver.invoice_payload) == (buyer, "order-1")


async def test_refunding_an_unknown_charge_is_refused(
    bot: Bot, fake: FakeTelegram, buyer: int
) -> None:
    poller = Poller(bot)
    payment, _ = await pay(fake, bot, poller, await send_invoice(bot, fake))
    assert payment.charge_id is not None
    unknown = bot.refund_star_payment(buyer, "stx-no-such-charge")
    assert await refused(unknown, fake, "refundStarPayment") == payments.CHARGE_NOT_FOUND
    not_theirs = bot.refund_star_payment(OTHER, payment.charge_id)
    assert await refused(not_theirs, fake, "refundStarPayment") == payments.CHARGE_NOT_FOUND
    nobody = bot.refund_star_payment(0, payment.charge_id)
    assert await refused(nobody, fake, "refundStarPayment") == (
        "Bad Request: Invalid user_id specified"
    )
    assert len((await bot.get_star_transactions()).transactions) == 1


async def test_star_transactions_page_in_chronological_order(
    bot: Bot, fake: FakeTelegram, buyer: int
) -> None:
    poller = Poller(bot)
    charges = []
    for number in range(3):
        invoice = await send_invoice(bot, fake, payload=f"order-{number}")
        payment, _ = await pay(fake, bot, poller, invoice)
        charges.append(payment.charge_id)

    async def ids(offset: int | None = None, limit: int | None = None) -> list[str]:
        return [t.id for t in (await bot.get_star_transactions(offset, limit)).transactions]

    assert await ids() == charges
    assert await ids(offset=1, limit=1) == charges[1:2]
    assert await ids(offset=2, limit=100) == charges[2:]
    assert await ids(offset=3) == []
    assert await ids(limit=0) == charges[:1]  # clamped to 1..100 like the Bot API server does
    assert await ids(offset=-5, limit=500) == charges


async def test_a_webhook_bot_gets_the_payment_updates_through_deliver(
    bot: Bot, fake: FakeTelegram, buyer: int
) -> None:
    delivered: list[dict[str, Any]] = []

    async def webhook(update: dict[str, Any]) -> None:
        delivered.append(update)
        if "pre_checkout_query" in update:
            await bot.answer_pre_checkout_query(update["pre_checkout_query"]["id"], ok=True)

    payment = await fake.pay_invoice(buyer, await send_invoice(bot, fake), deliver=webhook)
    assert payment.outcome == "paid"
    assert [next(k for k in u if k != "update_id") for u in delivered] == [
        "pre_checkout_query",
        "message",
    ]
    assert delivered[1]["message"]["successful_payment"]["telegram_payment_charge_id"] == (
        payment.charge_id
    )
    assert [u.message and u.message.text for u in await bot.get_updates(timeout=0)] == ["/start"]
