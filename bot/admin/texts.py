"""What the outbox tells the admins about orders, as Telegram HTML: a sale, a digest of many
sales, a problem that needs them. Buyer text is always escaped.
"""

from __future__ import annotations

from html import escape

from bot.texts import MAX_TEXT, clip, line_list, utf16_len, what_was_bought
from shop.i18n import ENGLISH
from shop.money import format_money
from storage.models import Order


def charge_note(order: Order) -> str:
    """For an admin, after the order's total: the discount and what was charged, when they
    differ from the total ("" otherwise)."""
    charged = order.amount_paid
    if not order.amount_discount and charged == order.amount_total:
        return ""
    discount = (
        f" · discount −{escape(format_money(order.amount_discount, order.currency))}"
        if order.amount_discount
        else ""
    )
    return f"{discount} · charged <b>{escape(format_money(charged, order.currency))}</b>"


def sale_alert(order: Order) -> str:
    total = format_money(order.amount_total, order.currency)
    bought = (
        f"{line_list(ENGLISH, order)}: <b>{escape(total)}</b>"
        if len(order.lines) == 1
        else f"{line_list(ENGLISH, order)}\nTotal: <b>{escape(total)}</b>"
    )
    text = (
        f"💰 <b>New sale</b> — order #{order.id}\n"
        f"{bought}{charge_note(order)}\n"
        f"Buyer: {escape(order.buyer_name) or 'unknown'} (id <code>{order.buyer_user_id}</code>)"
    )
    if order.ships:
        address = escape(order.shipping_address or "not collected")
        text += f"\n\n🚚 <b>Ship to</b>\n{address}\n\nWhen it's sent: /ship {order.id} [tracking]"
    return text


def sale_digest(orders: list[Order]) -> str:
    """Several sales in one admin message: counts and totals first, then as many lines as fit."""
    totals: dict[str, int] = {}
    for order in orders:
        totals[order.currency] = totals.get(order.currency, 0) + order.amount_paid
    summed = " + ".join(format_money(amount, currency) for currency, amount in totals.items())
    head = f"💰 <b>New sales: {len(orders)}</b> — <b>{escape(summed)}</b>\n"
    room = MAX_TEXT - utf16_len(head) - 80
    lines: list[str] = []
    for order in orders:
        line = _digest_line(order)
        if utf16_len(line) > room:
            break
        lines.append(line)
        room -= utf16_len(line)
    rest = len(orders) - len(lines)
    more = f"\n…and {rest} more: /orders" if rest else ""
    return head + "".join(lines) + more


def _digest_line(order: Order) -> str:
    total = format_money(order.amount_paid, order.currency)
    buyer = escape(clip(order.buyer_name, 32)) or "unknown"
    line = f"\n#{order.id} {escape(what_was_bought(ENGLISH, order, 40))}: {escape(total)} — {buyer}"
    if order.ships:
        address = escape(clip(order.shipping_address or "not collected", 80))
        line += f"\n    🚚 {address} → /ship {order.id}"
    return line


def problem_alert(order: Order, detail: str) -> str:
    return f"⚠️ <b>Order #{order.id} needs attention</b>\n{escape(detail)}"
