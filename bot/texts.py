"""The words and limits both audiences' messages share: Telegram's limits, measured as
Telegram measures them, clipping, the order's state in words, and the answers to stale input.
Each audience's own messages are in bot/buyer/texts.py, bot/buyer/notices.py and
bot/admin/texts.py.

Telegram counts its limits (4096 characters of text, 1024 of a caption) in UTF-16 code units
(an emoji is two), so every length here is `utf16_len` (with `clip`, from shop/telegram_text.py,
which the Stars invoice uses too).
"""

from __future__ import annotations

from html import escape

from shop.money import format_money
from shop.telegram_text import clip as clip  # re-exported: the chat edge measures here
from shop.telegram_text import utf16_len as utf16_len
from storage.models import Order, OrderStatus, Product, Rail, ShippingStage

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_DELIVERY_TEXT = 3000


def price(product: Product) -> str:
    """What a product costs on the rails it sells on: "$9.99", "⭐ 150" or "$9.99 or ⭐ 150"."""
    prices = [format_money(*product.price_on(rail)) for rail in Rail if product.sells_on(rail)]
    return " or ".join(prices)


def what_was_bought(order: Order, width: int = 128) -> str:
    """An order's products in one line of plain text (escape it): "Mug × 2" for a one-line
    order, "Mug × 2 + 2 more" for a cart, within about `width` UTF-16 units. The one way
    every notice and list names an order's goods."""
    first = order.lines[0]
    rest = len(order.lines) - 1
    more = f" + {rest} more" if rest else ""
    return f"{clip(first.title, max(width - utf16_len(more) - 6, 8))} × {first.quantity}{more}"


# How many of an order's lines a message lists before "…and N more" (a cart has at most 20).
MAX_LISTED_LINES = 10


def line_list(order: Order, width: int = 128, most: int = MAX_LISTED_LINES) -> str:
    """An order's lines, one per row, with subtotals when there are several ("Mug × 2 —
    $36.00"), as HTML: the first `most`, then how many more. A cart's titles are clipped to
    half of `width`, so the list stays short enough for any message it goes in."""
    several = len(order.lines) > 1
    rows = [
        f"{escape(clip(line.title, width // 2 if several else width))} × {line.quantity}"
        + (f" — {escape(format_money(line.subtotal, order.currency))}" if several else "")
        for line in order.lines[:most]
    ]
    if len(order.lines) > most:
        rows.append(f"…and {len(order.lines) - most} more")
    return "\n".join(rows)


# --- the order's state, for its buyer and for the admins alike ---------------------------------

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


def status_label(status: OrderStatus) -> str:
    return _STATUS_LABEL[status]


def order_state(order: Order, *, tracking: bool = False) -> str:
    """The order's state in words (HTML): a paid physical order by its shipping stage (a
    receipt sent is not a mug delivered), a partial refund still shown, and with `tracking`
    a shipped order's tracking number."""
    stage = order.shipping_stage
    if stage is None:
        return _STATUS_LABEL[order.status]
    shown = tracking and stage is ShippingStage.SHIPPED and order.tracking
    number = f" · tracking {escape(order.tracking or '')}" if shown else ""
    refunded = order.status is OrderStatus.PARTIALLY_REFUNDED
    return _STAGE_LABEL[stage] + number + (" · " + _STATUS_LABEL[order.status] if refunded else "")


# --- answers to what nobody handles ------------------------------------------------------------


def unknown_command() -> str:
    return "I don't know that command. Try /catalog to browse, or /help."


def unknown_button() -> str:
    return "This button has expired. Please use /catalog."


def admin_button_expired() -> str:
    """An admin's old or finished button, in the admin's words (not the buyer's /catalog)."""
    return "This button has expired: its step is over. Use /products or /orders to go on."
