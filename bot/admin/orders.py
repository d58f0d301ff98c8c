"""Admin: /orders across all buyers, an order's detail and Resend goods.

Buttons are `bot.callbacks`' `ao:` ones (ids and small codes only; shipping and refunds have
their own prefixes); every tap is re-checked with `admin_only`, because on a callback query
`filters.User` would look at the bot's own message.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode

from bot import callbacks as cb
from bot.admin.texts import charge_note
from bot.context import ShopContext
from bot.shared import nav_row, reply_page, show_page, tapped, turn_page
from bot.texts import MAX_LISTED_LINES, clip, order_state, what_was_bought
from shop import outbox
from shop.context import Shop
from shop.i18n import ENGLISH
from shop.ids import ID_PATTERN
from shop.money import format_money
from storage import deliveries, orders
from storage.models import Delivery, DeliveryKind, Order, OrderStatus, Rail, ShippingStage

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
assert tuple(_FILTER_BY_CODE) == cb.ORDER_FILTERS, "the codec spells the same filters"


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
        f"<b>#{order.id}</b> · {escape(what_was_bought(ENGLISH, order, 40))}"
        f" · {money(order.amount_total, order.currency)} · {order_state(ENGLISH, order)}"
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


def _payment_lines(order: Order) -> list[str]:
    """The ids the payment's rail knows it by: what the admin looks up or refunds by hand."""
    if order.rail is Rail.STARS:
        charge = escape(clip(order.telegram_payment_charge_id or "—", 100))
        return [f"Paid in Telegram Stars · charge: <code>{charge}</code>"]
    return [
        f"Checkout session: <code>{escape(clip(order.checkout_session_id or '—', 100))}</code>",
        f"Payment intent: <code>{escape(clip(order.payment_intent_id or '—', 100))}</code>",
    ]


def detail_text(order: Order, rows: list[Delivery]) -> str:
    """Everything an admin needs to answer a buyer about one order."""
    by_kind: dict[DeliveryKind, list[Delivery]] = {}
    for row in rows:
        by_kind.setdefault(row.kind, []).append(row)
    lines = [
        f"🧾 <b>Order #{order.id}</b> · {order_state(ENGLISH, order)}",
        f"Buyer: <b>{escape(clip(order.buyer_name, 64)) or 'unknown'}</b>"
        f" (id <code>{order.buyer_user_id}</code>)",
        *_product_lines(order),
        f"Total: <b>{money(order.amount_total, order.currency)}</b>{charge_note(order)}"
        f" · refunded: {money(order.amount_refunded, order.currency)}",
        f"Created: {when(order.created_at)} · paid: {when(order.paid_at)}",
        *_payment_lines(order),
        f"{'Delivery' if order.carries_goods else 'Receipt'}:"
        f" {_delivery_line(by_kind.get(DeliveryKind.GOODS, []))}",
    ]
    resends = by_kind.get(DeliveryKind.RESEND, [])
    if resends:
        lines.append(f"Resent: {len(resends)}× (last: {resends[-1].status})")
    if order.failure_reason:
        lines.append(f"Problem: {escape(clip(order.failure_reason, 300))}")
    if order.ships:
        address = escape(clip(order.shipping_address or "no address collected", 600))
        lines += ["", f"📍 <b>Ship to</b>\n{address}"]
        lines += _shipping_lines(order, by_kind)
    return "\n".join(lines)


def _product_lines(order: Order) -> list[str]:
    """Each line as sold, with the product's id and kind (the admin's way to the product)."""
    several = len(order.lines) > 1
    shown = [
        f"{escape(clip(line.title, 48 if several else 128))} × {line.quantity}"
        f" (product #{line.product_id}, {line.kind.value.replace('_', ' ')})"
        + (f" — {money(line.subtotal, order.currency)}" if several else "")
        for line in order.lines[:MAX_LISTED_LINES]
    ]
    if not several:
        return [f"Product: {shown[0]}"]
    more = len(order.lines) - len(shown)
    tail = [f"…and {more} more"] if more else []
    return [f"Products ({len(order.lines)}):", *(f"• {line}" for line in shown), *tail]


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
                f"#{o.id} · {what_was_bought(ENGLISH, o, 32)}",
                callback_data=cb.ORDER_DETAIL.encode(o.id, status.code, page),
            )
        ]
        for o in items
    ]
    chips = [
        InlineKeyboardButton(
            ("• " if f.code == status.code else "") + f.label,
            callback_data=cb.ORDERS_PAGE.encode(f.code, 0),
        )
        for f in FILTERS
    ]
    rows += [chips[:3], chips[3:]]
    if pages > 1:
        rows.append(nav_row(cb.ORDERS_PAGE, page, pages, status.code))
    return InlineKeyboardMarkup(rows)


def detail_keyboard(order: Order, status_code: str, page: int) -> InlineKeyboardMarkup:
    """Only the actions that fit the order's state: a physical order has no goods to resend
    but its shipping steps (bot/admin/shipping.py)."""
    rows = []
    if order.can_resend:
        rows.append(
            [
                InlineKeyboardButton(
                    "📨 Resend goods", callback_data=cb.ORDER_RESEND.encode(order.id)
                )
            ]
        )
    if order.can_ship:
        rows.append(
            [InlineKeyboardButton("🚚 Mark shipped", callback_data=cb.SHIP.encode(order.id))]
        )
    elif order.shipping_stage is ShippingStage.SHIPPED:
        label = "✏️ Correct tracking" if order.tracking else "✏️ Add tracking"
        rows.append(
            [
                InlineKeyboardButton(label, callback_data=cb.SHIP_TRACKING.encode(order.id)),
                InlineKeyboardButton(
                    "📬 Mark delivered", callback_data=cb.SHIP_DELIVERED.encode(order.id)
                ),
            ]
        )
    if order.refundable_amount > 0:
        rows.append([InlineKeyboardButton("↩️ Refund…", callback_data=cb.REFUND.encode(order.id))])
    rows.append(
        [
            InlineKeyboardButton(
                "🔄 Refresh", callback_data=cb.ORDER_DETAIL.encode(order.id, status_code, page)
            ),
            InlineKeyboardButton(
                "‹ Orders", callback_data=cb.ORDERS_PAGE.encode(status_code, page)
            ),
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


async def orders_command(update: Update, context: ShopContext) -> None:
    """/orders (admins): the newest orders of every buyer, 8 a page, with status filters."""
    await reply_page(update, await _list_page(context.shop, "a", 0))


async def open_list(update: Update, context: ShopContext) -> None:
    """A filter, ‹ Back / Next › or ‹ Orders: that page of the list, in place."""
    if (tap := await tapped(update, cb.ORDERS_PAGE)) is None:
        return
    query, data = tap
    await turn_page(query, await _list_page(context.shop, data.word(0), data.id(1)))


async def open_detail(update: Update, context: ShopContext) -> None:
    """An order of the list (or Refresh): everything about it, with the actions it allows."""
    if (tap := await tapped(update, cb.ORDER_DETAIL)) is None:
        return
    query, data = tap
    order_id = data.id(0)
    order = await orders.get(context.shop.db.reader, order_id)
    if order is None:
        await query.answer(f"There is no order #{order_id}.", show_alert=True)
        return
    await query.answer()
    rows = await deliveries.for_order(context.shop.db.reader, order.id)
    markup = detail_keyboard(order, data.word(1), data.id(2))
    await show_page(query, detail_text(order, rows), markup)


async def resend(update: Update, context: ShopContext) -> None:
    """Resend goods: owe the buyer their goods once more; a unique key per tap, so each tap
    sends one copy."""
    if (tap := await tapped(update, cb.ORDER_RESEND)) is None:
        return
    query, data = tap
    shop, order_id = context.shop, data.id(0)
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
