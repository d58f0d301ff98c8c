"""Admin: /orders across all buyers, an order's detail, Resend goods, and shipping (/ship).

Buttons carry `ao:` callback data with ids and small codes only; every tap is re-checked with
`admin_only`, because on a callback query `filters.User` would look at the bot's own message.

Callback layout (all ≤ 64 bytes by construction, see `_data`):
    ao:l:<filter>:<page>              the list, filtered (a, w, p, r, x) and paged
    ao:o:<order>:<filter>:<page>      an order's detail; Back returns to that list page
    ao:rs:<order>                     resend the goods to the buyer
    ao:sh:<order>                     mark shipped: asks for a tracking number
    ao:nt:<order>                     mark shipped without tracking
    ao:sx:<order>                     stop asking for the tracking number
    ao:n                              a label (page counter)
    ao:rf / ao:ry / ao:rn             refunds, see bot/admin_refund.py
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import warnings
from dataclasses import dataclass
from html import escape
from typing import Any

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
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

from bot.admin_auth import admin_filter, admin_only
from bot.callbacks import MAX_CALLBACK_BYTES
from bot.ids import ID_PATTERN, parse_id
from bot.money import format_money
from bot.shop import Shop, shop_of
from bot.texts import charge_note, clip
from storage import deliveries, orders
from storage.clock import now
from storage.models import Delivery, DeliveryKind, Order, OrderStatus, ProductKind

log = logging.getLogger(__name__)

PAGE_SIZE = 8
MAX_TRACKING = 100
TRACKING_TIMEOUT_SECONDS = 600
_ORDER_ID = re.compile(rf"^#?({ID_PATTERN})$")
_USER_DATA_SHIP = "admin_ship"  # user_data key of the open ShipQuestion

S = OrderStatus


@dataclass(frozen=True)
class StatusFilter:
    """A filter button of the list: its one-letter code in callback data and the states."""

    code: str
    label: str
    statuses: frozenset[OrderStatus] | None


FILTERS = (
    StatusFilter("a", "All", None),
    StatusFilter("w", "Awaiting payment", frozenset({S.PENDING, S.AWAITING_PAYMENT, S.PROCESSING})),
    StatusFilter("p", "Paid", frozenset({S.PAID, S.FULFILLED})),
    StatusFilter("r", "Refunded", frozenset({S.REFUNDED, S.PARTIALLY_REFUNDED})),
    StatusFilter("x", "Failed/expired", frozenset({S.FAILED, S.EXPIRED})),
)
_FILTER_BY_CODE = {f.code: f for f in FILTERS}

STATUS_LABEL = {
    S.PENDING: "⏳ starting",
    S.AWAITING_PAYMENT: "🕒 awaiting payment",
    S.PROCESSING: "⏳ payment processing",
    S.PAID: "✅ paid",
    S.FULFILLED: "✅ delivered",
    S.FAILED: "❌ failed",
    S.EXPIRED: "⌛ expired",
    S.REFUNDED: "↩️ refunded",
    S.PARTIALLY_REFUNDED: "↩️ partly refunded",
}


def _data(*parts: str | int) -> str:
    """Callback data for an admin orders button; refuses anything over Telegram's 64 bytes."""
    data = ":".join(["ao", *(str(part) for part in parts)])
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


def when(timestamp: int | None) -> str:
    """A moment for admins, in UTC like every time the shop stores."""
    if timestamp is None:
        return "—"
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def money(amount: int, currency: str) -> str:
    """An amount for an HTML message (Babel's output escaped, as all text is)."""
    return escape(format_money(amount, currency))


def parse_order_id(text: str) -> int | None:
    """An order id as an admin types it: `12` or `#12`."""
    match = _ORDER_ID.match(text.strip())
    return int(match.group(1)) if match else None


async def order_command_args(
    message: Message, args: list[str] | None, usage: str
) -> tuple[int, str | None] | None:
    """`/command <order> [rest…]`: the order id and the rest (None when empty), or None after
    showing `usage` (HTML) to an admin who left the order out or mistyped it."""
    words = args or []
    order_id = parse_order_id(words[0]) if words else None
    if order_id is None:
        await message.reply_text(usage, parse_mode=ParseMode.HTML)
        return None
    return order_id, " ".join(words[1:]).strip() or None


# --- texts ---------------------------------------------------------------------------------


def _list_line(order: Order) -> str:
    return (
        f"<b>#{order.id}</b> · {escape(clip(order.product_title, 40))} × {order.quantity}"
        f" · {money(order.amount_total, order.currency)} · {STATUS_LABEL[order.status]}"
        f" · {escape(clip(order.buyer_name, 32)) or 'unknown buyer'}"
    )


def list_text(items: list[Order], status: StatusFilter, page: int, pages: int, total: int) -> str:
    head = f"📋 <b>Orders</b> · {escape(status.label)}"
    if pages > 1:
        head += f" · page {page + 1} of {pages}"
    if not items:
        return head + "\n\nNo orders here yet."
    count = f"{total} order" + ("" if total == 1 else "s")
    return "\n".join([head + f" ({count})", "", *(_list_line(o) for o in items)])


def _delivery_line(goods: list[Delivery]) -> str:
    if not goods:
        return "— (nothing owed before payment)"
    row = goods[-1]
    if row.status == "sent":
        return "✅ goods sent"
    if row.status == "failed":
        return f"❌ failed: {escape(clip(row.last_error or 'unknown error', 200))}"
    tries = f" after {row.attempts} attempt" + ("" if row.attempts == 1 else "s")
    error = f" ({escape(clip(row.last_error, 120))})" if row.last_error else ""
    return "⏳ pending" + (tries + error if row.attempts else "")


def detail_text(order: Order, rows: list[Delivery]) -> str:
    """Everything an admin needs to answer a buyer about one order."""
    by_kind: dict[DeliveryKind, list[Delivery]] = {}
    for row in rows:
        by_kind.setdefault(row.kind, []).append(row)
    lines = [
        f"🧾 <b>Order #{order.id}</b> · {STATUS_LABEL[order.status]}",
        f"Buyer: <b>{escape(clip(order.buyer_name, 64)) or 'unknown'}</b>"
        f" (id <code>{order.buyer_user_id}</code>)",
        f"Product: {escape(clip(order.product_title, 128))} × {order.quantity}"
        f" (product #{order.product_id}, {order.product_kind.value.replace('_', ' ')})",
        f"Total: <b>{money(order.amount_total, order.currency)}</b>{charge_note(order)}"
        f" · refunded: {money(order.amount_refunded, order.currency)}",
        f"Created: {when(order.created_at)} · paid: {when(order.paid_at)}",
        f"Checkout session: <code>{escape(clip(order.checkout_session_id or '—', 100))}</code>",
        f"Payment intent: <code>{escape(clip(order.payment_intent_id or '—', 100))}</code>",
        f"Delivery: {_delivery_line(by_kind.get(DeliveryKind.GOODS, []))}",
    ]
    resends = by_kind.get(DeliveryKind.RESEND, [])
    if resends:
        lines.append(f"Resent: {len(resends)}× (last: {resends[-1].status})")
    if order.failure_reason:
        lines.append(f"Problem: {escape(clip(order.failure_reason, 300))}")
    if order.product_kind is ProductKind.PHYSICAL:
        address = escape(clip(order.shipping_address or "no address collected", 600))
        lines += ["", f"📍 <b>Ship to</b>\n{address}"]
        if order.shipped_at is None:
            lines.append("🚚 Not shipped yet")
        else:
            tracking = (
                f" · tracking <code>{escape(order.tracking)}</code>" if order.tracking else ""
            )
            notice = by_kind.get(DeliveryKind.SHIPPED_NOTICE, [])
            told = f" · buyer told: {notice[-1].status}" if notice else ""
            lines.append(f"🚚 Shipped {when(order.shipped_at)}{tracking}{told}")
    return "\n".join(lines)


# --- keyboards -----------------------------------------------------------------------------


def list_keyboard(
    items: list[Order], status: StatusFilter, page: int, pages: int
) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                f"#{o.id} · {clip(o.product_title, 32)}",
                callback_data=_data("o", o.id, status.code, page),
            )
        ]
        for o in items
    ]
    chips = [
        InlineKeyboardButton(
            ("• " if f.code == status.code else "") + f.label, callback_data=_data("l", f.code, 0)
        )
        for f in FILTERS
    ]
    rows += [chips[:3], chips[3:]]
    if pages > 1:
        nav = []
        if page > 0:
            nav.append(
                InlineKeyboardButton("‹ Prev", callback_data=_data("l", status.code, page - 1))
            )
        nav.append(InlineKeyboardButton(f"{page + 1}/{pages}", callback_data=_data("n")))
        if page + 1 < pages:
            nav.append(
                InlineKeyboardButton("Next ›", callback_data=_data("l", status.code, page + 1))
            )
        rows.append(nav)
    return InlineKeyboardMarkup(rows)


def can_ship(order: Order) -> bool:
    return order.product_kind is ProductKind.PHYSICAL and order.is_paid and order.shipped_at is None


def detail_keyboard(order: Order, status_code: str, page: int) -> InlineKeyboardMarkup:
    """Only the actions that fit the order's state."""
    rows = []
    if order.is_paid:
        rows.append([InlineKeyboardButton("📨 Resend goods", callback_data=_data("rs", order.id))])
    if can_ship(order):
        rows.append([InlineKeyboardButton("🚚 Mark shipped", callback_data=_data("sh", order.id))])
    if order.refundable_amount > 0:
        rows.append([InlineKeyboardButton("↩️ Refund…", callback_data=_data("rf", order.id))])
    rows.append(
        [
            InlineKeyboardButton(
                "🔄 Refresh", callback_data=_data("o", order.id, status_code, page)
            ),
            InlineKeyboardButton("‹ Orders", callback_data=_data("l", status_code, page)),
        ]
    )
    return InlineKeyboardMarkup(rows)


# --- use-cases -----------------------------------------------------------------------------


async def _list_page(shop: Shop, code: str, page: int) -> tuple[str, InlineKeyboardMarkup]:
    status = _FILTER_BY_CODE.get(code, FILTERS[0])
    total = await orders.count(shop.db.reader, statuses=status.statuses)
    pages = max(math.ceil(total / PAGE_SIZE), 1)
    page = min(max(page, 0), pages - 1)
    items = await orders.recent(
        shop.db.reader, offset=page * PAGE_SIZE, limit=PAGE_SIZE, statuses=status.statuses
    )
    return list_text(items, status, page, pages, total), list_keyboard(items, status, page, pages)


def _ship_refusal(order: Order | None, order_id: int) -> str | None:
    """Why the order cannot be marked shipped, as plain text; None when it can."""
    if order is None:
        return f"There is no order #{order_id}."
    if order.product_kind is not ProductKind.PHYSICAL:
        return f"Order #{order.id} is not a physical product: there is nothing to ship."
    if not order.is_paid:
        return f"Order #{order.id} is {STATUS_LABEL[order.status]}; only paid orders ship."
    if order.shipped_at is not None:
        tracking = f" (tracking {order.tracking})" if order.tracking else ""
        return (
            f"Order #{order.id} was already marked shipped on {when(order.shipped_at)}{tracking}."
        )
    return None


async def mark_shipped(shop: Shop, order_id: int, tracking: str | None) -> tuple[bool, str]:
    """Mark a paid physical order shipped and owe the buyer a notice, in one transaction.

    Returns (done, the admin's answer as HTML). The check and the write share the transaction,
    so two admins shipping the same order at once record it, and tell the buyer, once."""
    async with shop.db.transaction() as tx:
        order = await orders.get(tx, order_id)
        refusal = _ship_refusal(order, order_id)
        if refusal is not None or order is None:
            return False, escape(refusal or "")
        await orders.update(tx, order.id, shipped_at=now(), tracking=tracking)
        await deliveries.enqueue(
            tx,
            dedupe_key=f"shipped:{order.id}",
            order_id=order.id,
            kind=DeliveryKind.SHIPPED_NOTICE,
            chat_id=order.buyer_chat_id,
            detail=tracking or "",
        )
    shop.wake_outbox()
    with_tracking = f" with tracking <code>{escape(tracking)}</code>" if tracking else ""
    return True, (f"🚚 Order #{order.id} marked shipped{with_tracking}. The buyer is being told.")


def tracking_problem(tracking: str) -> str | None:
    if not tracking:
        return "Please send the tracking number as text."
    if len(tracking) > MAX_TRACKING or "\n" in tracking:
        return f"A tracking number is one line of at most {MAX_TRACKING} characters."
    return None


# --- handlers ------------------------------------------------------------------------------


async def orders_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/orders (admins): the newest orders of every buyer, 8 a page, with status filters."""
    assert update.effective_message is not None
    text, markup = await _list_page(shop_of(context), "a", 0)
    await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def ship_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ship <order> [tracking]: the order is marked shipped and the buyer told, or the admin
    learns why not (no such order, not physical, not paid, already shipped)."""
    message = update.effective_message
    assert message is not None
    usage = (
        "Usage: <code>/ship &lt;order&gt; [tracking number]</code>, e.g. "
        "<code>/ship 12 1Z999AA10123456784</code>"
    )
    parsed = await order_command_args(message, context.args, usage)
    if parsed is None:
        return
    order_id, tracking = parsed
    problem = tracking_problem(tracking) if tracking is not None else None
    if problem:
        await message.reply_text(problem)
        return
    _, answer = await mark_shipped(shop_of(context), order_id, tracking)
    await message.reply_text(answer, parse_mode=ParseMode.HTML)


async def on_orders_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every `ao:` button except refunds and the tracking question: list pages and filters,
    an order's detail, Resend goods, and No tracking on an old prompt."""
    query = update.callback_query
    assert query is not None and query.data is not None
    message = query.message
    parts = query.data.split(":")[1:]
    if not isinstance(message, Message) or not parts:
        await query.answer("This button has expired.", show_alert=True)
        return
    shop, action, args = shop_of(context), parts[0], parts[1:]
    if action == "l" and len(args) == 2 and args[0] in _FILTER_BY_CODE and args[1].isdigit():
        await query.answer()
        text, markup = await _list_page(shop, args[0], int(args[1]))
        await _edit(query, text, markup)
    elif action == "o" and len(args) == 3 and _ids(args[0], args[2]) and args[1] in _FILTER_BY_CODE:
        await _show_detail(shop, query, int(args[0]), args[1], int(args[2]))
    elif action == "rs" and len(args) == 1 and _ids(args[0]):
        await _resend(shop, query, int(args[0]))
    elif action == "nt" and len(args) == 1 and _ids(args[0]):
        await _ship_without_tracking(shop, query, int(args[0]))
    elif action == "sx" and len(args) == 1 and _ids(args[0]):
        await query.answer()
        await _edit(query, "Not marked shipped.", None)
    elif action == "n":
        await query.answer()
    else:
        await query.answer("This button has expired.", show_alert=True)


def _ids(*parts: str) -> bool:
    return all(parse_id(part) is not None for part in parts)


async def _edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise


async def _show_detail(
    shop: Shop, query: CallbackQuery, order_id: int, code: str, page: int
) -> None:
    order = await orders.get(shop.db.reader, order_id)
    if order is None:
        await query.answer(f"There is no order #{order_id}.", show_alert=True)
        return
    await query.answer()
    rows = await deliveries.for_order(shop.db.reader, order.id)
    await _edit(query, detail_text(order, rows), detail_keyboard(order, code, page))


async def _resend(shop: Shop, query: CallbackQuery, order_id: int) -> None:
    """Owe the buyer their goods once more; a unique key per tap, so each tap sends one copy."""
    order = await orders.get(shop.db.reader, order_id)
    if order is None or not order.is_paid:
        await query.answer("Only paid orders can be sent again.", show_alert=True)
        return
    async with shop.db.transaction() as tx:
        await deliveries.enqueue(
            tx,
            dedupe_key=f"resend:{order.id}:admin:{query.id}",
            order_id=order.id,
            kind=DeliveryKind.RESEND,
            chat_id=order.buyer_chat_id,
        )
    shop.wake_outbox()
    await query.answer(f"Sending order #{order.id} to the buyer again…")


async def _ship_without_tracking(shop: Shop, query: CallbackQuery, order_id: int) -> None:
    await query.answer()
    _, answer = await mark_shipped(shop, order_id, None)
    await _edit(query, answer, None)


# --- the tracking question (a small conversation) ------------------------------------------

TRACKING = 1


@dataclass
class ShipQuestion:
    """The order whose tracking number the admin was asked for, and the question's message."""

    order_id: int
    prompt_id: int | None = None


async def ask_tracking(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Mark shipped: the admin is asked for a tracking number, with No tracking and Cancel."""
    query = update.callback_query
    assert query is not None and query.data is not None
    order_id = int(query.data.split(":")[2])
    order = await orders.get(shop_of(context).db.reader, order_id)
    refusal = _ship_refusal(order, order_id)
    if refusal is not None or order is None or not isinstance(query.message, Message):
        await query.answer(clip(refusal or "This button has expired.", 200), show_alert=True)
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
    address = escape(clip(order.shipping_address or "no address collected", 600))
    prompt = await message.reply_text(
        f"🚚 <b>Shipping order #{order.id}</b> to:\n{address}\n\n"
        "Send the tracking number, or tap <b>No tracking</b>.",
        parse_mode=ParseMode.HTML,
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("No tracking", callback_data=_data("nt", order.id)),
                    InlineKeyboardButton("Cancel", callback_data=_data("sx", order.id)),
                ]
            ]
        ),
    )
    question = _user_data(context).get(_USER_DATA_SHIP)
    if isinstance(question, ShipQuestion) and question.order_id == order.id:
        question.prompt_id = prompt.message_id


async def receive_tracking(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """The admin's next text is the tracking number: the order is marked shipped with it."""
    message = update.effective_message
    assert message is not None and message.text is not None
    tracking = message.text.strip()
    problem = tracking_problem(tracking)
    if problem:
        await message.reply_text(problem + " Or tap No tracking.")
        return TRACKING
    question = _user_data(context).pop(_USER_DATA_SHIP, None)
    if not isinstance(question, ShipQuestion):
        return ConversationHandler.END
    _, answer = await mark_shipped(shop_of(context), question.order_id, tracking)
    await _drop_buttons(context, message.chat_id, question.prompt_id)
    await message.reply_text(answer, parse_mode=ParseMode.HTML)
    return ConversationHandler.END


async def no_tracking(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """No tracking: the order is marked shipped without one; the prompt says so."""
    query = update.callback_query
    assert query is not None and query.data is not None
    order_id = int(query.data.split(":")[2])
    await _ship_without_tracking(shop_of(context), query, order_id)
    return _close_question(context, order_id)


async def cancel_tracking(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Cancel (button or /cancel): nothing is marked shipped."""
    query = update.callback_query
    if query is not None and query.data is not None:
        await query.answer()
        await _edit(query, "Not marked shipped.", None)
        return _close_question(context, int(query.data.split(":")[2]))
    question = _user_data(context).pop(_USER_DATA_SHIP, None)
    if update.effective_message is not None:
        if isinstance(question, ShipQuestion):
            await _drop_buttons(context, update.effective_message.chat_id, question.prompt_id)
        await update.effective_message.reply_text("Not marked shipped.")
    return ConversationHandler.END


def _close_question(context: ContextTypes.DEFAULT_TYPE, order_id: int) -> int:
    """End the question if the tapped prompt was the open one; a button on an older prompt
    (another order) leaves the open question waiting for its tracking number."""
    question = _user_data(context).get(_USER_DATA_SHIP)
    if isinstance(question, ShipQuestion) and question.order_id != order_id:
        return TRACKING
    _user_data(context).pop(_USER_DATA_SHIP, None)
    return ConversationHandler.END


def _user_data(context: ContextTypes.DEFAULT_TYPE) -> dict[Any, Any]:
    data = context.user_data
    assert data is not None
    return data


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
    """Mark shipped → tracking number (or No tracking / Cancel / /cancel).

    Kept per chat and user rather than per message on purpose: the answer is a text message,
    which has no message of its own to attach to, so PTB's per_message hint does not apply.
    A forgotten question lapses after ten minutes instead of swallowing later text."""
    admins = admin_filter(admin_ids)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                CallbackQueryHandler(admin_only(ask_tracking), pattern=rf"^ao:sh:{ID_PATTERN}$")
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
    """Register these before the buyer's handlers: admins' /orders wins, others fall through.

    The tracking conversation comes before the `ao:` button handler, which leaves the refund
    buttons (`ao:rf|ry|rn`) to bot/admin_refund.py whatever order the modules are added in."""
    admins = admin_filter(admin_ids)
    return [
        _tracking_conversation(admin_ids),
        CommandHandler("orders", admin_only(orders_command), filters=admins),
        CommandHandler("ship", admin_only(ship_command), filters=admins),
        CallbackQueryHandler(admin_only(on_orders_button), pattern=r"^ao:(?!r[fyn]:)"),
    ]
