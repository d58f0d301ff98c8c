"""Every message the bot writes, as Telegram HTML. Merchant and buyer text is always escaped.

Lengths are kept under Telegram's limits by construction (4096 characters of text, 1024 of a
caption), so a long description can never make a send fail. Telegram counts those characters
in UTF-16 code units (an emoji is two), so every length here is `utf16_len`.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from bot.callbacks import MAX_QUANTITY
from shop.money import format_money
from storage.models import Order, OrderStatus, Product, ProductKind, ShippingStage

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_DELIVERY_TEXT = 3000
PAGE_TITLE_CHARS = 40


def utf16_len(text: str) -> int:
    """The length Telegram measures its limits in: UTF-16 code units, so 😀 counts two.

    The one measure for every limit, from the admin's fields to the messages we build."""
    return len(text.encode("utf-16-le")) // 2


def clip(text: str, limit: int) -> str:
    """Shorten plain text (before escaping) to `limit` UTF-16 units, marking the cut."""
    if utf16_len(text) <= limit:
        return text
    units = 1  # the "…" takes one
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index].rstrip() + "…"
    return text


def price(product: Product) -> str:
    return format_money(product.price_minor, product.currency)


def welcome(shop_name: str) -> str:
    return (
        f"👋 Welcome to <b>{escape(shop_name)}</b>!\n\n"
        "Browse the catalog, pick what you like and pay securely with Stripe. "
        "Your purchase is delivered right here in this chat."
    )


def admin_hint() -> str:
    return (
        "\n\n🔧 <b>You run this shop.</b> /addproduct to add a product, /products to manage "
        "them, /orders and /sales to follow the money."
    )


def help_text() -> str:
    return (
        "<b>How it works</b>\n"
        "1. /catalog — browse the products\n"
        "2. Choose a quantity and tap <b>Buy</b>\n"
        "3. Pay on Stripe's secure page\n"
        "4. Your goods arrive here within seconds\n\n"
        "/orders — your orders, and a way to get your goods sent again\n"
        "/paysupport — help with a payment, and refunds\n"
        "/help — this message"
    )


def support_line(contact: str | None) -> str:
    """How a buyer reaches the merchant: the configured SUPPORT_CONTACT, else this chat."""
    if contact:
        return f"💬 Questions? Contact the merchant: {escape(contact)}"
    return "💬 Questions? Just write them here: your message goes to the merchant."


def pay_support(contact: str | None) -> str:
    """/paysupport, which Telegram expects of every bot that takes payments."""
    return (
        "🧾 <b>Payment support</b>\n"
        f"{support_line(contact)}\n"
        "Please give your order number (see /orders).\n\n"
        "<b>Refunds</b>: the merchant refunds through Stripe to the card you paid with; you get "
        "a message here, and banks take 5–10 days to show the money. Telegram's own support "
        "can't help with purchases made in this bot."
    )


def plain_message_answer(contact: str | None, relayed: bool) -> str:
    """The answer to a buyer's message that is no command: how to reach the merchant."""
    if contact:
        return (
            "👋 I'm the shop's bot, so I can't answer questions myself.\n"
            f"{support_line(contact)}\n\n/catalog to browse, /orders for your orders."
        )
    if relayed:
        return (
            "📨 I passed your message on to the merchant; they will get back to you.\n\n"
            "/catalog to browse, /orders for your orders."
        )
    return (
        "✋ That's a lot of messages at once: the merchant has your earlier ones. "
        "Please wait a minute before sending more."
    )


def relayed_message(name: str, user_id: int, username: str | None, text: str) -> str:
    """A buyer's message passed on to an admin (no SUPPORT_CONTACT is set)."""
    handle = f" @{escape(username)}" if username else ""
    return (
        f"💬 <b>Message from a buyer</b>: {escape(clip(name, 64)) or 'unknown'}{handle} "
        f"(id <code>{user_id}</code>)\n\n{escape(clip(text, 3500))}"
    )


def nothing_to_cancel() -> str:
    return "There's nothing to cancel right now."


def catalog_header(page: int, pages: int, category: str | None = None) -> str:
    suffix = f" · page {page + 1} of {pages}" if pages > 1 else ""
    title = "Catalog" if category is None else (category or "Other")
    return f"🛍️ <b>{escape(title)}</b>{suffix}\n\nTap a product to see it."


def categories_header() -> str:
    return "🛍️ <b>Catalog</b>\n\nChoose a category."


def catalog_empty() -> str:
    return "🛍️ The shop has no products yet. Please check back soon!"


def catalog_button(product: Product) -> str:
    return f"{clip(product.title, PAGE_TITLE_CHARS)} — {price(product)}"


def stock_line(stock_left: int | None) -> str:
    if stock_left is None:
        return ""
    return "\n❌ Sold out" if stock_left <= 0 else f"\n📦 {stock_left} left in stock"


def product_card(product: Product, *, limit: int, stock_left: int | None = None) -> str:
    """The card's text or caption; the description gives way when space runs out."""
    head = f"<b>{escape(product.title)}</b>\n\n"
    tail = f"\n\n💰 <b>{escape(price(product))}</b>{stock_line(stock_left)}"
    fixed = product.title + price(product) + stock_line(stock_left)
    room = limit - utf16_len(fixed) - 8
    body = escape(clip(product.description, max(room, 0))) if product.description else ""
    return head + body + tail if body else head.rstrip("\n") + tail


def at_most(stock_left: int | None) -> str:
    """The toast for + at the largest quantity a card offers."""
    if stock_left is not None and stock_left < MAX_QUANTITY:
        return f"Only {stock_left} left in stock."
    return f"You can buy at most {MAX_QUANTITY} at once."


def sold_out(available: int) -> str:
    if available <= 0:
        return "Sorry, this product just sold out."
    return f"Sorry, only {available} left — please choose a smaller quantity."


def product_unavailable() -> str:
    return "Sorry, this product is no longer available. Take a look at the /catalog."


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


def checkout_failed() -> str:
    return (
        "😕 Sorry, we couldn't start the payment just now. Nothing was charged. "
        "Please try again in a minute."
    )


def preparing_link() -> str:
    return "⏳ Lots of buyers right now — preparing your payment link, it will appear here…"


def too_many_open() -> str:
    return (
        "You already have several unpaid payment links. Pay or let one expire, "
        "or check /orders, before starting another."
    )


def holding_too_many(room: int) -> str:
    """A Buy refused because the buyer's unpaid orders already hold their share of the stock."""
    if room <= 0:
        return (
            "You already hold as many of these as one buyer can in unpaid orders. Pay for one "
            "or cancel it on its payment page (or let it expire) to take more."
        )
    more = f"{room} more" if room > 1 else "1 more"
    return (
        f"You can take only {more} of these while your other unpaid orders hold the rest — "
        "please choose a smaller quantity, or pay for or cancel an open order first."
    )


def slow_down() -> str:
    return "Easy there — that's a lot of taps. Please wait a minute and try again."


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


def sale_alert(order: Order) -> str:
    total = format_money(order.amount_total, order.currency)
    text = (
        f"💰 <b>New sale</b> — order #{order.id}\n"
        f"{escape(order.product_title)} × {order.quantity}: <b>{escape(total)}</b>"
        f"{charge_note(order)}\n"
        f"Buyer: {escape(order.buyer_name) or 'unknown'} (id <code>{order.buyer_user_id}</code>)"
    )
    if order.product_kind is ProductKind.PHYSICAL:
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
    line = (
        f"\n#{order.id} {escape(clip(order.product_title, 40))} × {order.quantity}: "
        f"{escape(total)} — {buyer}"
    )
    if order.product_kind is ProductKind.PHYSICAL:
        address = escape(clip(order.shipping_address or "not collected", 80))
        line += f"\n    🚚 {address} → /ship {order.id}"
    return line


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


def problem_alert(order: Order, detail: str) -> str:
    return f"⚠️ <b>Order #{order.id} needs attention</b>\n{escape(detail)}"


_STATUS_LABEL = {
    OrderStatus.PENDING: "⏳ starting",
    OrderStatus.AWAITING_PAYMENT: "🕒 awaiting payment",
    OrderStatus.PROCESSING: "⏳ payment being confirmed",
    OrderStatus.PAID: "✅ paid, delivering",
    OrderStatus.FULFILLED: "✅ delivered",
    OrderStatus.FAILED: "❌ failed",
    OrderStatus.EXPIRED: "⌛ link expired",
    OrderStatus.REFUNDED: "↩️ refunded",
    OrderStatus.PARTIALLY_REFUNDED: "↩️ partly refunded",
}


_STAGE_LABEL = {
    ShippingStage.TO_SHIP: "📦 paid, to be shipped",
    ShippingStage.SHIPPED: "🚚 shipped",
    ShippingStage.DELIVERED: "📬 delivered",
}


def order_state(order: Order) -> str:
    """The order's state for its buyer: a paid physical order by its shipping stage."""
    stage = order.shipping_stage
    if stage is None:
        return _STATUS_LABEL[order.status]
    tracking = f" · tracking {escape(order.tracking)}" if order.tracking else ""
    refunded = " · ↩️ partly refunded" if order.status is OrderStatus.PARTIALLY_REFUNDED else ""
    return _STAGE_LABEL[stage] + (tracking if stage is ShippingStage.SHIPPED else "") + refunded


def orders_list(orders: list[Order], page: int, pages: int) -> str:
    if not orders:
        return "You have no orders yet. Start with the /catalog!"
    lines = ["📦 <b>Your orders</b>" + (f" · page {page + 1} of {pages}" if pages > 1 else "")]
    for order in orders:
        total = format_money(order.amount_paid, order.currency)
        lines.append(
            f"\n<b>#{order.id}</b> · {escape(clip(order.product_title, 60))} × {order.quantity}"
            f" · {escape(total)}\n{order_state(order)}"
        )
    return "\n".join(lines)


def resend_unavailable() -> str:
    return "Only paid orders can be sent again."


def unknown_command() -> str:
    return "I don't know that command. Try /catalog to browse, or /help."


def unknown_button() -> str:
    return "This button has expired. Please use /catalog."


def admin_button_expired() -> str:
    """An admin's old or finished button, in the admin's words (not the buyer's /catalog)."""
    return "This button has expired: its step is over. Use /products or /orders to go on."
