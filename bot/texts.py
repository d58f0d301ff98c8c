"""The words and limits both audiences' messages share: Telegram's limits, measured as
Telegram measures them, clipping, the order's state in words, and the answers to stale input.
Each audience's own messages are in bot/buyer/texts.py, bot/buyer/notices.py and
bot/admin/texts.py.

Telegram counts its limits (4096 characters of text, 1024 of a caption, 200 of a tap's
answer) in UTF-16 code units (an emoji is two), so every length here is `utf16_len` (with
`clip`, from shop/telegram_text.py, which the Stars invoice uses too). A translation may be
longer than the English: where a text holds the merchant's titles, they give way, never our
sentences (`within`).
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from shop.i18n import N_, Lang
from shop.telegram_text import clip as clip  # re-exported: the chat edge measures here
from shop.telegram_text import utf16_len as utf16_len
from storage.models import Order, OrderStatus, Product, Rail, ShippingStage

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_ALERT = 200  # the text of a tap's answer, a toast or an alert
MAX_DELIVERY_TEXT = 3000


def within(limit: int, render: Callable[[int], str], most: int) -> str:
    """The plain text `render(width)` makes with the merchant's titles clipped to `width`
    units, within `limit`: the widest width up to `most` that fits, so the titles give way to
    a longer translation and our words stay whole. Only a sentence over the limit by itself
    (with every title down to its "…") is cut."""
    text = render(most)
    if utf16_len(text) <= limit:
        return text
    fits, low, high = None, 1, most - 1  # the widest width that fits is in [low, high]
    while low <= high:
        width = (low + high) // 2
        candidate = render(width)
        if utf16_len(candidate) <= limit:
            fits, low = candidate, width + 1
        else:
            high = width - 1
    return fits if fits is not None else clip(render(1), limit)


def price(lang: Lang, product: Product) -> str:
    """What a product costs on the rails it sells on: "$9.99", "⭐ 150" or "$9.99 or ⭐ 150"."""
    prices = [lang.money(*product.price_on(rail)) for rail in Rail if product.sells_on(rail)]
    if len(prices) == 1:
        return prices[0]
    return lang.t("{card_price} or {stars_price}", card_price=prices[0], stars_price=prices[1])


def what_was_bought(lang: Lang, order: Order, width: int = 128) -> str:
    """An order's products in one line of plain text (escape it): "Mug × 2" for a one-line
    order, "Mug × 2 + 2 more" for a cart, within about `width` UTF-16 units. The one way
    every notice and list names an order's goods."""
    first = order.lines[0]
    rest = len(order.lines) - 1
    more = lang.nt(" + {n} more", " + {n} more", rest) if rest else ""
    title = clip(first.title, max(width - utf16_len(more) - 6, 8))
    return lang.t("{title} × {quantity}", title=title, quantity=first.quantity) + more


# How many of an order's lines a message lists before "…and N more" (a cart has at most 20).
MAX_LISTED_LINES = 10


def line_list(lang: Lang, order: Order, width: int = 128, most: int = MAX_LISTED_LINES) -> str:
    """An order's lines, one per row, with subtotals when there are several ("Mug × 2 —
    $36.00"), as HTML: the first `most`, then how many more. A cart's titles are clipped to
    half of `width`, so the list stays short enough for any message it goes in."""
    several = len(order.lines) > 1
    rows = []
    for line in order.lines[:most]:
        title = escape(clip(line.title, width // 2 if several else width))
        if several:
            subtotal = escape(lang.money(line.subtotal, order.currency))
            rows.append(
                lang.t(
                    "{title} × {quantity} — {subtotal}",
                    title=title,
                    quantity=line.quantity,
                    subtotal=subtotal,
                )
            )
        else:
            rows.append(lang.t("{title} × {quantity}", title=title, quantity=line.quantity))
    if len(order.lines) > most:
        rows.append(lang.nt("…and {n} more", "…and {n} more", len(order.lines) - most))
    return "\n".join(rows)


# --- the order's state, for its buyer and for the admins alike ---------------------------------

_STATUS_LABEL = {
    OrderStatus.PENDING: N_("⏳ starting"),
    OrderStatus.AWAITING_PAYMENT: N_("🕒 awaiting payment"),
    OrderStatus.PROCESSING: N_("⏳ payment being confirmed"),
    OrderStatus.PAID: N_("✅ paid, delivering"),
    OrderStatus.FULFILLED: N_("✅ delivered"),
    OrderStatus.FAILED: N_("❌ failed"),
    OrderStatus.EXPIRED: N_("⌛ link expired"),
    OrderStatus.REFUNDED: N_("↩️ refunded"),
    OrderStatus.PARTIALLY_REFUNDED: N_("↩️ partly refunded"),
}
_STAGE_LABEL = {
    ShippingStage.TO_SHIP: N_("📦 paid, to be shipped"),
    ShippingStage.SHIPPED: N_("🚚 shipped"),
    ShippingStage.DELIVERED: N_("📬 delivered"),
}


def status_label(lang: Lang, status: OrderStatus) -> str:
    return lang.t(_STATUS_LABEL[status])


def order_state(lang: Lang, order: Order, *, tracking: bool = False) -> str:
    """The order's state in words (HTML): a paid physical order by its shipping stage (a
    receipt sent is not a mug delivered), a partial refund still shown, and with `tracking`
    a shipped order's tracking number."""
    stage = order.shipping_stage
    if stage is None:
        return status_label(lang, order.status)
    state = lang.t(_STAGE_LABEL[stage])
    if tracking and stage is ShippingStage.SHIPPED and order.tracking:
        state = lang.t("{state} · tracking {number}", state=state, number=escape(order.tracking))
    if order.status is OrderStatus.PARTIALLY_REFUNDED:
        state = lang.t("{state} · {refund}", state=state, refund=status_label(lang, order.status))
    return state


# --- answers to what nobody handles ------------------------------------------------------------


def unknown_command(lang: Lang) -> str:
    return lang.t("I don't know that command. Try /catalog to browse, or /help.")


def unknown_button(lang: Lang) -> str:
    return lang.t("This button has expired. Please use /catalog.")


def admin_button_expired(lang: Lang) -> str:
    """An admin's old or finished button, in the admin's words (not the buyer's /catalog)."""
    return lang.t("This button has expired: its step is over. Use /products or /orders to go on.")
