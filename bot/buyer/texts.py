"""What the bot says to a buyer in the chat, as Telegram HTML, in the buyer's language: the
welcome, help and support, the catalog and the product card, refusals of a Buy, and the list
of their orders. Merchant and buyer text is always escaped, and every length stays under
Telegram's limits by construction (a translation may be longer than the English: the
merchant's text gives way, never our sentences).
The order's own message and the notices the outbox sends are in `notices`.
"""

from __future__ import annotations

import re
from html import escape, unescape

from bot.callbacks import MAX_QUANTITY
from bot.texts import MAX_ALERT, clip, order_state, price, utf16_len, what_was_bought, within
from shop.i18n import Lang
from storage.models import Order, OrderStatus, Product, Rail

PAGE_TITLE_CHARS = 40


def welcome(lang: Lang, shop_name: str) -> str:
    return lang.t(
        "👋 Welcome to <b>{shop}</b>!\n\n"
        "Browse the catalog, pick what you like and pay securely with Stripe. "
        "Your purchase is delivered right here in this chat.",
        shop=escape(shop_name),
    )


def admin_hint(lang: Lang) -> str:
    return "\n\n" + lang.t(
        "🔧 <b>You run this shop.</b> /addproduct to add a product, /products to manage "
        "them, /orders and /sales to follow the money."
    )


def help_text(lang: Lang) -> str:
    return lang.t(
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


def support_line(lang: Lang, contact: str | None) -> str:
    """How a buyer reaches the merchant: the configured SUPPORT_CONTACT, else this chat."""
    if contact:
        return lang.t("💬 Questions? Contact the merchant: {contact}", contact=escape(contact))
    return lang.t("💬 Questions? Just write them here: your message goes to the merchant.")


def plain_message_answer(lang: Lang, contact: str | None, relayed: bool) -> str:
    """The answer to a buyer's message that is no command: how to reach the merchant."""
    if contact:
        return lang.t(
            "👋 I'm the shop's bot, so I can't answer questions myself.\n"
            "💬 Questions? Contact the merchant: {contact}\n\n"
            "/catalog to browse, /orders for your orders.",
            contact=escape(contact),
        )
    if relayed:
        return lang.t(
            "📨 I passed your message on to the merchant; they will get back to you.\n\n"
            "/catalog to browse, /orders for your orders."
        )
    return lang.t(
        "✋ That's a lot of messages at once: the merchant has your earlier ones. "
        "Please wait a minute before sending more."
    )


def relayed_message(lang: Lang, name: str, user_id: int, username: str | None, text: str) -> str:
    """A buyer's message passed on to an admin (no SUPPORT_CONTACT is set), in the admin's
    language `lang`."""
    who = escape(clip(name, 64)) or lang.t("unknown")
    if username:
        who = f"{who} @{escape(username)}"
    return lang.t(
        "💬 <b>Message from a buyer</b>: {who} (id <code>{id}</code>)\n\n{text}",
        who=who,
        id=user_id,
        text=escape(clip(text, 3500)),
    )


def nothing_to_cancel(lang: Lang) -> str:
    return lang.t("There's nothing to cancel right now.")


def other_category(lang: Lang) -> str:
    """The name of the products without a category, among named ones."""
    return lang.t("Other")


def catalog_header(lang: Lang, page: int, pages: int, category: str | None = None) -> str:
    """The catalog page's heading: the whole catalog, or one category (`""`: the products
    without one), with the page when there are several."""
    at = {"page": lang.number(page + 1), "pages": lang.number(pages)}
    if category is None:
        if pages > 1:
            return lang.t(
                "🛍️ <b>Catalog</b> · page {page} of {pages}\n\nTap a product to see it.", **at
            )
        return lang.t("🛍️ <b>Catalog</b>\n\nTap a product to see it.")
    name = escape(category or other_category(lang))
    if pages > 1:
        return lang.t(
            "🛍️ <b>{category}</b> · page {page} of {pages}\n\nTap a product to see it.",
            category=name,
            **at,
        )
    return lang.t("🛍️ <b>{category}</b>\n\nTap a product to see it.", category=name)


def categories_header(lang: Lang) -> str:
    return lang.t("🛍️ <b>Catalog</b>\n\nChoose a category.")


def catalog_empty(lang: Lang) -> str:
    return lang.t("🛍️ The shop has no products yet. Please check back soon!")


def catalog_button(lang: Lang, product: Product) -> str:
    return lang.t(
        "{title} — {price}",
        title=clip(product.title, PAGE_TITLE_CHARS),
        price=price(lang, product),
    )


def stock_line(lang: Lang, stock_left: int | None) -> str:
    """The card's line about stock ("" for kinds without a count), on a line of its own."""
    if stock_left is None:
        return ""
    if stock_left <= 0:
        return "\n" + lang.t("❌ Sold out")
    return "\n" + lang.nt("📦 {n} left in stock", "📦 {n} left in stock", stock_left)


def product_card(lang: Lang, product: Product, *, limit: int, stock_left: int | None = None) -> str:
    """The card's text or caption; the description gives way when space runs out (a longer
    translation of our words leaves it less room, measured as Telegram counts)."""
    head = lang.t("<b>{title}</b>", title=escape(product.title))
    tail = lang.t("💰 <b>{price}</b>", price=escape(price(lang, product)))
    tail += stock_line(lang, stock_left)
    room = limit - shown_len(head) - shown_len(tail) - 4
    body = escape(clip(product.description, max(room, 0))) if product.description else ""
    return f"{head}\n\n{body}\n\n{tail}" if body else f"{head}\n\n{tail}"


def shown_len(html: str) -> int:
    """How long Telegram counts a piece of our HTML: its text without tags, entities read."""
    return utf16_len(unescape(re.sub(r"<[^>]*>", "", html)))


def at_most(lang: Lang, stock_left: int | None) -> str:
    """The toast for + at the largest quantity a card offers."""
    if stock_left is not None and stock_left < MAX_QUANTITY:
        return lang.nt("Only {n} left in stock.", "Only {n} left in stock.", stock_left)
    return lang.nt(
        "You can buy at most {n} at once.", "You can buy at most {n} at once.", MAX_QUANTITY
    )


def sold_out(lang: Lang, available: int, title: str = "") -> str:
    """`title` names the line of a cart that ran short (a card's Buy needs no name). An
    alert: within MAX_ALERT."""
    if available <= 0:
        if title:
            return within(
                MAX_ALERT,
                lambda width: lang.t("Sorry, “{title}” just sold out.", title=clip(title, width)),
                64,
            )
        return lang.t("Sorry, this product just sold out.")
    if title:
        return within(
            MAX_ALERT,
            lambda width: lang.nt(
                "Sorry, only {n} of “{title}” left — please choose a smaller quantity.",
                "Sorry, only {n} of “{title}” left — please choose a smaller quantity.",
                available,
                title=clip(title, width),
            ),
            64,
        )
    return lang.nt(
        "Sorry, only {n} left — please choose a smaller quantity.",
        "Sorry, only {n} left — please choose a smaller quantity.",
        available,
    )


def mixed_currencies(lang: Lang, by_currency: dict[str, list[str]], limit: int = MAX_ALERT) -> str:
    """A cart in several currencies: one payment takes one, so name what to remove; within
    `limit` (an alert's, or the room the cart's page gives it)."""
    keep, *others = by_currency
    remove = [title for currency in others for title in by_currency[currency]]

    def render(width: int) -> str:
        return lang.t(
            "One payment takes one currency, and your cart mixes {currencies}. "
            "Remove {titles} to pay in {currency} (you can buy them afterwards).",
            currencies=lang.join(currency.upper() for currency in by_currency),
            titles=lang.join(clip(title, width) for title in remove),
            currency=keep.upper(),
        )

    return within(limit, render, 40)


def total_too_large(lang: Lang) -> str:
    return lang.t("That's more than one payment can take. Please remove something from your cart.")


def no_common_country(lang: Lang) -> str:
    return lang.t(
        "These products don't ship to the same countries, so one address can't get them all. "
        "Please buy them in separate orders."
    )


def product_unavailable(lang: Lang) -> str:
    return lang.t("Sorry, this product is no longer available. Take a look at the /catalog.")


def checkout_failed(lang: Lang) -> str:
    return lang.t(
        "😕 Sorry, we couldn't start the payment just now. Nothing was charged. "
        "Please try again in a minute."
    )


def preparing_link(lang: Lang) -> str:
    return lang.t("⏳ Lots of buyers right now — preparing your payment link, it will appear here…")


def too_many_open(lang: Lang) -> str:
    return lang.t(
        "You already have several unpaid payment links. Pay or let one expire, "
        "or check /orders, before starting another."
    )


def holding_too_many(lang: Lang, room: int, title: str = "") -> str:
    """A Buy refused because the buyer's unpaid orders already hold their share of the stock
    (`title` names the cart's line). An alert: within MAX_ALERT, worded short enough to leave
    a translation room."""
    if room <= 0:
        if title:
            return within(
                MAX_ALERT,
                lambda width: lang.t(
                    "You already hold as many of “{title}” as one buyer may in unpaid orders. "
                    "Pay for or cancel one on its payment page (or let it expire) to take more.",
                    title=clip(title, width),
                ),
                32,
            )
        return lang.t(
            "You already hold as many of these as one buyer may in unpaid orders. Pay for or "
            "cancel one on its payment page (or let it expire) to take more."
        )
    if title:
        return within(
            MAX_ALERT,
            lambda width: lang.nt(
                "You can take only {n} more of “{title}” while your unpaid orders hold the rest: "
                "choose a smaller quantity, or pay for or cancel an open order first.",
                "You can take only {n} more of “{title}” while your unpaid orders hold the rest: "
                "choose a smaller quantity, or pay for or cancel an open order first.",
                room,
                title=clip(title, width),
            ),
            32,
        )
    return lang.nt(
        "You can take only {n} more of these while your unpaid orders hold the rest: choose a "
        "smaller quantity, or pay for or cancel an open order first.",
        "You can take only {n} more of these while your unpaid orders hold the rest: choose a "
        "smaller quantity, or pay for or cancel an open order first.",
        room,
    )


def stars_buy_button(lang: Lang, stars: int) -> str:
    return lang.nt("⭐ Buy for {n} Star", "⭐ Buy for {n} Stars", stars)


def not_on_rail(lang: Lang, rail: Rail, titles: list[str], limit: int = MAX_ALERT) -> str:
    """Lines not sold through the rail asked for (a cart mixing Stars and card products):
    name them, so the buyer knows what to take out and pay for separately; within `limit`
    (an alert's, or the room the cart's page gives it)."""

    def render(width: int) -> str:
        names = [lang.t("“{title}”", title=clip(title, width)) for title in titles[:4]]
        if len(titles) > 4:
            names.append(lang.nt("{n} more", "{n} more", len(titles) - 4))
        if rail is Rail.STARS:
            return lang.t(
                "{titles} can't be paid with Telegram Stars. Remove them to pay the rest in "
                "Stars, and buy them in a second order.",
                titles=lang.join(names),
            )
        return lang.t(
            "{titles} can only be paid with Telegram Stars. Remove them to pay the rest by "
            "card, and buy them in a second order.",
            titles=lang.join(names),
        )

    return within(limit, render, 32)


def rail_changed(lang: Lang, rail: Rail) -> str:
    """A card's Buy for a way of paying the product is no longer sold through (the card is
    older than the merchant's change)."""
    if rail is Rail.STARS:
        return lang.t(
            "This product is no longer sold for Telegram Stars. Open it again from the /catalog."
        )
    return lang.t("This product is no longer sold by card. Open it again from the /catalog.")


def stars_invoice_above(lang: Lang) -> str:
    return lang.t("⬆️ Your invoice is right here — tap Pay on it.")


def slow_down(lang: Lang) -> str:
    return lang.t("Easy there — that's a lot of taps. Please wait a minute and try again.")


def orders_list(lang: Lang, orders: list[Order], page: int, pages: int) -> str:
    if not orders:
        return lang.t("You have no orders yet. Start with the /catalog!")
    if pages > 1:
        head = lang.t(
            "📦 <b>Your orders</b> · page {page} of {pages}",
            page=lang.number(page + 1),
            pages=lang.number(pages),
        )
    else:
        head = lang.t("📦 <b>Your orders</b>")
    lines = [head]
    for order in orders:
        listed = lang.t(
            "<b>#{number}</b> · {goods} · {total}",
            number=order.id,
            goods=escape(what_was_bought(lang, order, 60)),
            total=escape(lang.money(order.amount_paid, order.currency)),
        )
        lines.append(f"\n{listed}\n{_state(lang, order)}")
    return "\n".join(lines)


def _state(lang: Lang, order: Order) -> str:
    """The order's state with its tracking number, and what a partial refund gave back (a
    full one says "refunded" in the state already)."""
    state = order_state(lang, order, tracking=True)
    if order.status is not OrderStatus.PARTIALLY_REFUNDED or not order.amount_refunded:
        return state
    refunded = escape(lang.money(order.amount_refunded, order.currency))
    return lang.t("{state} ({refunded})", state=state, refunded=refunded)


def back_in_cart(lang: Lang, added: int, missing: int) -> str:
    """Buy again of a cart's order: a toast (at most 200 characters) saying what went back
    into the cart and where to pay for it."""
    if not added:
        return lang.t("None of these products can be bought now: see the /catalog.")
    text = lang.nt(
        "{n} product back in your cart, shown below.",
        "{n} products back in your cart, shown below.",
        added,
    )
    if missing:
        text += " " + lang.nt(
            "{n} of them can't be bought now and was left out.",
            "{n} of them can't be bought now and were left out.",
            missing,
        )
    return text


def resend_unavailable(lang: Lang) -> str:
    return lang.t("Only paid orders can be sent again.")
