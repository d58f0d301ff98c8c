"""Admin: a paid physical order's way to the buyer — to ship → shipped (with tracking) →
delivered — through /ship, the order detail's buttons and a small tracking question.

The moves and the buyer's notices are shop/shipping.py's; this module asks and answers.

Buttons (`bot.callbacks`' `sh:` ones) carry order ids only; the tracking question is a small
conversation wired in bot/admin/routes.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.ext import ConversationHandler

from bot import callbacks as cb
from bot.admin.order_texts import when
from bot.admin.orders import PAGE_SIZE, order_command_args
from bot.callbacks import Button
from bot.context import ShopContext
from bot.shared import show_page, take_buttons_off, tapped
from bot.texts import admin_button_expired, clip, order_state, utf16_len, what_was_bought
from shop import shipping
from shop.context import Shop
from shop.i18n import Lang
from shop.shipping import ShipRefusal, ship_refusal
from storage import orders
from storage.models import Order, ShippingStage

MAX_TRACKING = 100
TRACKING_TIMEOUT_SECONDS = 600
_USER_DATA_SHIP = "admin_ship"  # user_data key of the open ShipQuestion


def usage(lang: Lang) -> str:
    return lang.t(
        "Usage: <code>/ship &lt;order&gt; [tracking number]</code>, e.g. "
        "<code>/ship 12 1Z999AA10123456784</code>; the same on a shipped order adds or corrects "
        "its tracking number. <code>/ship</code> alone lists the orders to ship."
    )


def tracking_problem(lang: Lang, tracking: str) -> str | None:
    if not tracking:
        return lang.t("Please send the tracking number as text.")
    if utf16_len(tracking) > MAX_TRACKING or "\n" in tracking:
        return lang.t(
            "A tracking number is one line of at most {most} characters.", most=MAX_TRACKING
        )
    return None


def _refusal_text(
    lang: Lang,
    refusal: ShipRefusal | None,
    order: Order | None,
    order_id: int,
    tracking: str | None,
) -> str | None:
    """Why `/ship order_id [tracking]` cannot go ahead, as plain text; None when it can."""
    if refusal is None:
        return None
    if order is None or refusal is ShipRefusal.NO_ORDER:
        return lang.t("There is no order #{order}.", order=order_id)
    if refusal is ShipRefusal.NOT_PHYSICAL:
        return lang.t(
            "Order #{order} is not a physical product: there is nothing to ship.", order=order.id
        )
    if refusal is ShipRefusal.NOT_PAID:
        return lang.t(
            "Order #{order} is {state}; only paid orders ship.",
            order=order.id,
            state=order_state(lang, order),
        )
    if refusal is ShipRefusal.DELIVERED:
        return lang.t(
            "Order #{order} was already marked delivered on {when}.",
            order=order.id,
            when=when(lang, order.delivered_at),
        )
    if refusal is ShipRefusal.ALREADY_SHIPPED:
        return _already_shipped(lang, order)
    if refusal is ShipRefusal.SAME_TRACKING:
        return lang.t(
            "Order #{order} already has tracking {number}.", order=order.id, number=tracking
        )
    return lang.t("Order #{order} changed meanwhile; open it again in /orders.", order=order.id)


def _already_shipped(lang: Lang, order: Order) -> str:
    if order.tracking:
        return lang.t(
            "Order #{order} was already marked shipped on {when} (tracking {number}). To add or "
            "correct its tracking number: /ship {order} <tracking>",
            order=order.id,
            when=when(lang, order.shipped_at),
            number=order.tracking,
        )
    return lang.t(
        "Order #{order} was already marked shipped on {when}. To add or correct its tracking "
        "number: /ship {order} <tracking>",
        order=order.id,
        when=when(lang, order.shipped_at),
    )


async def ship(lang: Lang, shop: Shop, order_id: int, tracking: str | None) -> str:
    """shop/shipping.ship, answered to the admin (HTML)."""
    outcome = await shipping.ship(shop.db, shop.wake_outbox, order_id, tracking)
    refusal = _refusal_text(lang, outcome.refusal, outcome.order, order_id, tracking)
    if refusal is not None or outcome.order is None:
        return escape(refusal or "")
    order = outcome.order
    if not outcome.first:
        return lang.t(
            "🚚 Order #{order} now has tracking <code>{number}</code>. The buyer is being told.",
            order=order.id,
            number=escape(tracking or ""),
        )
    if tracking:
        return lang.t(
            "🚚 Order #{order} marked shipped with tracking <code>{number}</code>. The buyer is "
            "being told.",
            order=order.id,
            number=escape(tracking),
        )
    return lang.t("🚚 Order #{order} marked shipped. The buyer is being told.", order=order.id)


async def mark_delivered(lang: Lang, shop: Shop, order_id: int) -> str:
    """shop/shipping.mark_delivered, answered to the admin."""
    if not await shipping.mark_delivered(shop.db, order_id):
        return lang.t(
            "Order #{order} can't be marked delivered: only a shipped order can.", order=order_id
        )
    return lang.t("📬 Order #{order} marked delivered.", order=order_id)


# --- /ship ---------------------------------------------------------------------------------


async def _to_ship_page(lang: Lang, shop: Shop) -> tuple[str, InlineKeyboardMarkup | None]:
    """The orders waiting to be shipped, newest first, each a Mark shipped button."""
    total = await orders.count_to_ship(shop.db.reader)
    if total == 0:
        return lang.t("🚚 Nothing to ship right now."), None
    items = await orders.to_ship(shop.db.reader, offset=0, limit=PAGE_SIZE)
    rows = [
        [
            InlineKeyboardButton(
                f"🚚 #{o.id} · {what_was_bought(lang, o, 24)} · {clip(o.buyer_name, 16)}",
                callback_data=cb.SHIP.encode(o.id),
            )
        ]
        for o in items
    ]
    head = lang.nt(
        "🚚 <b>To ship</b> ({n}) — tap an order to mark it shipped.",
        "🚚 <b>To ship</b> ({n}) — tap an order to mark it shipped.",
        total,
    )
    if total > len(items):
        more = total - len(items)
        head += "\n" + lang.nt(
            "…and {n} more in /orders → To ship.", "…and {n} more in /orders → To ship.", more
        )
    return head, InlineKeyboardMarkup(rows)


async def ship_command(update: Update, context: ShopContext) -> None:
    """/ship alone: the orders to ship, as buttons. /ship <order> [tracking]: the order is
    marked shipped (or its tracking number changed) and the buyer told, or the admin learns
    why not (no such order, not physical, not paid, already shipped or delivered)."""
    message, lang = update.effective_message, context.lang
    assert message is not None
    if not context.args:
        text, markup = await _to_ship_page(lang, context.shop)
        await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
        return
    parsed = await order_command_args(message, context.args, usage(lang))
    if parsed is None:
        return
    order_id, tracking = parsed
    problem = tracking_problem(lang, tracking) if tracking is not None else None
    if problem:
        await message.reply_text(problem)
        return
    answer = await ship(lang, context.shop, order_id, tracking)
    await message.reply_text(answer, parse_mode=ParseMode.HTML)


async def delivered(update: Update, context: ShopContext) -> None:
    """Mark delivered on a shipped order's detail: the detail's buttons give way to the
    outcome, so the mark cannot be tapped twice."""
    if (tap := await tapped(update, cb.SHIP_DELIVERED)) is None:
        return
    query, data = tap
    await query.answer()
    await show_page(query, await mark_delivered(context.lang, context.shop, data.id(0)), None)


# --- the tracking question (a small conversation) ------------------------------------------

TRACKING = 1


@dataclass
class ShipQuestion:
    """The order whose tracking number the admin was asked for, and the question's message."""

    order_id: int
    prompt_id: int | None = None


async def ask_to_ship(update: Update, context: ShopContext) -> int | None:
    """Mark shipped: the admin is asked for the tracking number, with No tracking and Cancel."""
    return await _ask(update, context, cb.SHIP, correcting=False)


async def ask_new_tracking(update: Update, context: ShopContext) -> int | None:
    """Add / Correct tracking on a shipped order: the admin is asked for the new number."""
    return await _ask(update, context, cb.SHIP_TRACKING, correcting=True)


async def _ask(
    update: Update, context: ShopContext, button: Button, *, correcting: bool
) -> int | None:
    """Ask for the order's tracking number; a refusal (None) leaves any open question as it is."""
    if (tap := await tapped(update, button)) is None:
        return None
    query, data = tap
    order_id, lang = data.id(0), context.lang
    order = await orders.get(context.shop.db.reader, order_id)
    tracking = "" if correcting else None
    refusal = _refusal_text(lang, ship_refusal(order, tracking), order, order_id, tracking)
    if refusal is not None or order is None or not isinstance(query.message, Message):
        await query.answer(clip(refusal or admin_button_expired(lang), 200), show_alert=True)
        return None
    await query.answer()
    _user_data(context)[_USER_DATA_SHIP] = ShipQuestion(order.id)
    # Asked only once PTB has stored the new state (it does so before this task runs), so
    # even an instant answer reaches the conversation.
    context.application.create_task(
        _ask_for_tracking(context, query.message, order), update=update, name="tracking question"
    )
    return TRACKING


async def _ask_for_tracking(context: ShopContext, message: Message, order: Order) -> None:
    lang = context.lang
    cancel = InlineKeyboardButton(lang.t("Cancel"), callback_data=cb.SHIP_CANCEL.encode(order.id))
    if order.shipping_stage is ShippingStage.SHIPPED:
        now_tracking = escape(order.tracking) if order.tracking else lang.t("none")
        text = lang.t(
            "🚚 <b>Tracking for order #{order}</b> (now: {number})\n\n"
            "Send the new tracking number; the buyer is told.",
            order=order.id,
            number=now_tracking,
        )
        buttons = [cancel]
    else:
        address = escape(clip(order.shipping_address or "", 600)) or lang.t("no address collected")
        text = lang.t(
            "🚚 <b>Shipping order #{order}</b> to:\n{address}\n\n"
            "Send the tracking number, or tap <b>No tracking</b>.",
            order=order.id,
            address=address,
        )
        no_tracking = cb.SHIP_NO_TRACKING.encode(order.id)
        buttons = [InlineKeyboardButton(lang.t("No tracking"), callback_data=no_tracking), cancel]
    prompt = await message.reply_text(
        text, parse_mode=ParseMode.HTML, reply_markup=InlineKeyboardMarkup([buttons])
    )
    question = _user_data(context).get(_USER_DATA_SHIP)
    if isinstance(question, ShipQuestion) and question.order_id == order.id:
        question.prompt_id = prompt.message_id


async def receive_tracking(update: Update, context: ShopContext) -> int:
    """The admin's next text is the tracking number: the order is marked shipped with it
    (or its tracking number is changed)."""
    message = update.effective_message
    assert message is not None and message.text is not None
    tracking, lang = message.text.strip(), context.lang
    problem = tracking_problem(lang, tracking)
    if problem:
        await message.reply_text(lang.t("{problem} Or tap Cancel.", problem=problem))
        return TRACKING
    question = _user_data(context).pop(_USER_DATA_SHIP, None)
    if not isinstance(question, ShipQuestion):
        return ConversationHandler.END
    answer = await ship(lang, context.shop, question.order_id, tracking)
    await take_buttons_off(context, message.chat_id, question.prompt_id)
    await message.reply_text(answer, parse_mode=ParseMode.HTML)
    return ConversationHandler.END


async def no_tracking(update: Update, context: ShopContext) -> int:
    """No tracking (on the open question's prompt or an older one): the order is marked
    shipped without one; the prompt says so."""
    if (tap := await tapped(update, cb.SHIP_NO_TRACKING)) is None:
        return ConversationHandler.END
    query, data = tap
    await query.answer()
    await show_page(query, await ship(context.lang, context.shop, data.id(0), None), None)
    return _close_question(context, data.id(0))


async def cancel_button(update: Update, context: ShopContext) -> int:
    """Cancel on a tracking prompt: nothing changes."""
    if (tap := await tapped(update, cb.SHIP_CANCEL)) is None:
        return ConversationHandler.END
    query, data = tap
    await query.answer()
    await show_page(query, context.lang.t("Not marked shipped."), None)
    return _close_question(context, data.id(0))


async def cancel_command(update: Update, context: ShopContext) -> int:
    """/cancel while the tracking number is asked for: nothing changes."""
    question = _user_data(context).pop(_USER_DATA_SHIP, None)
    if update.effective_message is not None:
        if isinstance(question, ShipQuestion):
            await take_buttons_off(context, update.effective_message.chat_id, question.prompt_id)
        await update.effective_message.reply_text(context.lang.t("Not marked shipped."))
    return ConversationHandler.END


async def question_lapsed(update: Update, context: ShopContext) -> None:
    """No answer for TRACKING_TIMEOUT_SECONDS: the question is forgotten, so a later tap on
    its prompt cannot bring it back."""
    _user_data(context).pop(_USER_DATA_SHIP, None)


def _close_question(context: ShopContext, order_id: int) -> int:
    """End the question if the tapped prompt was the open one; a button on an older prompt
    (another order) leaves the open question waiting for its tracking number. Outside the
    conversation there is no open question, so this ends nothing that was not there."""
    question = _user_data(context).get(_USER_DATA_SHIP)
    if isinstance(question, ShipQuestion) and question.order_id != order_id:
        return TRACKING
    _user_data(context).pop(_USER_DATA_SHIP, None)
    return ConversationHandler.END


def _user_data(context: ShopContext) -> dict[Any, Any]:
    user_data = context.user_data
    assert user_data is not None
    return user_data
