"""What /orders and an order's detail say: the list's filters, the lines of the list, and
everything about one order — in the admin's language, merchant and buyer text escaped, within
Telegram's limits. The handlers and buttons are bot/admin/orders.py's."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from bot.admin.texts import charge_note
from bot.texts import MAX_LISTED_LINES, clip, order_state, what_was_bought
from shop.i18n import N_, Lang
from shop.said import worded
from storage.models import Delivery, DeliveryKind, Order, OrderStatus, ProductKind, Rail

S = OrderStatus


@dataclass(frozen=True)
class StatusFilter:
    """A filter button of the list: its one-letter code in callback data and the states."""

    code: str
    statuses: frozenset[OrderStatus] | None
    to_ship: bool = False  # paid physical orders not shipped yet (the stage, not a status)


FILTERS = (
    StatusFilter("a", None),
    StatusFilter("s", None, to_ship=True),
    StatusFilter("w", frozenset({S.PENDING, S.AWAITING_PAYMENT, S.PROCESSING})),
    StatusFilter("p", frozenset({S.PAID, S.FULFILLED})),
    StatusFilter("r", frozenset({S.REFUNDED, S.PARTIALLY_REFUNDED})),
    StatusFilter("x", frozenset({S.FAILED, S.EXPIRED})),
)
_FILTER_LABELS = {
    "a": N_("All"),
    "s": N_("To ship"),
    "w": N_("Awaiting payment"),
    "p": N_("Paid"),
    "r": N_("Refunded"),
    "x": N_("Failed/expired"),
}
# A product line's kind, in the detail's words ("product #3, physical").
_KIND_NAMES = {
    ProductKind.DIGITAL_TEXT: N_("digital text"),
    ProductKind.DIGITAL_STOCK: N_("digital stock"),
    ProductKind.PHYSICAL: N_("physical"),
    ProductKind.SERVICE: N_("service"),
}
# A message the outbox owes (storage/deliveries.py's states).
_SENDING = {"pending": N_("pending"), "sent": N_("sent"), "failed": N_("failed")}


def filter_label(lang: Lang, status: StatusFilter) -> str:
    return lang.t(_FILTER_LABELS[status.code])


def sending_state(lang: Lang, row: Delivery) -> str:
    """Where a message the outbox owes is: pending, sent or failed."""
    return lang.t(_SENDING[row.status]) if row.status in _SENDING else row.status


def when(lang: Lang, timestamp: int | None) -> str:
    """A moment for admins, in their locale and in UTC (the zone spelled out, as Telegram does
    not tell us theirs)."""
    return "—" if timestamp is None else lang.moment(timestamp)


def money(lang: Lang, amount: int, currency: str) -> str:
    """An amount for an HTML message (Babel's output escaped, as all text is)."""
    return escape(lang.money(amount, currency))


def buyer_name(lang: Lang, order: Order, width: int) -> str:
    """The buyer's name as Telegram gave it (escaped, clipped), or "unknown"."""
    return escape(clip(order.buyer_name, width)) or lang.t("unknown")


# --- texts ---------------------------------------------------------------------------------


def _list_line(lang: Lang, order: Order) -> str:
    buyer = escape(clip(order.buyer_name, 32)) or lang.t("unknown buyer")
    return (
        f"<b>#{order.id}</b> · {escape(what_was_bought(lang, order, 40))}"
        f" · {money(lang, order.amount_total, order.currency)} · {order_state(lang, order)}"
        f" · {buyer}"
    )


def list_text(
    lang: Lang, items: list[Order], status: StatusFilter, page: int, pages: int, total: int
) -> str:
    shown = filter_label(lang, status)
    if pages > 1:
        head = lang.t(
            "📋 <b>Orders</b> · {filter} · page {page} of {pages}",
            filter=escape(shown),
            page=page + 1,
            pages=pages,
        )
    else:
        head = lang.t("📋 <b>Orders</b> · {filter}", filter=escape(shown))
    if not items:
        return head + "\n\n" + lang.t("No orders here yet.")
    count = lang.nt("({n} order)", "({n} orders)", total)
    return "\n".join([f"{head} {count}", "", *(_list_line(lang, o) for o in items)])


def _delivery_line(lang: Lang, goods: list[Delivery]) -> str:
    if not goods:
        return lang.t("— (nothing owed before payment)")
    row = goods[-1]
    if row.status == "sent":
        return lang.t("✅ goods sent")
    if row.status == "failed":
        error = escape(clip(row.last_error or lang.t("unknown error"), 200))
        return lang.t("❌ failed: {error}", error=error)
    if not row.attempts:
        return lang.t("⏳ pending")
    if not row.last_error:
        return lang.nt(
            "⏳ pending after {n} attempt", "⏳ pending after {n} attempts", row.attempts
        )
    return lang.nt(
        "⏳ pending after {n} attempt ({error})",
        "⏳ pending after {n} attempts ({error})",
        row.attempts,
        error=escape(clip(row.last_error, 120)),
    )


def _payment_lines(lang: Lang, order: Order) -> list[str]:
    """The ids the payment's rail knows it by: what the admin looks up or refunds by hand."""
    if order.rail is Rail.STARS:
        charge = escape(clip(order.telegram_payment_charge_id or "—", 100))
        return [lang.t("Paid in Telegram Stars · charge: <code>{charge}</code>", charge=charge)]
    session = escape(clip(order.checkout_session_id or "—", 100))
    intent = escape(clip(order.payment_intent_id or "—", 100))
    return [
        lang.t("Checkout session: <code>{session}</code>", session=session),
        lang.t("Payment intent: <code>{intent}</code>", intent=intent),
    ]


def detail_text(lang: Lang, order: Order, rows: list[Delivery]) -> str:
    """Everything an admin needs to answer a buyer about one order."""
    by_kind: dict[DeliveryKind, list[Delivery]] = {}
    for row in rows:
        by_kind.setdefault(row.kind, []).append(row)
    goods = _delivery_line(lang, by_kind.get(DeliveryKind.GOODS, []))
    lines = [
        lang.t(
            "🧾 <b>Order #{order}</b> · {state}", order=order.id, state=order_state(lang, order)
        ),
        lang.t(
            "Buyer: <b>{buyer}</b> (id <code>{buyer_id}</code>)",
            buyer=buyer_name(lang, order, 64),
            buyer_id=order.buyer_user_id,
        ),
        *_product_lines(lang, order),
        lang.t(
            "Total: <b>{total}</b>{charge} · refunded: {refunded}",
            total=money(lang, order.amount_total, order.currency),
            charge=charge_note(lang, order),
            refunded=money(lang, order.amount_refunded, order.currency),
        ),
        lang.t(
            "Created: {created} · paid: {paid}",
            created=when(lang, order.created_at),
            paid=when(lang, order.paid_at),
        ),
        *_payment_lines(lang, order),
        lang.t("Delivery: {state}", state=goods)
        if order.carries_goods
        else lang.t("Receipt: {state}", state=goods),
    ]
    lines += _after_lines(lang, order, by_kind)
    return "\n".join(lines)


def _after_lines(
    lang: Lang, order: Order, by_kind: dict[DeliveryKind, list[Delivery]]
) -> list[str]:
    """What happened after the payment: copies sent again, a problem, the way to the buyer."""
    lines = []
    resends = by_kind.get(DeliveryKind.RESEND, [])
    if resends:
        lines.append(
            lang.nt(
                "Resent: {n}× (last: {state})",
                "Resent: {n}× (last: {state})",
                len(resends),
                state=sending_state(lang, resends[-1]),
            )
        )
    if order.failure_reason:
        reason = worded(lang, order.failure_reason)
        lines.append(lang.t("Problem: {reason}", reason=escape(clip(reason, 300))))
    if order.ships:
        address = escape(clip(order.shipping_address or "", 600)) or lang.t("no address collected")
        lines += ["", lang.t("📍 <b>Ship to</b>\n{address}", address=address)]
        lines += _shipping_lines(lang, order, by_kind)
    return lines


def _product_lines(lang: Lang, order: Order) -> list[str]:
    """Each line as sold, with the product's id and kind (the admin's way to the product)."""
    several = len(order.lines) > 1
    shown = []
    for line in order.lines[:MAX_LISTED_LINES]:
        values = {
            "title": escape(clip(line.title, 48 if several else 128)),
            "quantity": line.quantity,
            "product": line.product_id,
            "kind": lang.t(_KIND_NAMES[line.kind]),
        }
        if several:
            shown.append(
                lang.t(
                    "{title} × {quantity} (product #{product}, {kind}) — {subtotal}",
                    subtotal=money(lang, line.subtotal, order.currency),
                    **values,
                )
            )
        else:
            shown.append(lang.t("{title} × {quantity} (product #{product}, {kind})", **values))
    if not several:
        return [lang.t("Product: {line}", line=shown[0])]
    more = len(order.lines) - len(shown)
    tail = [lang.nt("…and {n} more", "…and {n} more", more)] if more else []
    head = lang.nt("Products ({n}):", "Products ({n}):", len(order.lines))
    return [head, *(f"• {line}" for line in shown), *tail]


def _shipping_lines(
    lang: Lang, order: Order, by_kind: dict[DeliveryKind, list[Delivery]]
) -> list[str]:
    if order.shipped_at is None:
        return [lang.t("🚚 Not shipped yet")]
    line = lang.t("🚚 Shipped {when}", when=when(lang, order.shipped_at))
    if order.tracking:
        line += lang.t(" · tracking <code>{number}</code>", number=escape(order.tracking))
    notice = [
        *by_kind.get(DeliveryKind.SHIPPED_NOTICE, []),
        *by_kind.get(DeliveryKind.TRACKING_NOTICE, []),
    ]
    if notice:
        line += lang.t(" · buyer told: {state}", state=sending_state(lang, notice[-1]))
    lines = [line]
    if order.delivered_at is not None:
        lines.append(lang.t("📬 Delivered {when}", when=when(lang, order.delivered_at)))
    return lines
