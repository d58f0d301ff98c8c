"""What the bot says to a buyer in the chat, as Telegram HTML: the welcome, help and support,
the catalog and the product card, refusals of a Buy, and the list of their orders. Merchant and
buyer text is always escaped, and every length stays under Telegram's limits by construction.
The order's own message and the notices the outbox sends are in `notices`.
"""

from __future__ import annotations

from html import escape

from bot.callbacks import MAX_QUANTITY
from bot.texts import clip, order_state, price, utf16_len, what_was_bought
from shop.i18n import ENGLISH
from shop.money import format_money
from storage.models import Order, OrderStatus, Product, Rail

PAGE_TITLE_CHARS = 40


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
        "2. Choose a quantity and tap <b>Buy now</b> — or <b>Add to cart</b> to collect "
        "several products and pay for them at once from your /cart\n"
        "3. Pay on Stripe's secure page\n"
        "4. Your goods arrive here within seconds\n\n"
        "/cart — your cart: change quantities, remove products, check out\n"
        "/orders — your orders, and a way to get your goods sent again\n"
        "/paysupport — help with a payment, and refunds\n"
        "/help — this message"
    )


def support_line(contact: str | None) -> str:
    """How a buyer reaches the merchant: the configured SUPPORT_CONTACT, else this chat."""
    if contact:
        return f"💬 Questions? Contact the merchant: {escape(contact)}"
    return "💬 Questions? Just write them here: your message goes to the merchant."


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
    return f"{clip(product.title, PAGE_TITLE_CHARS)} — {price(ENGLISH, product)}"


def stock_line(stock_left: int | None) -> str:
    if stock_left is None:
        return ""
    return "\n❌ Sold out" if stock_left <= 0 else f"\n📦 {stock_left} left in stock"


def product_card(product: Product, *, limit: int, stock_left: int | None = None) -> str:
    """The card's text or caption; the description gives way when space runs out."""
    head = f"<b>{escape(product.title)}</b>\n\n"
    tail = f"\n\n💰 <b>{escape(price(ENGLISH, product))}</b>{stock_line(stock_left)}"
    fixed = product.title + price(ENGLISH, product) + stock_line(stock_left)
    room = limit - utf16_len(fixed) - 8
    body = escape(clip(product.description, max(room, 0))) if product.description else ""
    return head + body + tail if body else head.rstrip("\n") + tail


def at_most(stock_left: int | None) -> str:
    """The toast for + at the largest quantity a card offers."""
    if stock_left is not None and stock_left < MAX_QUANTITY:
        return f"Only {stock_left} left in stock."
    return f"You can buy at most {MAX_QUANTITY} at once."


def sold_out(available: int, title: str = "") -> str:
    """`title` names the line of a cart that ran short (a card's Buy needs no name)."""
    what = f"“{clip(title, 64)}”" if title else "this product"
    if available <= 0:
        return f"Sorry, {what} just sold out."
    of = f" of {what}" if title else ""
    return f"Sorry, only {available}{of} left — please choose a smaller quantity."


def mixed_currencies(by_currency: dict[str, list[str]]) -> str:
    """A cart in several currencies: one payment takes one, so name what to remove."""
    keep, *others = by_currency
    remove = [clip(title, 40) for currency in others for title in by_currency[currency]]
    mixed = ", ".join(currency.upper() for currency in by_currency)
    return (
        f"One payment takes one currency, and your cart mixes {mixed}. "
        f"Remove {', '.join(remove)} to pay in {keep.upper()} (you can buy them afterwards)."
    )


def total_too_large() -> str:
    return "That's more than one payment can take. Please remove something from your cart."


def no_common_country() -> str:
    return (
        "These products don't ship to the same countries, so one address can't get them all. "
        "Please buy them in separate orders."
    )


def product_unavailable() -> str:
    return "Sorry, this product is no longer available. Take a look at the /catalog."


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


def holding_too_many(room: int, title: str = "") -> str:
    """A Buy refused because the buyer's unpaid orders already hold their share of the stock
    (`title` names the cart's line)."""
    these = f"“{clip(title, 32)}”" if title else "these"  # an alert holds 200 units
    if room <= 0:
        return (
            f"You already hold as many of {these} as one buyer can in unpaid orders. Pay for one "
            "or cancel it on its payment page (or let it expire) to take more."
        )
    more = f"{room} more" if room > 1 else "1 more"
    return (
        f"You can take only {more} of {these} while your other unpaid orders hold the rest — "
        "please choose a smaller quantity, or pay for or cancel an open order first."
    )


def stars_buy_button(stars: int) -> str:
    return f"⭐ Buy for {stars:,} Stars"


def not_on_rail(rail: Rail, titles: list[str]) -> str:
    """Lines not sold through the rail asked for (a cart mixing Stars and card products):
    name them, so the buyer knows what to take out and pay for separately."""
    names = ", ".join(f"“{clip(title, 32)}”" for title in titles[:4])
    more = f" and {len(titles) - 4} more" if len(titles) > 4 else ""
    if rail is Rail.STARS:
        return (
            f"{names}{more} can't be paid with Telegram Stars. Remove them to pay the rest in "
            "Stars, and buy them in a second order."
        )
    return (
        f"{names}{more} can only be paid with Telegram Stars. Remove them to pay the rest by "
        "card, and buy them in a second order."
    )


def rail_changed(rail: Rail) -> str:
    """A card's Buy for a way of paying the product is no longer sold through (the card is
    older than the merchant's change)."""
    way = "for Telegram Stars" if rail is Rail.STARS else "by card"
    return f"This product is no longer sold {way}. Open it again from the /catalog."


def stars_invoice_above() -> str:
    return "⬆️ Your invoice is right here — tap Pay on it."


def slow_down() -> str:
    return "Easy there — that's a lot of taps. Please wait a minute and try again."


def orders_list(orders: list[Order], page: int, pages: int) -> str:
    if not orders:
        return "You have no orders yet. Start with the /catalog!"
    lines = ["📦 <b>Your orders</b>" + (f" · page {page + 1} of {pages}" if pages > 1 else "")]
    for order in orders:
        total = format_money(order.amount_paid, order.currency)
        lines.append(
            f"\n<b>#{order.id}</b> · {escape(what_was_bought(ENGLISH, order, 60))}"
            f" · {escape(total)}\n{order_state(ENGLISH, order, tracking=True)}{_refunded(order)}"
        )
    return "\n".join(lines)


def _refunded(order: Order) -> str:
    """What a partial refund gave back (a full one says "refunded" in the state already)."""
    if order.status is not OrderStatus.PARTIALLY_REFUNDED or not order.amount_refunded:
        return ""
    return f" ({escape(format_money(order.amount_refunded, order.currency))})"


def back_in_cart(added: int, missing: int) -> str:
    """Buy again of a cart's order: a toast (at most 200 characters) saying what went back
    into the cart and where to pay for it."""
    if not added:
        return "None of these products can be bought now: see the /catalog."
    text = f"{added} product{'' if added == 1 else 's'} back in your cart, shown below."
    if missing:
        text += f" {missing} can't be bought now and were left out."
    return text


def resend_unavailable() -> str:
    return "Only paid orders can be sent again."
