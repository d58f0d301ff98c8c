"""Admin: `/refund <order> [amount]` and the order detail's Refund button, with a confirmation.

Money leaves the merchant's account here, so a refund needs two steps and must never happen
twice: the amount is kept server-side, in the database, under a random token (the button
carries only the token); the first tap takes the row away in the statement that reads it, so
of two taps — on one instance or on two — only one finds it; and the token is the Stripe
idempotency key. A double tap or a forged button therefore refunds nothing more; a tap after a
restart (or on another instance) finds the confirmation as it was shown, for 15 minutes. A
Telegram Stars order is refunded whole (shop/refunds.py says so when an amount is named);
Telegram refuses a second refund of a charge, which books it once.

Buttons: `bot.callbacks`' REFUND (an order's detail → a confirmation for everything left),
REFUND_YES and REFUND_NO (the confirmation's, carrying its token).
"""

from __future__ import annotations

import logging
import secrets
from html import escape

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot import callbacks as cb
from bot.admin.order_texts import buyer_name, money
from bot.admin.orders import order_command_args
from bot.context import ShopContext
from bot.shared import tapped
from bot.texts import clip, line_list, status_label
from shop.context import Shop
from shop.i18n import N_, Lang
from shop.money import MoneyError
from shop.refunds import RefundRefused, refund_order, whole_order_only
from shop.said import worded
from shop.typed_money import parse_amount
from storage import orders
from storage import refunds as held
from storage.models import Order, OrderStatus, Rail

log = logging.getLogger(__name__)

CONFIRMATION_TTL_SECONDS = 15 * 60

# What the confirmation gives back, by (paid in Stars?, how much of it).
_GIVES_BACK = {
    (False, "whole"): N_(
        "This gives <b>{amount}</b> back to the buyer's card through Stripe (the whole "
        "payment). It cannot be undone."
    ),
    (False, "rest"): N_(
        "This gives <b>{amount}</b> back to the buyer's card through Stripe (everything "
        "left). It cannot be undone."
    ),
    (False, "part"): N_(
        "This gives <b>{amount}</b> back to the buyer's card through Stripe (part of the "
        "payment). It cannot be undone."
    ),
    (True, "whole"): N_(
        "This gives <b>{amount}</b> back to the buyer's Telegram Stars balance through "
        "Telegram (the whole payment). It cannot be undone."
    ),
    (True, "rest"): N_(
        "This gives <b>{amount}</b> back to the buyer's Telegram Stars balance through "
        "Telegram (everything left). It cannot be undone."
    ),
    (True, "part"): N_(
        "This gives <b>{amount}</b> back to the buyer's Telegram Stars balance through "
        "Telegram (part of the payment). It cannot be undone."
    ),
}


def _refusal(lang: Lang, order: Order | None, order_id: int) -> str | None:
    if order is None:
        return lang.t("There is no order #{order}.", order=order_id)
    if order.refundable_amount <= 0:
        return lang.t(
            "Order #{order} is {state}; only paid orders refund.",
            order=order.id,
            state=status_label(lang, order.status),
        )
    return None


def confirmation_text(lang: Lang, order: Order, amount: int) -> str:
    charged = order.amount_charged or 0
    share = (
        "whole" if amount == charged else ("rest" if amount == order.refundable_amount else "part")
    )
    held = (
        "\n"
        + lang.t(
            "⚠️ Not delivered: {reason}",
            reason=escape(clip(worded(lang, order.failure_reason), 300)),
        )
        if order.failure_reason and not order.is_paid
        else ""
    )
    gives = lang.t(
        _GIVES_BACK[(order.rail is Rail.STARS, share)], amount=money(lang, amount, order.currency)
    )
    return lang.t(
        "↩️ <b>Refund order #{order}?</b>\n{lines}\n"
        "Buyer: {buyer} (id <code>{buyer_id}</code>)\n"
        "Paid {paid} · refunded so far {refunded}{held}\n\n{gives}",
        order=order.id,
        lines=line_list(lang, order),
        buyer=buyer_name(lang, order, 64),
        buyer_id=order.buyer_user_id,
        paid=money(lang, charged, order.currency),
        refunded=money(lang, order.amount_refunded, order.currency),
        held=held,
        gives=gives,
    )


async def ask(
    shop: Shop,
    context: ShopContext,
    message: Message,
    order_id: int,
    amount_text: str | None,
) -> None:
    """Reply with a confirmation for refunding `amount_text` (None: everything left)."""
    lang = context.lang
    order = await orders.get(shop.db.reader, order_id)
    refusal = _refusal(lang, order, order_id)
    if refusal is not None or order is None:
        await message.reply_text(refusal or "")
        return
    remaining = order.refundable_amount
    if order.rail is Rail.STARS and amount_text is not None:
        await message.reply_text(whole_order_only(order).text(lang))
        return
    try:
        amount = remaining if amount_text is None else parse_amount(amount_text, order.currency)
    except MoneyError as error:
        await message.reply_text(error.text(lang))
        return
    if amount > remaining:
        await message.reply_text(
            lang.t(
                "Order #{order} has only {amount} left to refund.",
                order=order.id,
                amount=money(lang, remaining, order.currency),
            ),
            parse_mode=ParseMode.HTML,
        )
        return
    token = secrets.token_hex(8)
    async with shop.db.transaction(serial=False) as tx:
        await held.hold_confirmation(
            tx, token, order.id, amount, keep_ms=CONFIRMATION_TTL_SECONDS * 1000
        )
    refund = lang.t("↩️ Refund {amount}", amount=lang.money(amount, order.currency))
    buttons = [
        InlineKeyboardButton(refund, callback_data=cb.REFUND_YES.encode(token)),
        InlineKeyboardButton(lang.t("Cancel"), callback_data=cb.REFUND_NO.encode(token)),
    ]
    await message.reply_text(
        confirmation_text(lang, order, amount),
        parse_mode=ParseMode.HTML,
        reply_markup=InlineKeyboardMarkup([buttons]),
    )


def _outcome_text(lang: Lang, order: Order, refunded: int) -> str:
    if order.status is OrderStatus.REFUNDED:
        state = lang.t("refunded")
    elif order.status is OrderStatus.PARTIALLY_REFUNDED:
        state = lang.t("partially refunded")
    else:
        state = lang.t("{state}, partly refunded", state=status_label(lang, order.status))
    return lang.t(
        "✅ Refunded {amount} of order #{order}; the order is now <b>{state}</b> ({refunded} "
        "of {charged}). The buyer is being told.",
        amount=money(lang, refunded, order.currency),
        order=order.id,
        state=state,
        refunded=money(lang, order.amount_refunded, order.currency),
        charged=money(lang, order.amount_charged or 0, order.currency),
    )


async def refund_command(update: Update, context: ShopContext) -> None:
    """/refund <order> [amount]: a confirmation with Refund <amount> / Cancel buttons, or why
    the order cannot be refunded."""
    message = update.effective_message
    assert message is not None
    usage = context.lang.t(
        "Usage: <code>/refund &lt;order&gt; [amount]</code> — without an amount, everything "
        "not yet refunded. E.g. <code>/refund 12 5.00</code>"
    )
    parsed = await order_command_args(message, context.args, usage)
    if parsed is None:
        return
    order_id, amount_text = parsed
    await ask(context.shop, context, message, order_id, amount_text)


async def refund_button(update: Update, context: ShopContext) -> None:
    """Refund… on an order's detail: a confirmation for everything left."""
    if (tap := await tapped(update, cb.REFUND)) is None:
        return
    query, data = tap
    await query.answer()
    if isinstance(query.message, Message):
        await ask(context.shop, context, query.message, data.id(0), None)


async def confirm(update: Update, context: ShopContext) -> None:
    """Refund <amount>: the refund is made once — "Refunding…", then the outcome."""
    if (tap := await tapped(update, cb.REFUND_YES)) is None:
        return
    query, data = tap
    await _confirm(context.lang, context.shop, query, data.word(0))


async def cancel(update: Update, context: ShopContext) -> None:
    """Cancel on the confirmation: nothing is refunded, and the confirmation says so."""
    if (tap := await tapped(update, cb.REFUND_NO)) is None:
        return
    query, data = tap
    dropped = await _take(context.shop, data.word(0))
    await query.answer()
    if dropped is not None:
        text = context.lang.t(
            "Refund of order #{order} cancelled; nothing was refunded.", order=dropped.order_id
        )
        await _edit(query, text)


async def _take(shop: Shop, token: str) -> held.HeldRefund | None:
    """The confirmation under `token`, taken away: of two taps only one finds it."""
    async with shop.db.transaction(serial=False) as tx:
        return await held.take_confirmation(tx, token)


async def _confirm(lang: Lang, shop: Shop, query: CallbackQuery, token: str) -> None:
    pending = await _take(shop, token)
    if pending is None:
        await query.answer(lang.t("This confirmation was already used or has expired."))
        return
    order_id = pending.order_id
    if pending.age_ms > CONFIRMATION_TTL_SECONDS * 1000:
        await query.answer()
        text = lang.t("This confirmation expired; send /refund {order} again.", order=order_id)
        await _edit(query, text)
        return
    await query.answer(lang.t("Refunding…"))
    await _edit(query, lang.t("⏳ Refunding order #{order}…", order=order_id))
    try:
        done = await refund_order(shop, order_id, pending.amount, token)
    except RefundRefused as error:
        await _edit(query, f"❌ {escape(error.text(lang))}")
        return
    except Exception:
        log.exception("refund of order %s: unexpected error", order_id)
        text = lang.t(
            "⚠️ The refund of order #{order} may not have gone through. Check it with /orders "
            "(and in Stripe, for a card payment) before trying again.",
            order=order_id,
        )
        await _edit(query, text)
        return
    await _edit(query, _outcome_text(lang, done.order, done.amount))


async def _edit(query: CallbackQuery, text: str) -> None:
    """Replace the confirmation (and its buttons); a failed edit must not stop a refund."""
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML)
    except BadRequest as error:
        log.warning("could not edit the refund confirmation: %s", error.message)
