"""What the buyer's and the admin's chat handlers share: who is an admin, reading a tapped
button through the codec, the one way to show a page in place (an edit that changes nothing is
no error), and the ‹ Back · n/m · Next › row under a paged list, in the person's language. The
words both audiences share are in bot/texts.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.callbacks import LABEL, Button, Callback
from bot.context import ShopContext
from shop.i18n import Lang

log = logging.getLogger(__name__)


def is_admin(update: Update, context: ShopContext) -> bool:
    user = update.effective_user
    return user is not None and user.id in context.shop.settings.admin_ids


async def tapped(update: Update, button: Button) -> tuple[CallbackQuery, Callback] | None:
    """The tapped query and its data as `button` reads it. Every handler is registered with its
    button's own pattern, so data it cannot read means a handler registered with the wrong
    button: a bug, logged, and the tap answered (its spinner stopped) with None returned."""
    query = update.callback_query
    assert query is not None
    callback = button.decode(query.data or "")
    if callback is None:
        log.error("callback data %r reached the handler of %r", query.data, button.prefix)
        await query.answer()
        return None
    return query, callback


# --- showing a page in place -------------------------------------------------------------------


@contextmanager
def unless_not_modified() -> Iterator[None]:
    """An edit that would change nothing (a second tap on the same page) is not an error."""
    try:
        yield
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise


async def show_page(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Turn the tapped message into the next page; a photo (or inaccessible) message gets a
    new message instead, since a caption cannot become a text."""
    message = query.message
    if not isinstance(message, Message) or message.text is None:
        await query.get_bot().send_message(
            query.from_user.id, text, parse_mode=ParseMode.HTML, reply_markup=markup
        )
        return
    with unless_not_modified():
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def reply_page(update: Update, page: tuple[str, InlineKeyboardMarkup | None]) -> None:
    """Answer a command with a page (HTML text and its buttons) as a new message."""
    assert update.effective_message is not None
    text, markup = page
    await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def turn_page(query: CallbackQuery, page: tuple[str, InlineKeyboardMarkup | None]) -> None:
    """Answer a tap (its spinner) and show the page it asked for in place."""
    await query.answer()
    await show_page(query, *page)


async def take_buttons_off(context: ShopContext, chat_id: int, message_id: int | None) -> None:
    """Leave the message as it is, without its buttons: a choice made there is over. A
    message already without them, or gone, is fine."""
    if message_id is None:
        return
    try:
        await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
    except BadRequest as error:
        log.info("could not take the buttons off an answered question: %s", error.message)


async def show_buttons(query: CallbackQuery, markup: InlineKeyboardMarkup) -> None:
    """Redraw only the tapped message's buttons (the text stays)."""
    with unless_not_modified():
        await query.edit_message_reply_markup(markup)


def page_row(
    lang: Lang, button: Button, page: int, pages: int, *lead: int | str
) -> list[InlineKeyboardButton]:
    """‹ Back · n/m · Next › under a paged list: `button` opens a page, `lead` are its
    arguments before the page number; the counter is an inert label. The callback data is
    the same in every language."""
    row = []
    if page > 0:
        back = lang.t("‹ Back")
        row.append(InlineKeyboardButton(back, callback_data=button.encode(*lead, page - 1)))
    counter = lang.t("{page}/{pages}", page=lang.number(page + 1), pages=lang.number(pages))
    row.append(InlineKeyboardButton(counter, callback_data=LABEL.encode()))
    if page + 1 < pages:
        forward = lang.t("Next ›")
        row.append(InlineKeyboardButton(forward, callback_data=button.encode(*lead, page + 1)))
    return row
