"""The order's own message (Pay, then the receipt with the goods) and the notices the outbox
sends a buyer, as Telegram HTML, rendered from the order at send time. Merchant text is always
escaped and clipped so that a send can never fail on Telegram's limits.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from bot.texts import MAX_DELIVERY_TEXT, MAX_TEXT, clip, utf16_len
from shop.money import format_money
from storage.models import Order, Product, ProductKind


def _expiry(expires_at: int) -> str:
    moment = dt.datetime.fromtimestamp(expires_at, dt.UTC)
    return moment.strftime("%H:%M UTC on %d %b")


def pay_message(order: Order) -> str:
    total = format_money(order.amount_total, order.currency)
    return (
        f"🧾 <b>Order #{order.id}</b>\n"
        f"{escape(order.product_title)} × {order.quantity}\n"
        f"Total: <b>{escape(total)}</b>\n\n"
        "Tap the button below to pay securely with Stripe.\n"
        f"The payment link expires at {_expiry(order.expires_at)}."
    )


def pay_button(order: Order) -> str:
    return f"Pay {format_money(order.amount_total, order.currency)}"


def goods(order: Order, product: Product | None, items: list[str], *, room: int) -> str:
    """What the buyer gets, by kind; the merchant's text gives way to the items if needed."""
    note = product.delivery_text.strip() if product else ""
    kind = order.product_kind
    if kind is ProductKind.DIGITAL_STOCK:
        shown = "\n".join(f"<code>{escape(item)}</code>" for item in items)
        if len(items) < order.quantity:
            shown += "\n(The rest will follow from the merchant.)"
        body = shown
    elif kind is ProductKind.PHYSICAL:
        address = escape(order.shipping_address or "the address you gave at checkout")
        body = f"We'll ship it to:\n{address}\nYou'll get a message here when it's on its way."
    elif kind is ProductKind.SERVICE:
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


def receipt(order: Order, product: Product | None, items: list[str] | None = None) -> str:
    """The order message once paid: confirmation plus the goods (edited in, so idempotent)."""
    head = (
        f"✅ <b>Paid — order #{order.id}</b>\n"
        f"{escape(clip(order.product_title, 128))} × {order.quantity}\n"
        f"{_price_lines(order)}\n{_refunded_line(order)}\n"
        "📦 <b>Your purchase</b>\n"
    )
    return head + goods(order, product, items or [], room=MAX_TEXT - len(head) - 100)


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
    return (
        f"{icon} <b>{state} — order #{order.id}</b>\n"
        f"{escape(clip(order.product_title, 128))} × {order.quantity}\n"
        f"Total: {escape(total)}\n\n"
    )


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


def resend(order: Order, product: Product | None, items: list[str] | None = None) -> str:
    head = f"📦 <b>Order #{order.id}</b> — {escape(clip(order.product_title, 128))}\n\n"
    return head + goods(order, product, items or [], room=MAX_TEXT - len(head) - 100)


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
        f"({escape(clip(order.product_title, 128))}), but it needs a check by the merchant "
        "before we can deliver. They will deliver it or refund you — please don't pay again."
    )


def failed_notice(order: Order) -> str:
    return (
        f"❌ The payment for order #{order.id} ({escape(clip(order.product_title, 128))}) "
        "did not go through, so nothing was charged. You can try again with another method."
    )


def expired_notice(order: Order) -> str:
    return (
        f"⌛ Your payment link for order #{order.id} ({escape(clip(order.product_title, 128))}) "
        "expired. Still interested? Tap below to get a fresh one."
    )


def shipped_notice(order: Order) -> str:
    tracking = f"\nTracking: <code>{escape(order.tracking)}</code>" if order.tracking else ""
    return (
        f"🚚 Your order #{order.id} ({escape(clip(order.product_title, 128))}) "
        f"is on its way!{tracking}"
    )


def tracking_notice(order: Order, tracking: str) -> str:
    """A tracking number added or corrected after the order shipped (one notice per change)."""
    return (
        f"🚚 Your order #{order.id} ({escape(clip(order.product_title, 128))}) has a new "
        f"tracking number: <code>{escape(tracking)}</code>"
    )


def after_payment_notice(order: Order) -> str:
    """The short push after the receipt: a physical order's goods are not in any message."""
    if order.product_kind is not ProductKind.PHYSICAL:
        return paid_notice(order)
    return (
        f"🎉 Payment received for order #{order.id}. We'll ship it to the address you gave "
        "and send you a message here when it's on its way. Thank you!"
    )


def refund_notice(order: Order, what: str) -> str:
    """`what` says how much, decided when the refund was recorded ("refunded €5.00")."""
    return (
        f"↩️ Your order #{order.id} ({escape(clip(order.product_title, 128))}) was {escape(what)}. "
        "The money goes back to your card; banks take 5–10 days to show it."
    )
