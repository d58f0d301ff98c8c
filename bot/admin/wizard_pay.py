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
    delivery_prompt,
    physical_not_stars_alert,
    price_hint,
    rail_keyboard,
    rail_label,
    rail_prompt,
    stars_hint,
)
from bot.admin.wizard_draft import Step, draft_of, draft_tap
from bot.context import ShopContext
from shop.catalog import rail_allowed
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
    draft, lang = draft_of(context), context.lang
    text = rail_prompt(lang, draft.kind)
    markup = rail_keyboard(lang, draft.kind, cb.WIZARD_RAIL, draft.token)
    return _ask(update, context, first, text, Step.RAIL, markup)


async def chose_rail(update: Update, context: ShopContext) -> object:
    """A rail button: a physical product's Stars or Both is refused kindly (the question stays);
    otherwise the choice replaces the buttons and the first price it needs is asked."""
    if (tap := await draft_tap(update, context, cb.WIZARD_RAIL)) is None:
        return None
    query, data, draft = tap
    lang = context.lang
    rail = ProductRail(data.word(1))
    if not rail_allowed(draft.kind, rail):
        await query.answer(physical_not_stars_alert(lang), show_alert=True)
        return None
    draft.rail = rail
    await query.answer()
    text = lang.t(
        "{question}\n\nChosen: <b>{choice}</b>",
        question=rail_prompt(lang, draft.kind),
        choice=rail_label(lang, rail),
    )
    chosen = query.edit_message_text(text, parse_mode=ParseMode.HTML)
    return next_question(update, context, chosen, "")


async def _nothing() -> None:
    return None


def next_question(update: Update, context: ShopContext, first: Shown | None, note: str) -> object:
    """The next price the rail needs and the draft lacks; with all of them, the kind's first
    own question (its delivery text or note). `note` (HTML) echoes the last answer."""
    draft, lang = draft_of(context), context.lang
    shown = first if first is not None else _nothing()
    if draft.rail.includes(Rail.STRIPE) and draft.price is None:
        hint = price_hint(lang, context.shop.settings.default_currency)
        return _ask(update, context, shown, note + hint, Step.PRICE)
    if draft.rail.includes(Rail.STARS) and draft.stars is None:
        return _ask(update, context, shown, note + stars_hint(lang), Step.STARS)
    return _ask(update, context, shown, note + delivery_prompt(lang, draft.kind), Step.DELIVERY)


async def got_price(update: Update, context: ShopContext) -> object:
    """The price by card: a friendly error and the question again, or the next question."""
    message, draft, lang = message_of(update), draft_of(context), context.lang
    default = context.shop.settings.default_currency
    try:
        draft.price = clean_price(message.text, default)
    except FieldError as error:
        await ask_again(lang, message, error, price_hint(lang, default))
        return None
    shown = escape(lang.money(draft.price.amount, draft.price.currency))
    note = lang.t("Price: <b>{price}</b>", price=shown)
    return next_question(update, context, None, note + "\n\n")


async def got_stars(update: Update, context: ShopContext) -> object:
    """The Stars price (whole Stars, within our bound): an error asks again."""
    message, draft, lang = message_of(update), draft_of(context), context.lang
    try:
        draft.stars = clean_stars(message.text)
    except FieldError as error:
        await ask_again(lang, message, error, stars_hint(lang))
        return None
    shown = escape(lang.money(draft.stars, STARS_CURRENCY))
    note = lang.t("Price in Stars: <b>{price}</b>", price=shown)
    return next_question(update, context, None, note + "\n\n")
