"""The order's own message (Pay, then the receipt with the goods) and the notices the outbox
sends a buyer, as Telegram HTML, rendered from the order at send time. Merchant text is always
escaped and clipped so that a send can never fail on Telegram's limits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape

from bot.texts import MAX_DELIVERY_TEXT, MAX_TEXT, clip, line_list, utf16_len, what_was_bought
from shop.i18n import ENGLISH
from shop.money import format_money
from storage.models import Order, OrderLine, Product, ProductKind, Rail


def _expiry(expires_at: int) -> str:
    moment = dt.datetime.fromtimestamp(expires_at, dt.UTC)
    return moment.strftime("%H:%M UTC on %d %b")


def pay_message(order: Order) -> str:
    total = format_money(order.amount_total, order.currency)
    return (
        f"🧾 <b>Order #{order.id}</b>\n"
        f"{line_list(ENGLISH, order)}\n"
        f"Total: <b>{escape(total)}</b>\n\n"
        "Tap the button below to pay securely with Stripe.\n"
        f"The payment link expires at {_expiry(order.expires_at)}."
    )


def pay_button(order: Order) -> str:
    return f"Pay {format_money(order.amount_total, order.currency)}"


@dataclass(frozen=True)
class Delivered:
    """What the goods are made of besides the order: each product as it is now (for its
    delivery text; None once deleted) and this buyer's own stock items, by product id."""

    products: Mapping[int, Product | None]
    items: Mapping[int, list[str]]


def goods(order: Order, delivered: Delivered, *, room: int) -> str:
    """What the buyer gets, line by line (a cart's lines each under its title and subtotal);
    the merchant's notes give way to the items if room is short, never the other way round:
    each line's note whole if all fit, else an equal share of the room each.

    A cart whose items alone overflow `room` (checkout refuses such carts, but a render must
    never fail) keeps whole lines while they fit and says how many lines' goods are left out,
    so no stock item is ever cut."""
    if len(order.lines) == 1:
        return _line_goods(order, order.lines[0], delivered, room)
    share = max((room - 40 * len(order.lines)) // len(order.lines), 60)
    for note_room in (room, share):
        blocks = [
            _titled(order, line, _line_goods(order, line, delivered, note_room))
            for line in order.lines
        ]
        if utf16_len("\n\n".join(blocks)) <= room:
            return "\n\n".join(blocks)
    kept: list[str] = []
    used = 120  # what the note about the lines left out takes
    for block in blocks:
        if used + utf16_len(block) + 2 > room:
            break
        kept.append(block)
        used += utf16_len(block) + 2
    left = len(blocks) - len(kept)
    if left:
        kept.append(
            f"…the goods of {left} more line{'' if left == 1 else 's'} did not fit in this "
            "message: write to /paysupport and the merchant will send them."
        )
    return "\n\n".join(kept)


def _titled(order: Order, line: OrderLine, body: str) -> str:
    subtotal = escape(format_money(line.subtotal, order.currency))
    return f"<b>{escape(clip(line.title, 128))}</b> × {line.quantity} — {subtotal}\n{body}"


def _line_goods(order: Order, line: OrderLine, delivered: Delivered, room: int) -> str:
    """One line's goods, by its kind."""
    product = delivered.products.get(line.product_id)
    note = product.delivery_text.strip() if product else ""
    if line.kind is ProductKind.DIGITAL_STOCK:
        items = delivered.items.get(line.product_id, [])
        body = "\n".join(f"<code>{escape(item)}</code>" for item in items)
        if len(items) < line.quantity:
            missing = line.quantity - len(items)
            body += f"\n({missing} more will follow from the merchant: they have been told.)"
    elif line.kind is ProductKind.PHYSICAL:
        address = escape(order.shipping_address or "the address you gave at checkout")
        body = f"We'll ship it to:\n{address}\nYou'll get a message here when it's on its way."
    elif line.kind is ProductKind.SERVICE:
        body = "Your booking is confirmed."
    elif note:  # digital_text: the merchant's text is the goods
        return escape(clip(note, min(room, MAX_DELIVERY_TEXT)))
    else:
        return "The merchant will be in touch with you about your order shortly."
    left = room - utf16_len(body) - 2
    if note and left > 20:
        body += "\n\n" + escape(clip(note, min(left, MAX_DELIVERY_TEXT)))
    return body


def _price_lines(order: Order) -> str:
    """The receipt's money lines: the price, what a code took off, shipping and tax when
    charged, and what was paid — so the buyer sees exactly what left their account."""
    paid = order.amount_paid
    extras = paid - (order.amount_total - order.amount_discount)
    lines = []
    if order.amount_discount or extras:
        lines.append(f"Price: {escape(format_money(order.amount_total, order.currency))}")
    if order.amount_discount:
        discount = format_money(order.amount_discount, order.currency)
        lines.append(f"Discount: −{escape(discount)}")
    if extras > 0:
        lines.append(f"Shipping and tax: {escape(format_money(extras, order.currency))}")
    lines.append(f"Total paid: <b>{escape(format_money(paid, order.currency))}</b>")
    return "\n".join(lines)


def receipt(order: Order, delivered: Delivered) -> str:
    """The order message once paid: confirmation plus the goods (edited in, so idempotent)."""
    # A cart's lines are listed once, each with its goods; a one-line order names it up top.
    listed = f"{line_list(ENGLISH, order)}\n" if len(order.lines) == 1 else ""
    head = (
        f"✅ <b>Paid — order #{order.id}</b>\n"
        f"{listed}"
        f"{_price_lines(order)}\n{_refunded_line(order)}\n"
        "📦 <b>Your purchase</b>\n"
    )
    return head + goods(order, delivered, room=MAX_TEXT - utf16_len(head) - 100)


def _refunded_line(order: Order) -> str:
    if not order.amount_refunded:
        return ""
    paid = order.amount_paid
    if order.amount_refunded >= paid:
        return "💳 <b>Refunded in full</b>\n"
    refunded = format_money(order.amount_refunded, order.currency)
    of_paid = format_money(paid, order.currency)
    return f"💳 Refunded: <b>{escape(refunded)}</b> of {escape(of_paid)}\n"


def _order_head(order: Order, icon: str, state: str) -> str:
    total = format_money(order.amount_total, order.currency)
    lines = line_list(ENGLISH, order)
    return f"{icon} <b>{state} — order #{order.id}</b>\n{lines}\nTotal: {escape(total)}\n\n"


def order_processing(order: Order) -> str:
    """The order message once a delayed payment (a bank debit) is on its way: no Pay button."""
    return _order_head(order, "⏳", "Payment being confirmed") + (
        "Your bank is confirming the payment; this can take a few days with some methods. "
        "The goods will appear here as soon as it clears."
    )


def order_failed(order: Order) -> str:
    return _order_head(order, "❌", "Payment failed") + (
        "The payment was declined, so nothing was charged. "
        "Tap below to try again, with another method if you like."
    )


def order_held(order: Order) -> str:
    """A payment taken but not accepted (see `held_notice`): no goods here, ever; a refund the
    merchant gives is noted."""
    return _order_head(order, "💳", "Payment received — awaiting the merchant's check") + (
        "Nothing is delivered until the merchant has looked; they will deliver it or refund "
        "you. Please don't pay again.\n" + _refunded_line(order)
    )


def order_expired(order: Order, *, cancelled: bool) -> str:
    if cancelled:
        return _order_head(order, "✖️", "Cancelled") + (
            "You cancelled the payment: nothing was charged and the payment link is closed. "
            "Changed your mind? Tap below."
        )
    return _order_head(order, "⌛", "Payment link expired") + (
        "Nothing was charged. Still interested? Tap below to get a fresh link."
    )


def paid_notice(order: Order) -> str:
    return (
        f"🎉 Payment received for order #{order.id}. "
        "Everything you bought is in the order message above. Thank you!"
    )


def resend(order: Order, delivered: Delivered) -> str:
    head = f"📦 <b>Order #{order.id}</b> — {escape(what_was_bought(ENGLISH, order))}\n\n"
    return head + goods(order, delivered, room=MAX_TEXT - utf16_len(head) - 100)


def processing_notice(order: Order) -> str:
    return (
        f"⏳ Thanks! Your payment for order #{order.id} is being confirmed by your bank. "
        "This can take a few days with some payment methods; we'll deliver as soon as it clears."
    )


def held_notice(order: Order) -> str:
    """Money was taken but did not match the order: nothing is delivered until the merchant
    has looked, and the buyer must not pay again."""
    return (
        f"💳 We received your payment for order #{order.id} "
        f"({escape(what_was_bought(ENGLISH, order))}), but it needs a check by the merchant "
        "before we can deliver. They will deliver it or refund you — please don't pay again."
    )


def failed_notice(order: Order) -> str:
    return (
        f"❌ The payment for order #{order.id} ({escape(what_was_bought(ENGLISH, order))}) "
        "did not go through, so nothing was charged. You can try again with another method."
    )


def expired_notice(order: Order) -> str:
    """A Stars order's invoice is deleted as it expires (bot/delivery.py): this says why."""
    link = "invoice" if order.rail is Rail.STARS else "payment link"
    return (
        f"⌛ Your {link} for order #{order.id} ({escape(what_was_bought(ENGLISH, order))}) "
        "expired. Still interested? Tap below to get a fresh one."
    )


def shipped_notice(order: Order) -> str:
    tracking = f"\nTracking: <code>{escape(order.tracking)}</code>" if order.tracking else ""
    goods = escape(what_was_bought(ENGLISH, order))
    return f"🚚 Your order #{order.id} ({goods}) is on its way!{tracking}"


def tracking_notice(order: Order, tracking: str) -> str:
    """A tracking number added or corrected after the order shipped (one notice per change)."""
    return (
        f"🚚 Your order #{order.id} ({escape(what_was_bought(ENGLISH, order))}) has a new "
        f"tracking number: <code>{escape(tracking)}</code>"
    )


def after_payment_notice(order: Order) -> str:
    """The short push after the receipt: a physical order's goods are not in any message."""
    if order.can_resend:
        return paid_notice(order)
    return (
        f"🎉 Payment received for order #{order.id}. We'll ship it to the address you gave "
        "and send you a message here when it's on its way. Thank you!"
    )


def refund_notice(order: Order, what: str) -> str:
    """`what` says how much, decided when the refund was recorded ("refunded €5.00")."""
    where = (
        "The Stars are back in your Telegram balance."
        if order.rail is Rail.STARS
        else "The money goes back to your card; banks take 5–10 days to show it."
    )
    goods = escape(what_was_bought(ENGLISH, order))
    return f"↩️ Your order #{order.id} ({goods}) was {escape(what)}. {where}"
