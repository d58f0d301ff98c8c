"""Admin: /orders across all buyers, an order's detail and Resend goods.

Buttons carry `ao:` callback data with ids and small codes only; every tap is re-checked with
`admin_only`, because on a callback query `filters.User` would look at the bot's own message.

Callback layout (all ≤ 64 bytes by construction, see `data`):
    ao:l:<filter>:<page>              the list, filtered (a, s, w, p, r, x) and paged
    ao:o:<order>:<filter>:<page>      an order's detail; Back returns to that list page
    ao:rs:<order>                     resend the goods to the buyer
    ao:n                              a label (page counter)
    ao:sh / tr / nt / sx / dv         shipping, see bot/admin_shipping.py
    ao:rf / ao:ry / ao:rn             refunds, see bot/admin_refund.py
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from dataclasses import dataclass
from html import escape
from typing import Any

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.admin_auth import admin_filter, admin_only
from bot.callbacks import MAX_CALLBACK_BYTES
from bot.context import shop_of
from bot.texts import admin_button_expired, charge_note, clip
from shop import outbox
from shop.context import Shop
from shop.ids import ID_PATTERN, parse_id
from shop.money import format_money
from storage import deliveries, orders
from storage.models import Delivery, DeliveryKind, Order, OrderStatus, ProductKind, ShippingStage

log = logging.getLogger(__name__)

PAGE_SIZE = 8
_ORDER_ID = re.compile(rf"^#?({ID_PATTERN})$")

S = OrderStatus


@dataclass(frozen=True)
class StatusFilter:
    """A filter button of the list: its one-letter code in callback data and the states."""

    code: str
    label: str
    statuses: frozenset[OrderStatus] | None
    to_ship: bool = False  # paid physical orders not shipped yet (the stage, not a status)


FILTERS = (
    StatusFilter("a", "All", None),
    StatusFilter("s", "To ship", None, to_ship=True),
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
STAGE_LABEL = {
    ShippingStage.TO_SHIP: "📦 to ship",
    ShippingStage.SHIPPED: "🚚 shipped",
    ShippingStage.DELIVERED: "📬 delivered",
}


def status_label(order: Order) -> str:
    """The order's state for admins: a paid physical order by its shipping stage (a receipt
    sent is not a mug delivered), with a partial refund still shown."""
    stage = order.shipping_stage
    if stage is None:
        return STATUS_LABEL[order.status]
    refunded = order.status is S.PARTIALLY_REFUNDED
    return STAGE_LABEL[stage] + (" · " + STATUS_LABEL[order.status] if refunded else "")


def data(*parts: str | int) -> str:
    """Callback data for an admin orders button; refuses anything over Telegram's 64 bytes."""
    joined = ":".join(["ao", *(str(part) for part in parts)])
    if len(joined.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {joined!r}")
    return joined


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
        f" · {money(order.amount_total, order.currency)} · {status_label(order)}"
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
        f"🧾 <b>Order #{order.id}</b> · {status_label(order)}",
        f"Buyer: <b>{escape(clip(order.buyer_name, 64)) or 'unknown'}</b>"
        f" (id <code>{order.buyer_user_id}</code>)",
        f"Product: {escape(clip(order.product_title, 128))} × {order.quantity}"
        f" (product #{order.product_id}, {order.product_kind.value.replace('_', ' ')})",
        f"Total: <b>{money(order.amount_total, order.currency)}</b>{charge_note(order)}"
        f" · refunded: {money(order.amount_refunded, order.currency)}",
        f"Created: {when(order.created_at)} · paid: {when(order.paid_at)}",
        f"Checkout session: <code>{escape(clip(order.checkout_session_id or '—', 100))}</code>",
        f"Payment intent: <code>{escape(clip(order.payment_intent_id or '—', 100))}</code>",
        f"{'Receipt' if order.product_kind is ProductKind.PHYSICAL else 'Delivery'}:"
        f" {_delivery_line(by_kind.get(DeliveryKind.GOODS, []))}",
    ]
    resends = by_kind.get(DeliveryKind.RESEND, [])
    if resends:
        lines.append(f"Resent: {len(resends)}× (last: {resends[-1].status})")
    if order.failure_reason:
        lines.append(f"Problem: {escape(clip(order.failure_reason, 300))}")
    if order.product_kind is ProductKind.PHYSICAL:
        address = escape(clip(order.shipping_address or "no address collected", 600))
        lines += ["", f"📍 <b>Ship to</b>\n{address}"]
        lines += _shipping_lines(order, by_kind)
    return "\n".join(lines)


def _shipping_lines(order: Order, by_kind: dict[DeliveryKind, list[Delivery]]) -> list[str]:
    if order.shipped_at is None:
        return ["🚚 Not shipped yet"]
    tracking = f" · tracking <code>{escape(order.tracking)}</code>" if order.tracking else ""
    notice = [
        *by_kind.get(DeliveryKind.SHIPPED_NOTICE, []),
        *by_kind.get(DeliveryKind.TRACKING_NOTICE, []),
    ]
    told = f" · buyer told: {notice[-1].status}" if notice else ""
    lines = [f"🚚 Shipped {when(order.shipped_at)}{tracking}{told}"]
    if order.delivered_at is not None:
        lines.append(f"📬 Delivered {when(order.delivered_at)}")
    return lines


# --- keyboards -----------------------------------------------------------------------------


def list_keyboard(
    items: list[Order], status: StatusFilter, page: int, pages: int
) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                f"#{o.id} · {clip(o.product_title, 32)}",
                callback_data=data("o", o.id, status.code, page),
            )
        ]
        for o in items
    ]
    chips = [
        InlineKeyboardButton(
            ("• " if f.code == status.code else "") + f.label, callback_data=data("l", f.code, 0)
        )
        for f in FILTERS
    ]
    rows += [chips[:3], chips[3:]]
    if pages > 1:
        nav = []
        if page > 0:
            nav.append(
                InlineKeyboardButton("‹ Prev", callback_data=data("l", status.code, page - 1))
            )
        nav.append(InlineKeyboardButton(f"{page + 1}/{pages}", callback_data=data("n")))
        if page + 1 < pages:
            nav.append(
                InlineKeyboardButton("Next ›", callback_data=data("l", status.code, page + 1))
            )
        rows.append(nav)
    return InlineKeyboardMarkup(rows)


def detail_keyboard(order: Order, status_code: str, page: int) -> InlineKeyboardMarkup:
    """Only the actions that fit the order's state: a physical order has no goods to resend
    but its shipping steps (bot/admin_shipping.py)."""
    rows = []
    if order.can_resend:
        rows.append([InlineKeyboardButton("📨 Resend goods", callback_data=data("rs", order.id))])
    if order.can_ship:
        rows.append([InlineKeyboardButton("🚚 Mark shipped", callback_data=data("sh", order.id))])
    elif order.shipping_stage is ShippingStage.SHIPPED:
        label = "✏️ Correct tracking" if order.tracking else "✏️ Add tracking"
        rows.append(
            [
                InlineKeyboardButton(label, callback_data=data("tr", order.id)),
                InlineKeyboardButton("📬 Mark delivered", callback_data=data("dv", order.id)),
            ]
        )
    if order.refundable_amount > 0:
        rows.append([InlineKeyboardButton("↩️ Refund…", callback_data=data("rf", order.id))])
    rows.append(
        [
            InlineKeyboardButton(
                "🔄 Refresh", callback_data=data("o", order.id, status_code, page)
            ),
            InlineKeyboardButton("‹ Orders", callback_data=data("l", status_code, page)),
        ]
    )
    return InlineKeyboardMarkup(rows)


# --- use-cases -----------------------------------------------------------------------------


async def _list_page(shop: Shop, code: str, page: int) -> tuple[str, InlineKeyboardMarkup]:
    status = _FILTER_BY_CODE.get(code, FILTERS[0])
    reader = shop.db.reader
    if status.to_ship:
        total = await orders.count_to_ship(reader)
    else:
        total = await orders.count(reader, statuses=status.statuses)
    pages = max(math.ceil(total / PAGE_SIZE), 1)
    page = min(max(page, 0), pages - 1)
    if status.to_ship:
        items = await orders.to_ship(reader, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
    else:
        items = await orders.recent(
            reader, offset=page * PAGE_SIZE, limit=PAGE_SIZE, statuses=status.statuses
        )
    return list_text(items, status, page, pages, total), list_keyboard(items, status, page, pages)


# --- handlers ------------------------------------------------------------------------------


async def orders_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/orders (admins): the newest orders of every buyer, 8 a page, with status filters."""
    assert update.effective_message is not None
    text, markup = await _list_page(shop_of(context), "a", 0)
    await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def on_orders_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every `ao:` button except refunds and shipping: list pages and filters, an order's
    detail, and Resend goods."""
    query = update.callback_query
    assert query is not None and query.data is not None
    message = query.message
    parts = query.data.split(":")[1:]
    if not isinstance(message, Message) or not parts:
        await query.answer(admin_button_expired(), show_alert=True)
        return
    shop, action, args = shop_of(context), parts[0], parts[1:]
    if action == "l" and len(args) == 2 and args[0] in _FILTER_BY_CODE and args[1].isdigit():
        await query.answer()
        text, markup = await _list_page(shop, args[0], int(args[1]))
        await edit_query(query, text, markup)
    elif action == "o" and len(args) == 3 and _ids(args[0], args[2]) and args[1] in _FILTER_BY_CODE:
        await _show_detail(shop, query, int(args[0]), args[1], int(args[2]))
    elif action == "rs" and len(args) == 1 and _ids(args[0]):
        await _resend(shop, query, int(args[0]))
    elif action == "n":
        await query.answer()
    else:
        await query.answer(admin_button_expired(), show_alert=True)


def _ids(*parts: str) -> bool:
    return all(parse_id(part) is not None for part in parts)


async def edit_query(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
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
    await edit_query(query, detail_text(order, rows), detail_keyboard(order, code, page))


async def _resend(shop: Shop, query: CallbackQuery, order_id: int) -> None:
    """Owe the buyer their goods once more; a unique key per tap, so each tap sends one copy."""
    if await outbox.send_again(shop.db, shop.wake_outbox, order_id, f"admin:{query.id}") is None:
        order = await orders.get(shop.db.reader, order_id)
        refusal = (
            "A physical order has no goods to send again: ship it, and the buyer is told."
            if order is not None and order.is_paid
            else "Only paid orders can be sent again."
        )
        await query.answer(refusal, show_alert=True)
        return
    await query.answer(f"Sending order #{order_id} to the buyer again…")


def handlers(admin_ids: frozenset[int]) -> list[BaseHandler[Update, Any, Any]]:
    """Register these before the buyer's handlers: admins' /orders wins, others fall through.

    The `ao:` button handler leaves the refund buttons (`ao:rf|ry|rn`) to bot/admin_refund.py
    and the shipping ones to bot/admin_shipping.py, whatever order the modules are added in."""
    admins = admin_filter(admin_ids)
    return [
        CommandHandler("orders", admin_only(orders_command), filters=admins),
        CallbackQueryHandler(
            admin_only(on_orders_button), pattern=r"^ao:(?!r[fyn]:|sh:|tr:|nt:|sx:|dv:)"
        ),
    ]
