"""Admin: a paid physical order's way to the buyer — to ship → shipped (with tracking) →
delivered — through /ship, the order detail's buttons and a small tracking question.

The moves and the buyer's notices are shop/shipping.py's; this module asks and answers.

Callback layout (ids only, ≤ 64 bytes; `admin_orders._data` builds them):
    ao:sh:<order>     mark shipped: asks for a tracking number (also /ship's list buttons)
    ao:tr:<order>     add or correct the tracking number of a shipped order
    ao:nt:<order>     mark shipped without tracking
    ao:sx:<order>     stop asking for the tracking number
    ao:dv:<order>     mark delivered
Ids are matched as ASCII digits, [0-9]: a regex digit class lets other scripts' digits in.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from html import escape
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import texts
from bot.admin_auth import admin_filter, admin_only
from bot.admin_orders import PAGE_SIZE, data, edit_query, order_command_args, status_label, when
from bot.context import shop_of
from shop import shipping
from shop.context import Shop
from shop.ids import ID_PATTERN
from shop.shipping import ShipRefusal, ship_refusal
from storage import orders
from storage.models import Order, ShippingStage

log = logging.getLogger(__name__)

MAX_TRACKING = 100
TRACKING_TIMEOUT_SECONDS = 600
_USER_DATA_SHIP = "admin_ship"  # user_data key of the open ShipQuestion
_USAGE = (
    "Usage: <code>/ship &lt;order&gt; [tracking number]</code>, e.g. "
    "<code>/ship 12 1Z999AA10123456784</code>; the same on a shipped order adds or corrects "
    "its tracking number. <code>/ship</code> alone lists the orders to ship."
)


def tracking_problem(tracking: str) -> str | None:
    if not tracking:
        return "Please send the tracking number as text."
    if texts.utf16_len(tracking) > MAX_TRACKING or "\n" in tracking:
        return f"A tracking number is one line of at most {MAX_TRACKING} characters."
    return None


def _refusal_text(
    refusal: ShipRefusal | None, order: Order | None, order_id: int, tracking: str | None
) -> str | None:
    """Why `/ship order_id [tracking]` cannot go ahead, as plain text; None when it can."""
    if refusal is None:
        return None
    if order is None or refusal is ShipRefusal.NO_ORDER:
        return f"There is no order #{order_id}."
    if refusal is ShipRefusal.NOT_PHYSICAL:
        return f"Order #{order.id} is not a physical product: there is nothing to ship."
    if refusal is ShipRefusal.NOT_PAID:
        return f"Order #{order.id} is {status_label(order)}; only paid orders ship."
    if refusal is ShipRefusal.DELIVERED:
        return f"Order #{order.id} was already marked delivered on {when(order.delivered_at)}."
    if refusal is ShipRefusal.ALREADY_SHIPPED:
        now_tracking = f" (tracking {order.tracking})" if order.tracking else ""
        return (
            f"Order #{order.id} was already marked shipped on {when(order.shipped_at)}"
            f"{now_tracking}. To add or correct its tracking number: /ship {order.id} <tracking>"
        )
    if refusal is ShipRefusal.SAME_TRACKING:
        return f"Order #{order.id} already has tracking {tracking}."
    return f"Order #{order.id} changed meanwhile; open it again in /orders."


async def ship(shop: Shop, order_id: int, tracking: str | None) -> str:
    """shop/shipping.ship, answered to the admin (HTML)."""
    outcome = await shipping.ship(shop.db, shop.wake_outbox, order_id, tracking)
    refusal = _refusal_text(outcome.refusal, outcome.order, order_id, tracking)
    if refusal is not None or outcome.order is None:
        return escape(refusal or "")
    order = outcome.order
    with_tracking = f" with tracking <code>{escape(tracking)}</code>" if tracking else ""
    if outcome.first:
        return f"🚚 Order #{order.id} marked shipped{with_tracking}. The buyer is being told."
    new = escape(tracking or "")
    return f"🚚 Order #{order.id} now has tracking <code>{new}</code>. The buyer is being told."


async def mark_delivered(shop: Shop, order_id: int) -> str:
    """shop/shipping.mark_delivered, answered to the admin."""
    if not await shipping.mark_delivered(shop.db, order_id):
        return f"Order #{order_id} can't be marked delivered: only a shipped order can."
    return f"📬 Order #{order_id} marked delivered."


# --- /ship ---------------------------------------------------------------------------------


async def _to_ship_page(shop: Shop) -> tuple[str, InlineKeyboardMarkup | None]:
    """The orders waiting to be shipped, newest first, each a Mark shipped button."""
    total = await orders.count_to_ship(shop.db.reader)
    if total == 0:
        return "🚚 Nothing to ship right now.", None
    items = await orders.to_ship(shop.db.reader, offset=0, limit=PAGE_SIZE)
    more = f"\n…and {total - len(items)} more in /orders → To ship." if total > len(items) else ""
    rows = [
        [
            InlineKeyboardButton(
                f"🚚 #{o.id} · {texts.clip(o.product_title, 24)} · {texts.clip(o.buyer_name, 16)}",
                callback_data=data("sh", o.id),
            )
        ]
        for o in items
    ]
    head = f"🚚 <b>To ship</b> ({total}) — tap an order to mark it shipped.{more}"
    return head, InlineKeyboardMarkup(rows)


async def ship_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ship alone: the orders to ship, as buttons. /ship <order> [tracking]: the order is
    marked shipped (or its tracking number changed) and the buyer told, or the admin learns
    why not (no such order, not physical, not paid, already shipped or delivered)."""
    message = update.effective_message
    assert message is not None
    if not context.args:
        text, markup = await _to_ship_page(shop_of(context))
        await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
        return
    parsed = await order_command_args(message, context.args, _USAGE)
    if parsed is None:
        return
    order_id, tracking = parsed
    problem = tracking_problem(tracking) if tracking is not None else None
    if problem:
        await message.reply_text(problem)
        return
    answer = await ship(shop_of(context), order_id, tracking)
    await message.reply_text(answer, parse_mode=ParseMode.HTML)


async def on_delivered_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Mark delivered on a shipped order's detail: the detail's buttons give way to the
    outcome, so the mark cannot be tapped twice."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    answer = await mark_delivered(shop_of(context), int(query.data.split(":")[2]))
    await edit_query(query, answer, None)


# --- the tracking question (a small conversation) ------------------------------------------

TRACKING = 1


@dataclass
class ShipQuestion:
    """The order whose tracking number the admin was asked for, and the question's message."""

    order_id: int
    prompt_id: int | None = None


async def ask_tracking(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Mark shipped (or Tracking number on a shipped order): the admin is asked for it, with
    No tracking (first marking only) and Cancel."""
    query = update.callback_query
    assert query is not None and query.data is not None
    order_id = int(query.data.split(":")[2])
    order = await orders.get(shop_of(context).db.reader, order_id)
    correcting = query.data.startswith("ao:tr:")
    tracking = "" if correcting else None
    refusal = _refusal_text(ship_refusal(order, tracking), order, order_id, tracking)
    if refusal is not None or order is None or not isinstance(query.message, Message):
        await query.answer(
            texts.clip(refusal or texts.admin_button_expired(), 200), show_alert=True
        )
        return ConversationHandler.END
    await query.answer()
    _user_data(context)[_USER_DATA_SHIP] = ShipQuestion(order.id)
    # Asked only once PTB has stored the new state (it does so before this task runs), so
    # even an instant answer reaches the conversation.
    context.application.create_task(
        _ask_for_tracking(context, query.message, order), update=update, name="tracking question"
    )
    return TRACKING


async def _ask_for_tracking(
    context: ContextTypes.DEFAULT_TYPE, message: Message, order: Order
) -> None:
    address = escape(texts.clip(order.shipping_address or "no address collected", 600))
    cancel = InlineKeyboardButton("Cancel", callback_data=data("sx", order.id))
    if order.shipping_stage is ShippingStage.SHIPPED:
        now_tracking = escape(order.tracking) if order.tracking else "none"
        text = (
            f"🚚 <b>Tracking for order #{order.id}</b> (now: {now_tracking})\n\n"
            "Send the new tracking number; the buyer is told."
        )
        buttons = [cancel]
    else:
        text = (
            f"🚚 <b>Shipping order #{order.id}</b> to:\n{address}\n\n"
            "Send the tracking number, or tap <b>No tracking</b>."
        )
        buttons = [InlineKeyboardButton("No tracking", callback_data=data("nt", order.id)), cancel]
    prompt = await message.reply_text(
        text, parse_mode=ParseMode.HTML, reply_markup=InlineKeyboardMarkup([buttons])
    )
    question = _user_data(context).get(_USER_DATA_SHIP)
    if isinstance(question, ShipQuestion) and question.order_id == order.id:
        question.prompt_id = prompt.message_id


async def receive_tracking(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """The admin's next text is the tracking number: the order is marked shipped with it
    (or its tracking number is changed)."""
    message = update.effective_message
    assert message is not None and message.text is not None
    tracking = message.text.strip()
    problem = tracking_problem(tracking)
    if problem:
        await message.reply_text(problem + " Or tap Cancel.")
        return TRACKING
    question = _user_data(context).pop(_USER_DATA_SHIP, None)
    if not isinstance(question, ShipQuestion):
        return ConversationHandler.END
    answer = await ship(shop_of(context), question.order_id, tracking)
    await _drop_buttons(context, message.chat_id, question.prompt_id)
    await message.reply_text(answer, parse_mode=ParseMode.HTML)
    return ConversationHandler.END


async def no_tracking(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """No tracking: the order is marked shipped without one; the prompt says so."""
    query = update.callback_query
    assert query is not None and query.data is not None
    order_id = int(query.data.split(":")[2])
    await query.answer()
    await edit_query(query, await ship(shop_of(context), order_id, None), None)
    return _close_question(context, order_id)


async def cancel_tracking(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Cancel (button or /cancel): nothing changes."""
    query = update.callback_query
    if query is not None and query.data is not None:
        await query.answer()
        await edit_query(query, "Not marked shipped.", None)
        return _close_question(context, int(query.data.split(":")[2]))
    question = _user_data(context).pop(_USER_DATA_SHIP, None)
    if update.effective_message is not None:
        if isinstance(question, ShipQuestion):
            await _drop_buttons(context, update.effective_message.chat_id, question.prompt_id)
        await update.effective_message.reply_text("Not marked shipped.")
    return ConversationHandler.END


async def on_old_prompt(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """No tracking / Cancel on a prompt whose question is over (outside the conversation)."""
    query = update.callback_query
    assert query is not None and query.data is not None
    if query.data.startswith("ao:nt:"):
        await no_tracking(update, context)
        return
    await query.answer()
    await edit_query(query, "Not marked shipped.", None)


def _close_question(context: ContextTypes.DEFAULT_TYPE, order_id: int) -> int:
    """End the question if the tapped prompt was the open one; a button on an older prompt
    (another order) leaves the open question waiting for its tracking number."""
    question = _user_data(context).get(_USER_DATA_SHIP)
    if isinstance(question, ShipQuestion) and question.order_id != order_id:
        return TRACKING
    _user_data(context).pop(_USER_DATA_SHIP, None)
    return ConversationHandler.END


def _user_data(context: ContextTypes.DEFAULT_TYPE) -> dict[Any, Any]:
    user_data = context.user_data
    assert user_data is not None
    return user_data


async def _drop_buttons(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, message_id: int | None
) -> None:
    if message_id is None:
        return
    try:
        await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
    except BadRequest as error:
        log.info("could not remove the tracking prompt's buttons: %s", error.message)


def _tracking_conversation(admin_ids: frozenset[int]) -> ConversationHandler[Any]:
    """Mark shipped / Tracking number → the tracking number (or No tracking / Cancel /
    /cancel).

    Kept per chat and user rather than per message on purpose: the answer is a text message,
    which has no message of its own to attach to, so PTB's per_message hint does not apply.
    A forgotten question lapses after ten minutes instead of swallowing later text."""
    admins = admin_filter(admin_ids)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                CallbackQueryHandler(
                    admin_only(ask_tracking), pattern=rf"^ao:(sh|tr):{ID_PATTERN}$"
                )
            ],
            states={
                TRACKING: [
                    MessageHandler(
                        admins & filters.TEXT & ~filters.COMMAND, admin_only(receive_tracking)
                    ),
                    CallbackQueryHandler(admin_only(no_tracking), pattern=rf"^ao:nt:{ID_PATTERN}$"),
                    CallbackQueryHandler(
                        admin_only(cancel_tracking), pattern=rf"^ao:sx:{ID_PATTERN}$"
                    ),
                ]
            },
            fallbacks=[CommandHandler("cancel", admin_only(cancel_tracking), filters=admins)],
            allow_reentry=True,
            conversation_timeout=TRACKING_TIMEOUT_SECONDS,
            name="admin_tracking",
        )


def handlers(admin_ids: frozenset[int]) -> list[BaseHandler[Update, Any, Any]]:
    """Register before the `ao:` button handler of bot/admin_orders.py (see bot/admin.py)."""
    admins = admin_filter(admin_ids)
    return [
        _tracking_conversation(admin_ids),
        CommandHandler("ship", admin_only(ship_command), filters=admins),
        CallbackQueryHandler(admin_only(on_delivered_button), pattern=rf"^ao:dv:{ID_PATTERN}$"),
        CallbackQueryHandler(admin_only(on_old_prompt), pattern=rf"^ao:(nt|sx):{ID_PATTERN}$"),
    ]
