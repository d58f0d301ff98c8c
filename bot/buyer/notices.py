"""The order's own message (Pay, then the receipt with the goods) and the notices the outbox
sends a buyer, as Telegram HTML, rendered from the order at send time in the order's language
(bot/delivery.py passes it). Merchant text is always escaped and clipped so that a send can
never fail on Telegram's limits, whatever the length of our words in that language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape

from bot.texts import MAX_DELIVERY_TEXT, MAX_TEXT, clip, line_list, utf16_len, what_was_bought
from shop.i18n import Lang
from storage.models import Order, OrderLine, Product, ProductKind, Rail


def pay_message(lang: Lang, order: Order) -> str:
    """The order with its Pay button; the link's expiry with the zone spelled out (Telegram
    does not tell us the buyer's)."""
    return lang.t(
        "🧾 <b>Order #{number}</b>\n"
        "{lines}\n"
        "Total: <b>{total}</b>\n\n"
        "Tap the button below to pay securely with Stripe.\n"
        "The payment link expires on {expiry}.",
        number=order.id,
        lines=line_list(lang, order),
        total=escape(lang.money(order.amount_total, order.currency)),
        expiry=lang.moment(order.expires_at),
    )


def pay_button(lang: Lang, order: Order) -> str:
    return lang.t("Pay {total}", total=lang.money(order.amount_total, order.currency))


@dataclass(frozen=True)
class Delivered:
    """What the goods are made of besides the order: each product as it is now (for its
    delivery text; None once deleted) and this buyer's own stock items, by product id."""

    products: Mapping[int, Product | None]
    items: Mapping[int, list[str]]


def goods(lang: Lang, order: Order, delivered: Delivered, *, room: int) -> str:
    """What the buyer gets, line by line (a cart's lines each under its title and subtotal);
    the merchant's notes give way to the items if room is short, never the other way round:
    each line's note whole if all fit, else an equal share of the room each.

    A cart whose items alone overflow `room` (checkout refuses such carts, but a render must
    never fail) keeps whole lines while they fit and says how many lines' goods are left out,
    so no stock item is ever cut."""
    if len(order.lines) == 1:
        return _line_goods(lang, order, order.lines[0], delivered, room)
    share = max((room - 40 * len(order.lines)) // len(order.lines), 60)
    for note_room in (room, share):
        blocks = [
            _titled(lang, order, line, _line_goods(lang, order, line, delivered, note_room))
            for line in order.lines
        ]
        if utf16_len("\n\n".join(blocks)) <= room:
            return "\n\n".join(blocks)
    kept: list[str] = []
    used = utf16_len(_left_out(lang, len(blocks))) + 2  # the note about the lines left out
    for block in blocks:
        if used + utf16_len(block) + 2 > room:
            break
        kept.append(block)
        used += utf16_len(block) + 2
    left = len(blocks) - len(kept)
    if left:
        kept.append(_left_out(lang, left))
    return "\n\n".join(kept)


def _left_out(lang: Lang, lines: int) -> str:
    return lang.nt(
        "…the goods of {n} more line did not fit in this message: write to /paysupport and "
        "the merchant will send them.",
        "…the goods of {n} more lines did not fit in this message: write to /paysupport and "
        "the merchant will send them.",
        lines,
    )


def _titled(lang: Lang, order: Order, line: OrderLine, body: str) -> str:
    head = lang.t(
        "<b>{title}</b> × {quantity} — {subtotal}",
        title=escape(clip(line.title, 128)),
        quantity=lang.number(line.quantity),
        subtotal=escape(lang.money(line.subtotal, order.currency)),
    )
    return f"{head}\n{body}"


def _line_goods(lang: Lang, order: Order, line: OrderLine, delivered: Delivered, room: int) -> str:
    """One line's goods, by its kind."""
    product = delivered.products.get(line.product_id)
    note = product.delivery_text.strip() if product else ""
    if line.kind is ProductKind.DIGITAL_STOCK:
        items = delivered.items.get(line.product_id, [])
        body = "\n".join(f"<code>{escape(item)}</code>" for item in items)
        if len(items) < line.quantity:
            body += "\n" + lang.nt(
                "({n} more will follow from the merchant: they have been told.)",
                "({n} more will follow from the merchant: they have been told.)",
                line.quantity - len(items),
            )
    elif line.kind is ProductKind.PHYSICAL:
        body = _shipping(lang, order)
    elif line.kind is ProductKind.SERVICE:
        body = lang.t("Your booking is confirmed.")
    elif note:  # digital_text: the merchant's text is the goods
        return escape(clip(note, min(room, MAX_DELIVERY_TEXT)))
    else:
        return lang.t("The merchant will be in touch with you about your order shortly.")
    left = room - utf16_len(body) - 2
    if note and left > 20:
        body += "\n\n" + escape(clip(note, min(left, MAX_DELIVERY_TEXT)))
    return body


def _shipping(lang: Lang, order: Order) -> str:
    """Where a physical line goes, as the buyer gave it to Stripe."""
    if order.shipping_address:
        return lang.t(
            "We'll ship it to:\n{address}\nYou'll get a message here when it's on its way.",
            address=escape(order.shipping_address),
        )
    return lang.t(
        "We'll ship it to:\nthe address you gave at checkout\n"
        "You'll get a message here when it's on its way."
    )


def _price_lines(lang: Lang, order: Order) -> str:
    """The receipt's money lines: the price, what a code took off, shipping and tax when
    charged, and what was paid — so the buyer sees exactly what left their account."""
    paid = order.amount_paid
    extras = paid - (order.amount_total - order.amount_discount)

    def amount(value: int) -> str:
        return escape(lang.money(value, order.currency))

    lines = []
    if order.amount_discount or extras:
        lines.append(lang.t("Price: {amount}", amount=amount(order.amount_total)))
    if order.amount_discount:
        lines.append(lang.t("Discount: −{amount}", amount=amount(order.amount_discount)))
    if extras > 0:
        lines.append(lang.t("Shipping and tax: {amount}", amount=amount(extras)))
    lines.append(lang.t("Total paid: <b>{amount}</b>", amount=amount(paid)))
    return "\n".join(lines)


def receipt(lang: Lang, order: Order, delivered: Delivered) -> str:
    """The order message once paid: confirmation plus the goods (edited in, so idempotent)."""
    # A cart's lines are listed once, each with its goods; a one-line order names it up top.
    listed = f"{line_list(lang, order)}\n" if len(order.lines) == 1 else ""
    head = (
        lang.t("✅ <b>Paid — order #{number}</b>", number=order.id)
        + f"\n{listed}{_price_lines(lang, order)}\n{_refunded_line(lang, order)}\n"
        + lang.t("📦 <b>Your purchase</b>")
        + "\n"
    )
    return head + goods(lang, order, delivered, room=MAX_TEXT - utf16_len(head) - 100)


def _refunded_line(lang: Lang, order: Order) -> str:
    if not order.amount_refunded:
        return ""
    paid = order.amount_paid
    if order.amount_refunded >= paid:
        return lang.t("💳 <b>Refunded in full</b>") + "\n"
    refunded = lang.t(
        "💳 Refunded: <b>{refunded}</b> of {paid}",
        refunded=escape(lang.money(order.amount_refunded, order.currency)),
        paid=escape(lang.money(paid, order.currency)),
    )
    return refunded + "\n"


def _order_head(lang: Lang, order: Order, heading: str) -> str:
    """A dead order message's top: its `heading` line, the lines and the total."""
    total = lang.t("Total: {total}", total=escape(lang.money(order.amount_total, order.currency)))
    return f"{heading}\n{line_list(lang, order)}\n{total}\n\n"


def order_processing(lang: Lang, order: Order) -> str:
    """The order message once a delayed payment (a bank debit) is on its way: no Pay button."""
    heading = lang.t("⏳ <b>Payment being confirmed — order #{number}</b>", number=order.id)
    return _order_head(lang, order, heading) + lang.t(
        "Your bank is confirming the payment; this can take a few days with some methods. "
        "The goods will appear here as soon as it clears."
    )


def order_failed(lang: Lang, order: Order) -> str:
    heading = lang.t("❌ <b>Payment failed — order #{number}</b>", number=order.id)
    return _order_head(lang, order, heading) + lang.t(
        "The payment was declined, so nothing was charged. "
        "Tap below to try again, with another method if you like."
    )


def order_held(lang: Lang, order: Order) -> str:
    """A payment taken but not accepted (see `held_notice`): no goods here, ever; a refund the
    merchant gives is noted."""
    heading = lang.t(
        "💳 <b>Payment received — awaiting the merchant's check — order #{number}</b>",
        number=order.id,
    )
    body = lang.t(
        "Nothing is delivered until the merchant has looked; they will deliver it or refund "
        "you. Please don't pay again."
    )
    return _order_head(lang, order, heading) + body + "\n" + _refunded_line(lang, order)


def order_expired(lang: Lang, order: Order, *, cancelled: bool) -> str:
    if cancelled:
        heading = lang.t("✖️ <b>Cancelled — order #{number}</b>", number=order.id)
        return _order_head(lang, order, heading) + lang.t(
            "You cancelled the payment: nothing was charged and the payment link is closed. "
            "Changed your mind? Tap below."
        )
    heading = lang.t("⌛ <b>Payment link expired — order #{number}</b>", number=order.id)
    return _order_head(lang, order, heading) + lang.t(
        "Nothing was charged. Still interested? Tap below to get a fresh link."
    )


def paid_notice(lang: Lang, order: Order) -> str:
    return lang.t(
        "🎉 Payment received for order #{number}. "
        "Everything you bought is in the order message above. Thank you!",
        number=order.id,
    )


def resend(lang: Lang, order: Order, delivered: Delivered) -> str:
    head = lang.t(
        "📦 <b>Order #{number}</b> — {goods}",
        number=order.id,
        goods=escape(what_was_bought(lang, order)),
    )
    head += "\n\n"
    return head + goods(lang, order, delivered, room=MAX_TEXT - utf16_len(head) - 100)


def processing_notice(lang: Lang, order: Order) -> str:
    return lang.t(
        "⏳ Thanks! Your payment for order #{number} is being confirmed by your bank. "
        "This can take a few days with some payment methods; we'll deliver as soon as it clears.",
        number=order.id,
    )


def held_notice(lang: Lang, order: Order) -> str:
    """Money was taken but did not match the order: nothing is delivered until the merchant
    has looked, and the buyer must not pay again."""
    return lang.t(
        "💳 We received your payment for order #{number} ({goods}), but it needs a check by "
        "the merchant before we can deliver. They will deliver it or refund you — please don't "
        "pay again.",
        number=order.id,
        goods=escape(what_was_bought(lang, order)),
    )


def failed_notice(lang: Lang, order: Order) -> str:
    return lang.t(
        "❌ The payment for order #{number} ({goods}) did not go through, so nothing was "
        "charged. You can try again with another method.",
        number=order.id,
        goods=escape(what_was_bought(lang, order)),
    )


def expired_notice(lang: Lang, order: Order) -> str:
    """A Stars order's invoice is deleted as it expires (bot/delivery.py): this says why."""
    values = {"number": order.id, "goods": escape(what_was_bought(lang, order))}
    if order.rail is Rail.STARS:
        return lang.t(
            "⌛ Your invoice for order #{number} ({goods}) expired. Still interested? Tap below "
            "to get a fresh one.",
            **values,
        )
    return lang.t(
        "⌛ Your payment link for order #{number} ({goods}) expired. Still interested? Tap "
        "below to get a fresh one.",
        **values,
    )


def shipped_notice(lang: Lang, order: Order) -> str:
    text = lang.t(
        "🚚 Your order #{number} ({goods}) is on its way!",
        number=order.id,
        goods=escape(what_was_bought(lang, order)),
    )
    if order.tracking:
        text += "\n" + lang.t("Tracking: <code>{tracking}</code>", tracking=escape(order.tracking))
    return text


def tracking_notice(lang: Lang, order: Order, tracking: str) -> str:
    """A tracking number added or corrected after the order shipped (one notice per change)."""
    return lang.t(
        "🚚 Your order #{number} ({goods}) has a new tracking number: <code>{tracking}</code>",
        number=order.id,
        goods=escape(what_was_bought(lang, order)),
        tracking=escape(tracking),
    )


def after_payment_notice(lang: Lang, order: Order) -> str:
    """The short push after the receipt: a physical order's goods are not in any message."""
    if order.can_resend:
        return paid_notice(lang, order)
    return lang.t(
        "🎉 Payment received for order #{number}. We'll ship it to the address you gave "
        "and send you a message here when it's on its way. Thank you!",
        number=order.id,
    )


def refund_notice(lang: Lang, order: Order) -> str:
    """What was given back, as the order says at send time (the notice is owed once per new
    refunded total, and sent within moments of it), and where the money goes."""
    values = {"number": order.id, "goods": escape(what_was_bought(lang, order))}
    if order.amount_refunded >= order.amount_paid:
        what = lang.t("↩️ Your order #{number} ({goods}) was fully refunded.", **values)
    else:
        what = lang.t(
            "↩️ Your order #{number} ({goods}) was refunded {refunded} of {paid}.",
            refunded=escape(lang.money(order.amount_refunded, order.currency)),
            paid=escape(lang.money(order.amount_paid, order.currency)),
            **values,
        )
    if order.rail is Rail.STARS:
        return what + " " + lang.t("The Stars are back in your Telegram balance.")
    return what + " " + lang.t("The money goes back to your card; banks take 5–10 days to show it.")
