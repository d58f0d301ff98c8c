"""/language: a person picks the language the shop speaks with them, buyers and admins alike.

The menu lists the offered languages, each in its own name with the one they get now marked,
and "Follow my Telegram app", which forgets the choice. A tap stores the choice
(storage/languages.py) and is answered in the new language at once; bot/language.py reads the
stored choice before every later update, so from then on everything speaks it.

`routes()` goes first in handler group 0, ahead of every dialog there: /language and its taps
are handled by these handlers and reach nothing else in the group, so an open dialog (an
admin's /addproduct, a tracking question, a buyer's /paysupport question) neither takes them for
an answer nor ends, and carries on with the person's next message where it was.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.callbacks import FOLLOW_APP, LANGUAGE_CHOICE
from bot.context import ShopContext
from bot.shared import unless_not_modified
from shop.i18n import Lang
from storage import languages

COMMAND = "language"
PER_ROW = 2  # language names are short: two a row still fits a phone
MARK = "✓ "  # before the language they get now, and before "Follow…" while they follow it


def routes() -> list[BaseHandler[Update, ShopContext, Any]]:
    """The command and its one button kind; bot/app.py adds them first in group 0."""
    return [
        CommandHandler(COMMAND, language_command),
        CallbackQueryHandler(chose_language, pattern=LANGUAGE_CHOICE.pattern),
    ]


async def language_command(update: Update, context: ShopContext) -> None:
    """The menu, in the language the person gets now."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    stored = await languages.of(context.shop.db.reader, user.id)
    following = context.shop.languages.find(stored.chosen) is None
    lang = context.lang
    text = lang.t(
        "🌐 The shop speaks <b>{language}</b> with you.\n\n"
        "Choose another language, or let the shop follow the language of your Telegram app "
        "(whenever the shop speaks it).",
        language=html.escape(lang.name),
    )
    markup = menu_keyboard(lang, context.shop.languages.offered, following=following)
    await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


def menu_keyboard(lang: Lang, offered: Sequence[Lang], *, following: bool) -> InlineKeyboardMarkup:
    """The offered languages by their own names, `lang` (the one they get now) marked, and
    "Follow my Telegram app", marked while no choice of theirs stands."""
    buttons = [
        InlineKeyboardButton(
            (MARK if option.code == lang.code else "") + option.name,
            callback_data=LANGUAGE_CHOICE.encode(option.code),
        )
        for option in offered
    ]
    rows = [buttons[start : start + PER_ROW] for start in range(0, len(buttons), PER_ROW)]
    follow = lang.t("Follow my Telegram app")
    rows.append(
        [
            InlineKeyboardButton(
                (MARK if following else "") + follow,
                callback_data=LANGUAGE_CHOICE.encode(FOLLOW_APP),
            )
        ]
    )
    return InlineKeyboardMarkup(rows)


async def chose_language(update: Update, context: ShopContext) -> None:
    """Store the tapped choice and say so in the new language; a language the shop does not
    offer (a forged tap, or LANGUAGES changed since the menu was sent) stores nothing."""
    query = update.callback_query
    assert query is not None
    tap = LANGUAGE_CHOICE.decode(query.data or "")
    assert tap is not None, "the handler's pattern is the button's own"
    shop, user = context.shop, query.from_user
    code = tap.word(0)
    if code == FOLLOW_APP:
        chosen: str | None = None
        lang = shop.languages.pick(None, user.language_code)
    else:
        found = shop.languages.find(code)
        if found is None:
            await query.answer(
                context.lang.t(
                    "This shop does not offer that language. Send /language to see the ones "
                    "it does."
                ),
                show_alert=True,
            )
            return
        chosen, lang = found.code, found
    async with shop.db.transaction() as tx:
        await languages.choose(tx, user.id, chosen)
    context.speak(lang)
    await query.answer()
    await _confirm(query, _confirmation(context.lang, following=chosen is None))


def _confirmation(lang: Lang, *, following: bool) -> str:
    name = html.escape(lang.name)
    if following:
        return lang.t(
            "✅ From now on the shop follows the language of your Telegram app. "
            "Right now that is <b>{language}</b>.",
            language=name,
        )
    return lang.t("✅ From now on the shop speaks <b>{language}</b> with you.", language=name)


async def _confirm(query: CallbackQuery, text: str) -> None:
    """The menu becomes the confirmation, without its buttons (the choice is made; /language
    again to change it); a menu too old to edit gets a new message instead."""
    if isinstance(query.message, Message) and query.message.text is not None:
        with unless_not_modified():  # a second tap on the same menu before it changed
            await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=None)
        return
    await query.get_bot().send_message(query.from_user.id, text, parse_mode=ParseMode.HTML)
