"""Admin: `/refund <order> [amount]` and the order detail's Refund button, with a confirmation.

Money leaves the merchant's account here, so a refund needs two steps and must never happen
twice: the amount is kept server-side under a random token (the button carries only the
token), the first tap takes the token away before anything is awaited, and the token is the
Stripe idempotency key. A double tap, a forged button or a tap after a restart therefore
refunds nothing more. A Telegram Stars order is refunded whole (shop/refunds.py says so when
an amount is named); Telegram refuses a second refund of a charge, which books it once.

Buttons: `bot.callbacks`' REFUND (an order's detail → a confirmation for everything left),
REFUND_YES and REFUND_NO (the confirmation's, carrying its token).
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from html import escape

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot import callbacks as cb
from bot.admin.orders import money, order_command_args
from bot.context import ShopContext
from bot.shared import tapped
from bot.texts import clip, line_list, status_label
from shop.context import Shop
from shop.i18n import ENGLISH
from shop.money import MoneyError, format_money
from shop.refunds import RefundRefused, refund_order, whole_order_only
from shop.typed_money import parse_amount
from storage import orders
from storage.models import Order, OrderStatus, Rail

log = logging.getLogger(__name__)

CONFIRMATION_TTL_SECONDS = 15 * 60
_BOT_DATA_KEY = "admin_refunds"


@dataclass(frozen=True)
class PendingRefund:
    """A confirmation on screen: which order, how much, and since when (monotonic)."""

    order_id: int
    amount: int
    created: float


def _refusal(order: Order | None, order_id: int) -> str | None:
    if order is None:
        return f"There is no order #{order_id}."
    if order.refundable_amount <= 0:
        return (
            f"Order #{order.id} is {status_label(ENGLISH, order.status)}; only paid orders refund."
        )
    return None


def confirmation_text(order: Order, amount: int) -> str:
    charged = order.amount_charged or 0
    rest = (
        "the whole payment"
        if amount == charged
        else ("everything left" if amount == order.refundable_amount else "part of the payment")
    )
    held = (
        f"\n⚠️ Not delivered: {escape(clip(order.failure_reason, 300))}"
        if order.failure_reason and not order.is_paid
        else ""
    )
    return (
        f"↩️ <b>Refund order #{order.id}?</b>\n"
        f"{line_list(ENGLISH, order)}\n"
        f"Buyer: {escape(clip(order.buyer_name, 64)) or 'unknown'}"
        f" (id <code>{order.buyer_user_id}</code>)\n"
        f"Paid {money(charged, order.currency)}"
        f" · refunded so far {money(order.amount_refunded, order.currency)}{held}\n\n"
        f"This gives <b>{money(amount, order.currency)}</b> back to the buyer's "
        f"{_refunded_to(order)} ({rest}). It cannot be undone."
    )


def _refunded_to(order: Order) -> str:
    if order.rail is Rail.STARS:
        return "Telegram Stars balance through Telegram"
    return "card through Stripe"


def _pending(context: ShopContext) -> dict[str, PendingRefund]:
    """Confirmations on screen, per application; forgotten after a restart on purpose."""
    store = context.bot_data.setdefault(_BOT_DATA_KEY, {})
    assert isinstance(store, dict)
    return store


def _forget_stale(store: dict[str, PendingRefund]) -> None:
    cutoff = time.monotonic() - CONFIRMATION_TTL_SECONDS
    for token in [t for t, p in store.items() if p.created < cutoff]:
        del store[token]


async def ask(
    shop: Shop,
    context: ShopContext,
    message: Message,
    order_id: int,
    amount_text: str | None,
) -> None:
    """Reply with a confirmation for refunding `amount_text` (None: everything left)."""
    order = await orders.get(shop.db.reader, order_id)
    refusal = _refusal(order, order_id)
    if refusal is not None or order is None:
        await message.reply_text(refusal or "")
        return
    remaining = order.refundable_amount
    if order.rail is Rail.STARS and amount_text is not None:
        await message.reply_text(whole_order_only(order))
        return
    try:
        amount = remaining if amount_text is None else parse_amount(amount_text, order.currency)
    except MoneyError as error:
        await message.reply_text(str(error))
        return
    if amount > remaining:
        await message.reply_text(
            f"Order #{order.id} has only {money(remaining, order.currency)} left to refund.",
            parse_mode=ParseMode.HTML,
        )
        return
    store = _pending(context)
    _forget_stale(store)
    token = secrets.token_hex(8)
    store[token] = PendingRefund(order.id, amount, time.monotonic())
    await message.reply_text(
        confirmation_text(order, amount),
        parse_mode=ParseMode.HTML,
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        f"↩️ Refund {format_money(amount, order.currency)}",
                        callback_data=cb.REFUND_YES.encode(token),
                    ),
                    InlineKeyboardButton("Cancel", callback_data=cb.REFUND_NO.encode(token)),
                ]
            ]
        ),
    )


def _outcome_text(order: Order, refunded: int) -> str:
    state = {
        OrderStatus.REFUNDED: "refunded",
        OrderStatus.PARTIALLY_REFUNDED: "partially refunded",
    }.get(order.status, f"{status_label(ENGLISH, order.status)}, partly refunded")
    return (
        f"✅ Refunded {money(refunded, order.currency)} of order #{order.id}; the order is now "
        f"<b>{state}</b> ({money(order.amount_refunded, order.currency)} of "
        f"{money(order.amount_charged or 0, order.currency)}). The buyer is being told."
    )


async def refund_command(update: Update, context: ShopContext) -> None:
    """/refund <order> [amount]: a confirmation with Refund <amount> / Cancel buttons, or why
    the order cannot be refunded."""
    message = update.effective_message
    assert message is not None
    usage = (
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
    await _confirm(context.shop, context, query, data.word(0))


async def cancel(update: Update, context: ShopContext) -> None:
    """Cancel on the confirmation: nothing is refunded, and the confirmation says so."""
    if (tap := await tapped(update, cb.REFUND_NO)) is None:
        return
    query, data = tap
    dropped = _pending(context).pop(data.word(0), None)
    await query.answer()
    if dropped is not None:
        await _edit(query, f"Refund of order #{dropped.order_id} cancelled; nothing was refunded.")


async def _confirm(shop: Shop, context: ShopContext, query: CallbackQuery, token: str) -> None:
    # Taken before the first await: of two taps on one confirmation only one finds it.
    pending = _pending(context).pop(token, None)
    if pending is None:
        await query.answer("This confirmation was already used or has expired.")
        return
    if pending.created < time.monotonic() - CONFIRMATION_TTL_SECONDS:
        await query.answer()
        await _edit(query, f"This confirmation expired; send /refund {pending.order_id} again.")
        return
    await query.answer("Refunding…")
    await _edit(query, f"⏳ Refunding order #{pending.order_id}…")
    try:
        done = await refund_order(shop, pending.order_id, pending.amount, token)
    except RefundRefused as error:
        await _edit(query, f"❌ {escape(str(error))}")
        return
    except Exception:
        log.exception("refund of order %s: unexpected error", pending.order_id)
        await _edit(
            query,
            f"⚠️ The refund of order #{pending.order_id} may not have gone through. Check it "
            "with /orders (and in Stripe, for a card payment) before trying again.",
        )
        return
    await _edit(query, _outcome_text(done.order, done.amount))


async def _edit(query: CallbackQuery, text: str) -> None:
    """Replace the confirmation (and its buttons); a failed edit must not stop a refund."""
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML)
    except BadRequest as error:
        log.warning("could not edit the refund confirmation: %s", error.message)
