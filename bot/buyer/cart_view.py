"""The cart as the buyer sees it (Telegram HTML and its buttons), the toasts of Add to cart,
and the cart's refusals, in the buyer's language.

A cart holds up to storage.carts.MAX_CART_LINES lines; every title is clipped and at most
MAX_LISTED_CHANGES changes are listed, so the view stays within Telegram's 4096 units and
100 buttons however long the merchant's titles (a row of four small buttons per line, three
more below). Toasts and alerts are plain text within 200 units.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape, unescape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks as cb
from bot.buyer import texts
from bot.texts import MAX_ALERT, clip, within
from shop.cart import Cart, CartFull, CartItem, CartRefused, Change, Changed, LineFull, NoneLeft
from shop.i18n import Lang
from storage.carts import MAX_CART_LINES
from storage.models import STARS_CURRENCY, Rail

LINE_TITLE_CHARS = 48
BUTTON_TITLE_CHARS = 18
TOAST_TITLE_CHARS = 48
CHANGE_TITLE_CHARS = 40
MAX_LISTED_CHANGES = 10
NOTE_CHARS = 1000  # the page's warning about mixed currencies or rails (an alert's is 200)


def _title(lang: Lang, item: CartItem) -> str:
    return item.product.title if item.product is not None else lang.t("A product")


def page(
    lang: Lang, current: Cart, changes: Sequence[Changed] = (), *, checking_out: bool = False
) -> str:
    """The cart: what changed (if anything), each line with its quantity, today's unit price
    and subtotal, then the total — or a total per currency and which lines to remove."""
    head = _changes(lang, changes, checking_out)
    if not current.items:
        return head + lang.t(
            "🛒 <b>Your cart is empty.</b>\n\n"
            "Add products with <b>Add to cart</b> on their cards in the catalog."
        )
    heading = lang.nt(
        "🛒 <b>Your cart</b> · {n} product",
        "🛒 <b>Your cart</b> · {n} products",
        len(current.items),
    )
    rows = [heading + "\n"]
    for number, item in enumerate(current.items, start=1):
        title = escape(clip(_title(lang, item), LINE_TITLE_CHARS))
        rows.append(lang.t("{number}. <b>{title}</b>", number=lang.number(number), title=title))
        if item.product is not None:
            amount, currency = item.product.price_on(_shown_rail(item))
            unit = lang.money(amount, currency)
            subtotal = lang.money(amount * item.quantity, currency)
            rows.append(
                lang.t(
                    "{quantity} × {unit} = {subtotal}",
                    quantity=lang.number(item.quantity),
                    unit=escape(unit),
                    subtotal=escape(subtotal),
                )
            )
    return head + "\n".join(rows) + "\n\n" + _totals(lang, current)


def _shown_rail(item: CartItem) -> Rail:
    """A line's price as the buyer knows it: by card when it sells so, else in Stars."""
    assert item.product is not None
    return Rail.STRIPE if item.product.sells_on(Rail.STRIPE) else Rail.STARS


def _totals(lang: Lang, current: Cart) -> str:
    """The total on each rail that can pay for the whole cart; for a cart mixing rails, the
    lines to take out; for one mixing currencies, a total per currency and what to remove."""
    take_out = current.to_take_out()
    if take_out is not None:
        return f"⚠️ {escape(texts.not_on_rail(lang, *take_out, limit=NOTE_CHARS))}"
    card = stars = None
    if current.total is not None:
        card = escape(lang.money(current.total, current.currencies[0]))
    if current.stars_total is not None:
        stars = escape(lang.money(current.stars_total, STARS_CURRENCY))
    if card is not None and stars is not None:
        return lang.t(
            "Total: <b>{card_total}</b> or <b>{stars_total}</b>", card_total=card, stars_total=stars
        )
    if card is not None or stars is not None:
        return lang.t("Total: <b>{total}</b>", total=card or stars)
    each = " · ".join(
        f"<b>{escape(lang.money(amount, currency))}</b>"
        for currency, amount in current.totals.items()
    )
    by_currency = {
        currency: [
            _title(lang, item)
            for item in current.items
            if item.product is not None and item.product.currency == currency
        ]
        for currency in current.currencies
    }
    mixed = escape(texts.mixed_currencies(lang, by_currency, limit=NOTE_CHARS))
    return lang.t("Totals: {totals}", totals=each) + f"\n\n⚠️ {mixed}"


def _changed_heading(lang: Lang) -> str:
    return lang.t("⚠️ <b>Your cart changed</b>")


def shows_changes(lang: Lang, text: str | None) -> bool:
    """Whether a cart message on screen (its text as Telegram shows it: no tags) still carries
    the notes of a past review in `lang`."""
    plain = unescape(re.sub(r"<[^>]*>", "", _changed_heading(lang)))
    return bool(text) and plain in (text or "")


def _changes(lang: Lang, changes: Sequence[Changed], checking_out: bool) -> str:
    """What review corrected since the buyer last looked, one short line each."""
    if not changes:
        return ""
    rows = [_changed_heading(lang)]
    rows += [f"• {_change(lang, changed)}" for changed in changes[:MAX_LISTED_CHANGES]]
    if len(changes) > MAX_LISTED_CHANGES:
        more = len(changes) - MAX_LISTED_CHANGES
        rows.append("• " + lang.nt("…and {n} more", "…and {n} more", more))
    if checking_out:
        rows.append(lang.t("Please check your cart and tap <b>Checkout</b> again."))
    return "\n".join(rows) + "\n\n"


def _change(lang: Lang, changed: Changed) -> str:
    title = escape(clip(changed.title, CHANGE_TITLE_CHARS))
    if changed.change is Change.GONE:
        if not title:  # the product itself is gone: no title left to name it by
            return lang.t("A product is no longer available — removed.")
        return lang.t("“{title}” is no longer available — removed.", title=title)
    if changed.change is Change.SOLD_OUT:
        return lang.t("“{title}” sold out — removed.", title=title)
    if changed.change is Change.FEWER:
        return lang.nt(
            "Only {n} of “{title}” left — your quantity is now {n}.",
            "Only {n} of “{title}” left — your quantity is now {n}.",
            changed.after,
            title=title,
        )
    cost = escape(lang.money(changed.after, changed.currency))
    return lang.t("“{title}” now costs {price}.", title=title, price=cost)


def keyboard(lang: Lang, current: Cart) -> InlineKeyboardMarkup:
    """− / the line / + / ✕ for each line; Checkout (one currency only), Empty, the catalog."""
    catalog = InlineKeyboardButton(lang.t("‹ Catalog"), callback_data=cb.CATALOG.encode(0))
    if not current.items:
        browse = lang.t("🛍️ Browse the catalog")
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(browse, callback_data=cb.CATALOG.encode(0))]]
        )
    rows = [_line_row(lang, item) for item in current.items]
    pay = []
    if current.total is not None:
        total = lang.money(current.total, current.currencies[0])
        label = lang.t("✅ Checkout · {total}", total=total)
        pay.append(InlineKeyboardButton(label, callback_data=cb.CART_CHECKOUT.encode()))
    if current.stars_total is not None:
        label = stars_pay_button(lang, current.stars_total)
        pay.append(InlineKeyboardButton(label, callback_data=cb.CART_STARS.encode()))
    if pay:
        rows.append(pay)
    empty = InlineKeyboardButton(lang.t("🗑 Empty cart"), callback_data=cb.CART_EMPTY.encode())
    rows.append([empty, catalog])
    return InlineKeyboardMarkup(rows)


def _line_row(lang: Lang, item: CartItem) -> list[InlineKeyboardButton]:
    name = lang.t(
        "{title} × {quantity}",
        title=clip(_title(lang, item), BUTTON_TITLE_CHARS),
        quantity=lang.number(item.quantity),
    )
    return [
        InlineKeyboardButton("−", callback_data=cb.CART_LESS.encode(item.product_id)),
        InlineKeyboardButton(name, callback_data=cb.LABEL.encode()),
        InlineKeyboardButton("+", callback_data=cb.CART_MORE.encode(item.product_id)),
        InlineKeyboardButton("✕", callback_data=cb.CART_REMOVE.encode(item.product_id)),
    ]


def empty_question(lang: Lang, current: Cart) -> tuple[str, InlineKeyboardMarkup]:
    """Empty cart asks first: a cart can take a while to fill, and one tap should not lose it."""
    text = lang.nt(
        "🗑 <b>Empty your cart?</b>\n\n"
        "This takes the {n} product out of it. Nothing is charged either way.",
        "🗑 <b>Empty your cart?</b>\n\n"
        "This takes all {n} products out of it. Nothing is charged either way.",
        len(current.items),
    )
    keep = cb.CART_OPEN.encode(cb.CART_HERE)
    yes = lang.t("🗑 Yes, empty it")
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(yes, callback_data=cb.CART_EMPTY_YES.encode())],
            [InlineKeyboardButton(lang.t("‹ Keep my cart"), callback_data=keep)],
        ]
    )
    return text, markup


def cart_button(lang: Lang, lines: int, place: str) -> InlineKeyboardButton:
    """ "🛒 Cart (N)" (N: its lines) under the catalog and every card; `place` says whether the
    cart takes the tapped message's place or comes as a new one."""
    label = lang.t("🛒 Cart ({count})", count=lang.number(lines)) if lines else lang.t("🛒 Cart")
    return InlineKeyboardButton(label, callback_data=cb.CART_OPEN.encode(place))


# --- toasts and alerts (plain text, at most 200 units) ----------------------------------------


def added(lang: Lang, title: str, added: int, quantity: int, lines: int) -> str:
    """Add to cart went through: how many were added, the line now, the cart's size."""

    def render(width: int) -> str:
        values = {"title": clip(title, width), "added": lang.number(added)}
        if quantity != added:
            return lang.nt(
                "Added: {title} × {added} (now × {quantity}) — cart has {n} product",
                "Added: {title} × {added} (now × {quantity}) — cart has {n} products",
                lines,
                quantity=lang.number(quantity),
                **values,
            )
        return lang.nt(
            "Added: {title} × {added} — cart has {n} product",
            "Added: {title} × {added} — cart has {n} products",
            lines,
            **values,
        )

    return within(MAX_ALERT, render, TOAST_TITLE_CHARS)


def removed(lang: Lang, title: str) -> str:
    """A line gone from the cart (`title` "" when its product is gone too)."""
    if not title:
        return lang.t("Removed: the product")
    return within(
        MAX_ALERT,
        lambda width: lang.t("Removed: {title}", title=clip(title, width)),
        TOAST_TITLE_CHARS,
    )


def refused(lang: Lang, refusal: CartRefused, title: str, had: int) -> str:
    """Why Add to cart added nothing (`had`: the line's quantity before the tap); an alert,
    within MAX_ALERT."""
    if isinstance(refusal, CartFull):
        return lang.nt(
            "Your cart is full ({n} product at most). Check out or remove something first.",
            "Your cart is full ({n} products at most). Check out or remove something first.",
            MAX_CART_LINES,
        )
    if isinstance(refusal, LineFull):
        most = refusal.most
        return within(
            MAX_ALERT,
            lambda width: lang.nt(
                "Your cart already has {n} of “{title}”: that's the most you can add.",
                "Your cart already has {n} of “{title}”: that's the most you can add.",
                most,
                title=clip(title, width),
            ),
            TOAST_TITLE_CHARS,
        )
    if isinstance(refusal, NoneLeft):
        if had:
            return within(
                MAX_ALERT,
                lambda width: lang.t(
                    "No more of “{title}” left: your cart already has every one there is.",
                    title=clip(title, width),
                ),
                TOAST_TITLE_CHARS,
            )
        return texts.sold_out(lang, 0, title)
    return texts.product_unavailable(lang)


def cart_changed(lang: Lang) -> str:
    return lang.t("Your cart changed since you last saw it: check it and tap Checkout again.")


def stars_pay_button(lang: Lang, stars: int) -> str:
    return lang.nt("⭐ Pay {n} Star", "⭐ Pay {n} Stars", stars)


def cannot_pay(lang: Lang, current: Cart) -> str:
    """Why a cart's Checkout or ⭐ Pay tap has nothing to pay: empty, mixing rails (the lines
    to take out named), or mixing currencies."""
    if not current.items:
        return empty_now(lang)
    take_out = current.to_take_out()
    if take_out is not None:
        return texts.not_on_rail(lang, *take_out)
    return mixed_alert(lang)


def mixed_alert(lang: Lang) -> str:
    return lang.t(
        "One payment takes one currency: remove the lines your cart names, then check out."
    )


def too_big_for_one_receipt(lang: Lang) -> str:
    return lang.t(
        "Your cart won't fit in one receipt message. Please pay for part of it now (lower a "
        "quantity or remove a line) and the rest in a second order."
    )


def empty_now(lang: Lang) -> str:
    return lang.t("Your cart is empty.")
