"""Every message the bot writes, as Telegram HTML. Merchant and buyer text is always escaped.

Lengths are kept under Telegram's limits by construction (4096 characters of text, 1024 of a
caption), so a long description can never make a send fail.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from bot.money import format_money
from storage.models import Order, OrderStatus, Product

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_DELIVERY_TEXT = 3000
PAGE_TITLE_CHARS = 40


def clip(text: str, limit: int) -> str:
    """Shorten plain text (before escaping) to `limit` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def price(product: Product) -> str:
    return format_money(product.price_minor, product.currency)


def welcome(shop_name: str) -> str:
    return (
        f"👋 Welcome to <b>{escape(shop_name)}</b>!\n\n"
        "Browse the catalog, pick what you like and pay securely with Stripe. "
        "Your purchase is delivered right here in this chat."
    )


def help_text() -> str:
    return (
        "<b>How it works</b>\n"
        "1. /catalog — browse the products\n"
        "2. Choose a quantity and tap <b>Buy</b>\n"
        "3. Pay on Stripe's secure page\n"
        "4. Your goods arrive here within seconds\n\n"
        "/orders — your orders, and a way to get your goods sent again\n"
        "/help — this message"
    )


def catalog_header(page: int, pages: int) -> str:
    suffix = f" · page {page + 1} of {pages}" if pages > 1 else ""
    return f"🛍️ <b>Catalog</b>{suffix}\n\nTap a product to see it."


def catalog_empty() -> str:
    return "🛍️ The shop has no products yet. Please check back soon!"


def catalog_button(product: Product) -> str:
    return f"{clip(product.title, PAGE_TITLE_CHARS)} — {price(product)}"


def product_card(product: Product, *, limit: int) -> str:
    """The card's text or caption; the description gives way when space runs out."""
    head = f"<b>{escape(product.title)}</b>\n\n"
    tail = f"\n\n💰 <b>{escape(price(product))}</b>"
    room = limit - len(product.title) - len(price(product)) - 8
    body = escape(clip(product.description, max(room, 0))) if product.description else ""
    return head + body + tail if body else head.rstrip("\n") + tail


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


def too_fast() -> str:
    return "One moment — your payment link is being prepared."


def _goods(product: Product | None) -> str:
    delivery = product.delivery_text if product else ""
    if not delivery.strip():
        return "The merchant will be in touch with you about your order shortly."
    return escape(clip(delivery, MAX_DELIVERY_TEXT))


def receipt(order: Order, product: Product | None) -> str:
    """The order message once paid: confirmation plus the goods (edited in, so idempotent)."""
    total = format_money(order.amount_total, order.currency)
    return (
        f"✅ <b>Paid — order #{order.id}</b>\n"
        f"{escape(clip(order.product_title, 128))} × {order.quantity}\n"
        f"Total paid: <b>{escape(total)}</b>\n\n"
        f"📦 <b>Your purchase</b>\n{_goods(product)}"
    )


def paid_notice(order: Order) -> str:
    return (
        f"🎉 Payment received for order #{order.id}. "
        "Everything you bought is in the order message above. Thank you!"
    )


def resend(order: Order, product: Product | None) -> str:
    return f"📦 <b>Order #{order.id}</b> — {escape(order.product_title)}\n\n{_goods(product)}"


def sale_alert(order: Order) -> str:
    total = format_money(order.amount_total, order.currency)
    return (
        f"💰 <b>New sale</b> — order #{order.id}\n"
        f"{escape(order.product_title)} × {order.quantity}: <b>{escape(total)}</b>\n"
        f"Buyer: {escape(order.buyer_name) or 'unknown'} (id <code>{order.buyer_user_id}</code>)"
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


def orders_list(orders: list[Order], page: int, pages: int) -> str:
    if not orders:
        return "You have no orders yet. Start with the /catalog!"
    lines = ["📦 <b>Your orders</b>" + (f" · page {page + 1} of {pages}" if pages > 1 else "")]
    for order in orders:
        total = format_money(order.amount_total, order.currency)
        lines.append(
            f"\n<b>#{order.id}</b> · {escape(clip(order.product_title, 60))} × {order.quantity}"
            f" · {escape(total)}\n{_STATUS_LABEL[order.status]}"
        )
    return "\n".join(lines)


def resend_unavailable() -> str:
    return "Only paid orders can be sent again."


def unknown_command() -> str:
    return "I don't know that command. Try /catalog to browse, or /help."


def unknown_button() -> str:
    return "This button has expired. Please use /catalog."
