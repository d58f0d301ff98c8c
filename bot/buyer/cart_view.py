"""The cart as the buyer sees it (Telegram HTML and its buttons), the toasts of Add to cart,
and the cart's refusals.

A cart holds up to storage.carts.MAX_CART_LINES lines; every title is clipped and at most
MAX_LISTED_CHANGES changes are listed, so the view stays within Telegram's 4096 units and
100 buttons however long the merchant's titles (a row of four small buttons per line, three
more below). Toasts and alerts are plain text within 200 units.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks as cb
from bot.buyer import texts
from bot.texts import clip
from shop.cart import Cart, CartFull, CartItem, CartRefused, Change, Changed, LineFull, NoneLeft
from shop.money import format_money
from storage.carts import MAX_CART_LINES
from storage.models import STARS_CURRENCY, Rail

LINE_TITLE_CHARS = 48
BUTTON_TITLE_CHARS = 18
TOAST_TITLE_CHARS = 48
CHANGE_TITLE_CHARS = 40
MAX_LISTED_CHANGES = 10


def _products(count: int) -> str:
    return f"{count} product{'' if count == 1 else 's'}"


def _title(item: CartItem) -> str:
    return item.product.title if item.product is not None else "A product"


def page(current: Cart, changes: Sequence[Changed] = (), *, checking_out: bool = False) -> str:
    """The cart: what changed (if anything), each line with its quantity, today's unit price
    and subtotal, then the total — or a total per currency and which lines to remove."""
    head = _changes(changes, checking_out)
    if not current.items:
        return head + (
            "🛒 <b>Your cart is empty.</b>\n\n"
            "Add products with <b>Add to cart</b> on their cards in the catalog."
        )
    rows = [f"🛒 <b>Your cart</b> · {_products(len(current.items))}\n"]
    for number, item in enumerate(current.items, start=1):
        rows.append(f"{number}. <b>{escape(clip(_title(item), LINE_TITLE_CHARS))}</b>")
        if item.product is not None:
            amount, currency = item.product.price_on(_shown_rail(item))
            unit, subtotal = (
                format_money(amount, currency),
                format_money(amount * item.quantity, currency),
            )
            rows.append(f"{item.quantity} × {escape(unit)} = {escape(subtotal)}")
    return head + "\n".join(rows) + "\n\n" + _totals(current)


def _shown_rail(item: CartItem) -> Rail:
    """A line's price as the buyer knows it: by card when it sells so, else in Stars."""
    assert item.product is not None
    return Rail.STRIPE if item.product.sells_on(Rail.STRIPE) else Rail.STARS


def _totals(current: Cart) -> str:
    """The total on each rail that can pay for the whole cart; for a cart mixing rails, the
    lines to take out; for one mixing currencies, a total per currency and what to remove."""
    take_out = current.to_take_out()
    if take_out is not None:
        return f"⚠️ {escape(texts.not_on_rail(*take_out))}"
    shown = []
    if current.total is not None:
        shown.append(format_money(current.total, current.currencies[0]))
    if current.stars_total is not None:
        shown.append(format_money(current.stars_total, STARS_CURRENCY))
    if shown:
        return "Total: " + " or ".join(f"<b>{escape(total)}</b>" for total in shown)
    totals = current.totals
    each = " · ".join(f"<b>{escape(format_money(v, c))}</b>" for c, v in totals.items())
    by_currency = {
        currency: [
            _title(item)
            for item in current.items
            if item.product is not None and item.product.currency == currency
        ]
        for currency in current.currencies
    }
    return f"Totals: {each}\n\n⚠️ {escape(texts.mixed_currencies(by_currency))}"


CHANGED_HEADING = "⚠️ Your cart changed"


def shows_changes(text: str | None) -> bool:
    """Whether a cart message on screen still carries the notes of a past review."""
    return bool(text) and CHANGED_HEADING in (text or "")


def _changes(changes: Sequence[Changed], checking_out: bool) -> str:
    """What review corrected since the buyer last looked, one short line each."""
    if not changes:
        return ""
    rows = ["⚠️ <b>Your cart changed</b>"]
    rows += [f"• {_change(changed)}" for changed in changes[:MAX_LISTED_CHANGES]]
    if len(changes) > MAX_LISTED_CHANGES:
        rows.append(f"• …and {len(changes) - MAX_LISTED_CHANGES} more")
    if checking_out:
        rows.append("Please check your cart and tap <b>Checkout</b> again.")
    return "\n".join(rows) + "\n\n"


def _change(changed: Changed) -> str:
    what = f"“{escape(clip(changed.title, CHANGE_TITLE_CHARS))}”"
    if changed.change is Change.GONE:
        return f"{what} is no longer available — removed."
    if changed.change is Change.SOLD_OUT:
        return f"{what} sold out — removed."
    if changed.change is Change.FEWER:
        return f"Only {changed.after} of {what} left — your quantity is now {changed.after}."
    return f"{what} now costs {escape(format_money(changed.after, changed.currency))}."


def keyboard(current: Cart) -> InlineKeyboardMarkup:
    """− / the line / + / ✕ for each line; Checkout (one currency only), Empty, the catalog."""
    catalog = InlineKeyboardButton("‹ Catalog", callback_data=cb.CATALOG.encode(0))
    if not current.items:
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton("🛍️ Browse the catalog", callback_data=cb.CATALOG.encode(0))]]
        )
    rows = [_line_row(item) for item in current.items]
    pay = []
    if current.total is not None:
        total = format_money(current.total, current.currencies[0])
        pay.append(
            InlineKeyboardButton(f"✅ Checkout · {total}", callback_data=cb.CART_CHECKOUT.encode())
        )
    if current.stars_total is not None:
        label = stars_pay_button(current.stars_total)
        pay.append(InlineKeyboardButton(label, callback_data=cb.CART_STARS.encode()))
    if pay:
        rows.append(pay)
    empty = InlineKeyboardButton("🗑 Empty cart", callback_data=cb.CART_EMPTY.encode())
    rows.append([empty, catalog])
    return InlineKeyboardMarkup(rows)


def _line_row(item: CartItem) -> list[InlineKeyboardButton]:
    name = f"{clip(_title(item), BUTTON_TITLE_CHARS)} × {item.quantity}"
    return [
        InlineKeyboardButton("−", callback_data=cb.CART_LESS.encode(item.product_id)),
        InlineKeyboardButton(name, callback_data=cb.LABEL.encode()),
        InlineKeyboardButton("+", callback_data=cb.CART_MORE.encode(item.product_id)),
        InlineKeyboardButton("✕", callback_data=cb.CART_REMOVE.encode(item.product_id)),
    ]


def empty_question(current: Cart) -> tuple[str, InlineKeyboardMarkup]:
    """Empty cart asks first: a cart can take a while to fill, and one tap should not lose it."""
    text = (
        "🗑 <b>Empty your cart?</b>\n\n"
        f"This takes all {_products(len(current.items))} out of it. Nothing is charged either way."
    )
    keep = cb.CART_OPEN.encode(cb.CART_HERE)
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("🗑 Yes, empty it", callback_data=cb.CART_EMPTY_YES.encode())],
            [InlineKeyboardButton("‹ Keep my cart", callback_data=keep)],
        ]
    )
    return text, markup


def cart_button(lines: int, place: str) -> InlineKeyboardButton:
    """ "🛒 Cart (N)" (N: its lines) under the catalog and every card; `place` says whether the
    cart takes the tapped message's place or comes as a new one."""
    label = f"🛒 Cart ({lines})" if lines else "🛒 Cart"
    return InlineKeyboardButton(label, callback_data=cb.CART_OPEN.encode(place))


# --- toasts and alerts (plain text, at most 200 units) ----------------------------------------


def added(title: str, added: int, quantity: int, lines: int) -> str:
    """Add to cart went through: how many were added, the line now, the cart's size."""
    what = clip(title, TOAST_TITLE_CHARS)
    now = f" (now × {quantity})" if quantity != added else ""
    return f"Added: {what} × {added}{now} — cart has {_products(lines)}"


def removed(title: str) -> str:
    return f"Removed: {clip(title, TOAST_TITLE_CHARS)}"


def refused(refusal: CartRefused, title: str, had: int) -> str:
    """Why Add to cart added nothing (`had`: the line's quantity before the tap)."""
    what = f"“{clip(title, TOAST_TITLE_CHARS)}”"
    if isinstance(refusal, CartFull):
        return (
            f"Your cart is full ({MAX_CART_LINES} products at most). "
            "Check out or remove something first."
        )
    if isinstance(refusal, LineFull):
        return f"Your cart already has {refusal.most} of {what}: that's the most you can add."
    if isinstance(refusal, NoneLeft):
        if had:
            return f"No more of {what} left: your cart already has every one there is."
        return texts.sold_out(0, title)
    return texts.product_unavailable()


def cart_changed() -> str:
    return "Your cart changed since you last saw it: check it and tap Checkout again."


def stars_pay_button(stars: int) -> str:
    return f"⭐ Pay {stars:,} Stars"


def cannot_pay(current: Cart) -> str:
    """Why a cart's Checkout or ⭐ Pay tap has nothing to pay: empty, mixing rails (the lines
    to take out named), or mixing currencies."""
    if not current.items:
        return empty_now()
    take_out = current.to_take_out()
    if take_out is not None:
        return texts.not_on_rail(*take_out)
    return mixed_alert()


def mixed_alert() -> str:
    return "One payment takes one currency: remove the lines your cart names, then check out."


def too_big_for_one_receipt() -> str:
    return (
        "Everything in your cart won't fit in one receipt message. Please pay for part of it "
        "now (lower a quantity or remove a line) and for the rest in a second order."
    )


def empty_now() -> str:
    return "Your cart is empty."
