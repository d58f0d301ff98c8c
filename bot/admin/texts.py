"""What the outbox tells the admins about orders, as Telegram HTML: a sale, a digest of many
sales, a problem that needs them. In the admin's own language (the one bot/language.py stored
for them: these are sent outside any update of theirs); buyer text is always escaped.
"""

from __future__ import annotations

from html import escape

from bot.texts import MAX_TEXT, clip, line_list, utf16_len, what_was_bought
from shop.i18n import Lang
from shop.said import worded
from storage.models import Order


def charge_note(lang: Lang, order: Order) -> str:
    """For an admin, after the order's total: the discount and what was charged, when they
    differ from the total ("" otherwise)."""
    charged = order.amount_paid
    if not order.amount_discount and charged == order.amount_total:
        return ""
    paid = escape(lang.money(charged, order.currency))
    if not order.amount_discount:
        return lang.t(" · charged <b>{charged}</b>", charged=paid)
    return lang.t(
        " · discount −{discount} · charged <b>{charged}</b>",
        discount=escape(lang.money(order.amount_discount, order.currency)),
        charged=paid,
    )


def _buyer(lang: Lang, name: str) -> str:
    return escape(name) or lang.t("unknown")


def sale_alert(lang: Lang, order: Order) -> str:
    total = escape(lang.money(order.amount_total, order.currency))
    lines = line_list(lang, order)
    bought = (
        lang.t("{line}: <b>{total}</b>", line=lines, total=total)
        if len(order.lines) == 1
        else lang.t("{lines}\nTotal: <b>{total}</b>", lines=lines, total=total)
    )
    text = lang.t(
        "💰 <b>New sale</b> — order #{order}\n{bought}{charge}\n"
        "Buyer: {buyer} (id <code>{buyer_id}</code>)",
        order=order.id,
        bought=bought,
        charge=charge_note(lang, order),
        buyer=_buyer(lang, order.buyer_name),
        buyer_id=order.buyer_user_id,
    )
    if order.ships:
        address = escape(order.shipping_address or "") or lang.t("not collected")
        text += "\n\n" + lang.t(
            "🚚 <b>Ship to</b>\n{address}\n\nWhen it's sent: /ship {order} [tracking]",
            address=address,
            order=order.id,
        )
    return text


def sale_digest(lang: Lang, orders: list[Order]) -> str:
    """Several sales in one admin message: counts and totals first, then as many lines as fit."""
    totals: dict[str, int] = {}
    for order in orders:
        totals[order.currency] = totals.get(order.currency, 0) + order.amount_paid
    summed = " + ".join(lang.money(amount, currency) for currency, amount in totals.items())
    head = lang.nt(
        "💰 <b>New sales: {n}</b> — <b>{total}</b>",
        "💰 <b>New sales: {n}</b> — <b>{total}</b>",
        len(orders),
        total=escape(summed),
    )
    head += "\n"
    room = MAX_TEXT - utf16_len(head) - 80
    lines: list[str] = []
    for order in orders:
        line = _digest_line(lang, order)
        if utf16_len(line) > room:
            break
        lines.append(line)
        room -= utf16_len(line)
    rest = len(orders) - len(lines)
    more = "\n" + lang.nt("…and {n} more: /orders", "…and {n} more: /orders", rest) if rest else ""
    return head + "".join(lines) + more


def _digest_line(lang: Lang, order: Order) -> str:
    line = "\n" + lang.t(
        "#{order} {bought}: {total} — {buyer}",
        order=order.id,
        bought=escape(what_was_bought(lang, order, 40)),
        total=escape(lang.money(order.amount_paid, order.currency)),
        buyer=_buyer(lang, clip(order.buyer_name, 32)),
    )
    if order.ships:
        address = escape(clip(order.shipping_address or "", 80)) or lang.t("not collected")
        line += "\n    " + lang.t("🚚 {address} → /ship {order}", address=address, order=order.id)
    return line


def problem_alert(lang: Lang, order: Order, detail: str) -> str:
    """A problem an admin must look at; `detail` was stored with the alert when it happened
    (shop/said.py) and is worded now, in this admin's language."""
    return lang.t(
        "⚠️ <b>Order #{order} needs attention</b>\n{detail}",
        order=order.id,
        detail=escape(worded(lang, detail)),
    )
