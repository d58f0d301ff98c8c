"""/paysupport, which Telegram's terms ask of every bot that takes payments: how to get help
with a payment (the merchant's terms, their contact, the buyer's recent orders), then the
buyer's question passed on to the admins.

A small conversation per buyer: /paysupport (or Ask about this order on one of its orders)
opens the question, and the buyer's next message is sent to every admin with the order and the
buyer's id, so an admin can answer them. /cancel or any other command closes it, and a
forgotten question lapses after QUESTION_TIMEOUT_SECONDS rather than catching a message
written much later. Questions
count against the same per-buyer relay limit as plain messages (`support.may_relay`).

Admins answer the buyer in Telegram directly (the message names the buyer's id and links to
their chat); there is no reply-through-the-bot flow. The buyer reads their language, each admin
the question in theirs.
"""

from __future__ import annotations

import warnings
from collections.abc import Coroutine
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import callbacks as cb
from bot.buyer import support_texts, texts
from bot.buyer.support import may_relay, send_to_admins
from bot.context import ShopContext
from bot.shared import tapped
from shop.i18n import Lang
from storage import orders
from storage.models import Order

ASKING = "asking"
END = ConversationHandler.END
QUESTION_TIMEOUT_SECONDS: float = 600  # read when the routes are built
RECENT_ORDERS = 5
_ABOUT = "paysupport_order"  # user_data: id of the order the open question is about
_MESSAGE = filters.ChatType.PRIVATE & ~filters.COMMAND & ~filters.StatusUpdate.ALL


def conversation() -> ConversationHandler[ShopContext]:
    """The question, per buyer and chat. Kept per chat rather than per message on purpose: the
    answer is a typed message, which has no message of its own to attach to."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                CommandHandler("paysupport", paysupport_command),
                CallbackQueryHandler(ask_about_order, pattern=cb.SUPPORT_ASK.pattern),
            ],
            states={
                ASKING: [
                    MessageHandler(_MESSAGE, question),
                    CommandHandler("cancel", cancel),
                    MessageHandler(filters.COMMAND, other_command),
                ],
                ConversationHandler.TIMEOUT: [TypeHandler(Update, lapsed)],
            },
            fallbacks=[],  # ASKING answers every command itself, /cancel first
            allow_reentry=True,
            conversation_timeout=QUESTION_TIMEOUT_SECONDS,
            name="buyer_paysupport",
        )


async def paysupport_command(update: Update, context: ShopContext) -> object:
    """/paysupport: the terms, the contact, the last RECENT_ORDERS orders each with Ask about
    this order, and the question open for the buyer's next message."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and context.user_data is not None
    recent = await orders.for_buyer(context.shop.db.reader, user.id, offset=0, limit=RECENT_ORDERS)
    context.user_data.pop(_ABOUT, None)
    settings, lang = context.shop.settings, context.lang
    text = support_texts.pay_support(
        lang, settings.paysupport_text, settings.support_contact, recent
    )
    markup = _ask_buttons(lang, recent)
    reply = message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    return _then(context, update, reply, ASKING)


async def ask_about_order(update: Update, context: ShopContext) -> object:
    """Ask about this order: the question opens (again) with that order attached."""
    if (tap := await tapped(update, cb.SUPPORT_ASK)) is None:
        return None
    query, data = tap
    order = await _own_order(context, query.from_user.id, data.id(0))
    if order is None:
        await query.answer(support_texts.order_unknown(context.lang), show_alert=True)
        return None
    assert context.user_data is not None and query.message is not None
    context.user_data[_ABOUT] = order.id
    await query.answer()
    reply = query.get_bot().send_message(
        query.message.chat.id,
        support_texts.ask_about(context.lang, order),
        parse_mode=ParseMode.HTML,
    )
    return _then(context, update, reply, ASKING)


async def question(update: Update, context: ShopContext) -> object:
    """The buyer's question: to every admin with the order and who asks, within the relay
    limit; the buyer hears that it went (or why not, and the question stays open)."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and context.user_data is not None
    said, lang = message.text or message.caption, context.lang
    if not said:
        await message.reply_text(support_texts.text_please(lang))
        return None
    if not await may_relay(update, context):
        await message.reply_text(texts.plain_message_answer(lang, None, relayed=False))
        return None
    order_id = context.user_data.get(_ABOUT)
    order = await _own_order(context, user.id, order_id) if isinstance(order_id, int) else None

    def asked(admin_lang: Lang) -> str:
        return support_texts.support_question(
            admin_lang, user.full_name, user.id, user.username, order, said
        )

    if not await send_to_admins(context, asked):
        await message.reply_text(support_texts.not_sent(lang))
        return None
    context.user_data.pop(_ABOUT, None)
    sent = message.reply_text(support_texts.question_sent(lang, order))
    return _then(context, update, sent, END)


async def cancel(update: Update, context: ShopContext) -> object:
    """/cancel while the question is open: nothing is sent."""
    assert update.effective_message is not None and context.user_data is not None
    context.user_data.pop(_ABOUT, None)
    reply = update.effective_message.reply_text(support_texts.question_cancelled(context.lang))
    return _then(context, update, reply, END)


async def other_command(update: Update, context: ShopContext) -> object:
    """Another command while the question is open (/orders, /catalog…): the buyer moved on,
    so the question closes, and the command is queued again to reach its own handler once the
    closed state is stored; a message written later is then no longer taken as the question."""
    if context.user_data is not None:
        context.user_data.pop(_ABOUT, None)
    return _then(context, update, context.application.update_queue.put(update), END)


async def lapsed(update: Update, context: ShopContext) -> None:
    """No question for QUESTION_TIMEOUT_SECONDS: closed quietly, so a message written much
    later is answered as any plain message is."""
    if context.user_data is not None:
        context.user_data.pop(_ABOUT, None)


async def _own_order(context: ShopContext, buyer: int, order_id: int) -> Order | None:
    """The order when it is this buyer's (a forged button names someone else's)."""
    order = await orders.get(context.shop.db.reader, order_id)
    return order if order is not None and order.buyer_user_id == buyer else None


def _ask_buttons(lang: Lang, recent: list[Order]) -> InlineKeyboardMarkup | None:
    rows = [
        [
            InlineKeyboardButton(
                support_texts.ask_button(lang, order),
                callback_data=cb.SUPPORT_ASK.encode(order.id),
            )
        ]
        for order in recent
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def _then(
    context: ShopContext, update: Update, reply: Coroutine[Any, Any, object], state: object
) -> object:
    """Move to `state`, then send `reply`: updates are handled concurrently, and a buyer who
    writes quickly must not reach the old state (as in bot/admin/dialog.py's `advance`)."""
    context.application.create_task(reply, update=update, name="paysupport reply")
    return state
