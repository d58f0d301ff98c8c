"""/addproduct's payment steps, after the kind: the rail (Stripe, Telegram Stars or both), then
the price of each rail it sells through — by card only when Stripe sells it, in Stars only
when Stars do — and then on to the kind's own questions (bot/admin/wizard.py).

Which rails a kind may use and which one is suggested are shop/catalog.py's rules; this module
only asks and explains them.
"""

from __future__ import annotations

from collections.abc import Coroutine
from html import escape
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

from bot import callbacks as cb
from bot.admin.dialog import advance, ask_again, message_of, say
from bot.admin.fields import FieldError, clean_price, clean_stars
from bot.admin.product_texts import (
    KIND_LABELS,
    PHYSICAL_NOT_STARS,
    RAIL_LABELS,
    delivery_prompt,
    price_hint,
    rail_keyboard,
    rail_prompt,
    stars_hint,
)
from bot.admin.wizard_draft import Step, draft_of, draft_tap
from bot.context import ShopContext
from shop.catalog import rail_allowed
from shop.money import format_money
from storage.models import STARS_CURRENCY, ProductRail, Rail

Shown = Coroutine[Any, Any, object]  # a change to show before the next question


def _ask(
    update: Update,
    context: ShopContext,
    first: Shown,
    text: str,
    step: Step,
    markup: InlineKeyboardMarkup | None = None,
) -> object:
    """Move to `step`, then show `first` (the answered question's new look) and ask `text`:
    the state is stored before anything invites the next answer (`advance`)."""
    message = message_of(update)

    async def show() -> None:
        await first
        await say(message, text, markup)

    return advance(context, update, show(), step)


def ask_rail(update: Update, context: ShopContext, first: Shown) -> object:
    """The rail question: Telegram's rule in one sentence, the three choices, the kind's
    suggestion marked."""
    draft = draft_of(context)
    text = rail_prompt(draft.kind, KIND_LABELS[draft.kind])
    markup = rail_keyboard(draft.kind, cb.WIZARD_RAIL, draft.token)
    return _ask(update, context, first, text, Step.RAIL, markup)


async def chose_rail(update: Update, context: ShopContext) -> object:
    """A rail button: a physical product's Stars or Both is refused kindly (the question stays);
    otherwise the choice replaces the buttons and the first price it needs is asked."""
    if (tap := await draft_tap(update, context, cb.WIZARD_RAIL)) is None:
        return None
    query, data, draft = tap
    rail = ProductRail(data.word(1))
    if not rail_allowed(draft.kind, rail):
        await query.answer(PHYSICAL_NOT_STARS, show_alert=True)
        return None
    draft.rail = rail
    await query.answer()
    chosen = query.edit_message_text(
        f"{rail_prompt(draft.kind, KIND_LABELS[draft.kind])}\n\nChosen: <b>{RAIL_LABELS[rail]}</b>",
        parse_mode=ParseMode.HTML,
    )
    return next_question(update, context, chosen, "")


async def _nothing() -> None:
    return None


def next_question(update: Update, context: ShopContext, first: Shown | None, note: str) -> object:
    """The next price the rail needs and the draft lacks; with all of them, the kind's first
    own question (its delivery text or note). `note` (HTML) echoes the last answer."""
    draft = draft_of(context)
    shown = first if first is not None else _nothing()
    if draft.rail.includes(Rail.STRIPE) and draft.price is None:
        hint = price_hint(context.shop.settings.default_currency)
        return _ask(update, context, shown, note + hint, Step.PRICE)
    if draft.rail.includes(Rail.STARS) and draft.stars is None:
        return _ask(update, context, shown, note + stars_hint(), Step.STARS)
    return _ask(update, context, shown, note + delivery_prompt(draft.kind), Step.DELIVERY)


async def got_price(update: Update, context: ShopContext) -> object:
    """The price by card: a friendly error and the question again, or the next question."""
    message, draft = message_of(update), draft_of(context)
    default = context.shop.settings.default_currency
    try:
        draft.price = clean_price(message.text, default)
    except FieldError as error:
        await ask_again(message, error, price_hint(default))
        return None
    shown = escape(format_money(draft.price.amount, draft.price.currency))
    return next_question(update, context, None, f"Price: <b>{shown}</b>\n\n")


async def got_stars(update: Update, context: ShopContext) -> object:
    """The Stars price (whole Stars, within our bound): an error asks again."""
    message, draft = message_of(update), draft_of(context)
    try:
        draft.stars = clean_stars(message.text)
    except FieldError as error:
        await ask_again(message, error, stars_hint())
        return None
    shown = escape(format_money(draft.stars, STARS_CURRENCY))
    return next_question(update, context, None, f"Price in Stars: <b>{shown}</b>\n\n")
