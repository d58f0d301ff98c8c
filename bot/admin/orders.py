"""Admin: /orders across all buyers, an order's detail and Resend goods.

Buttons are `bot.callbacks`' `ao:` ones (ids and small codes only; shipping and refunds have
their own prefixes); every tap is re-checked with `admin_only`, because on a callback query
`filters.User` would look at the bot's own message.
"""

from __future__ import annotations

import math
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode

from bot import callbacks as cb
from bot.admin.order_texts import FILTERS, StatusFilter, detail_text, filter_label, list_text
from bot.context import ShopContext
from bot.shared import page_row, reply_page, show_page, tapped, turn_page
from bot.texts import what_was_bought
from shop import outbox
from shop.context import Shop
from shop.i18n import Lang
from shop.ids import ID_PATTERN
from storage import deliveries, orders
from storage.models import Order, ShippingStage

PAGE_SIZE = 8
_ORDER_ID = re.compile(rf"^#?({ID_PATTERN})$")


_FILTER_BY_CODE = {f.code: f for f in FILTERS}
assert tuple(_FILTER_BY_CODE) == cb.ORDER_FILTERS, "the codec spells the same filters"


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


# --- keyboards -----------------------------------------------------------------------------


def list_keyboard(
    lang: Lang, items: list[Order], status: StatusFilter, page: int, pages: int
) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                f"#{o.id} · {what_was_bought(lang, o, 32)}",
                callback_data=cb.ORDER_DETAIL.encode(o.id, status.code, page),
            )
        ]
        for o in items
    ]
    chips = [
        InlineKeyboardButton(
            ("• " if f.code == status.code else "") + filter_label(lang, f),
            callback_data=cb.ORDERS_PAGE.encode(f.code, 0),
        )
        for f in FILTERS
    ]
    rows += [chips[:3], chips[3:]]
    if pages > 1:
        rows.append(page_row(lang, cb.ORDERS_PAGE, page, pages, status.code))
    return InlineKeyboardMarkup(rows)


def detail_keyboard(lang: Lang, order: Order, status_code: str, page: int) -> InlineKeyboardMarkup:
    """Only the actions that fit the order's state: a physical order has no goods to resend
    but its shipping steps (bot/admin/shipping.py)."""

    def button(text: str, data: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(text, callback_data=data)

    rows = []
    if order.can_resend:
        rows.append([button(lang.t("📨 Resend goods"), cb.ORDER_RESEND.encode(order.id))])
    if order.can_ship:
        rows.append([button(lang.t("🚚 Mark shipped"), cb.SHIP.encode(order.id))])
    elif order.shipping_stage is ShippingStage.SHIPPED:
        label = lang.t("✏️ Correct tracking") if order.tracking else lang.t("✏️ Add tracking")
        rows.append(
            [
                button(label, cb.SHIP_TRACKING.encode(order.id)),
                button(lang.t("📬 Mark delivered"), cb.SHIP_DELIVERED.encode(order.id)),
            ]
        )
    if order.refundable_amount > 0:
        rows.append([button(lang.t("↩️ Refund…"), cb.REFUND.encode(order.id))])
    rows.append(
        [
            button(lang.t("🔄 Refresh"), cb.ORDER_DETAIL.encode(order.id, status_code, page)),
            button(lang.t("‹ Orders"), cb.ORDERS_PAGE.encode(status_code, page)),
        ]
    )
    return InlineKeyboardMarkup(rows)


# --- use-cases -----------------------------------------------------------------------------


async def _list_page(
    lang: Lang, shop: Shop, code: str, page: int
) -> tuple[str, InlineKeyboardMarkup]:
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
    text = list_text(lang, items, status, page, pages, total)
    return text, list_keyboard(lang, items, status, page, pages)


# --- handlers ------------------------------------------------------------------------------


async def orders_command(update: Update, context: ShopContext) -> None:
    """/orders (admins): the newest orders of every buyer, 8 a page, with status filters."""
    await reply_page(update, await _list_page(context.lang, context.shop, "a", 0))


async def open_list(update: Update, context: ShopContext) -> None:
    """A filter, ‹ Back / Next › or ‹ Orders: that page of the list, in place."""
    if (tap := await tapped(update, cb.ORDERS_PAGE)) is None:
        return
    query, data = tap
    page = await _list_page(context.lang, context.shop, data.word(0), data.id(1))
    await turn_page(query, page)


async def open_detail(update: Update, context: ShopContext) -> None:
    """An order of the list (or Refresh): everything about it, with the actions it allows."""
    if (tap := await tapped(update, cb.ORDER_DETAIL)) is None:
        return
    query, data = tap
    order_id, lang = data.id(0), context.lang
    order = await orders.get(context.shop.db.reader, order_id)
    if order is None:
        await query.answer(lang.t("There is no order #{order}.", order=order_id), show_alert=True)
        return
    await query.answer()
    rows = await deliveries.for_order(context.shop.db.reader, order.id)
    markup = detail_keyboard(lang, order, data.word(1), data.id(2))
    await show_page(query, detail_text(lang, order, rows), markup)


async def resend(update: Update, context: ShopContext) -> None:
    """Resend goods: owe the buyer their goods once more; a unique key per tap, so each tap
    sends one copy."""
    if (tap := await tapped(update, cb.ORDER_RESEND)) is None:
        return
    query, data = tap
    shop, order_id, lang = context.shop, data.id(0), context.lang
    if await outbox.send_again(shop.db, shop.wake_outbox, order_id, f"admin:{query.id}") is None:
        order = await orders.get(shop.db.reader, order_id)
        refusal = (
            lang.t("A physical order has no goods to send again: ship it, and the buyer is told.")
            if order is not None and order.is_paid
            else lang.t("Only paid orders can be sent again.")
        )
        await query.answer(refusal, show_alert=True)
        return
    await query.answer(lang.t("Sending order #{order} to the buyer again…", order=order_id))
