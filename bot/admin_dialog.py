"""Admin dialogs: one open dialog per admin, replies sent only after the state is stored.

The app handles updates concurrently; a dialog that answered before returning its next state
would let a quick admin's next message reach the old step. `advance` schedules the reply after
python-telegram-bot has stored the new state.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from html import escape
from typing import Any, TypeVar

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes, ConversationHandler

from bot import texts
from bot.admin_auth import Handler
from bot.admin_fields import FieldError

log = logging.getLogger(__name__)

END = ConversationHandler.END
State = TypeVar("State")


DIALOG = "admin_dialog"


@dataclass
class Dialog:
    """What an admin is in the middle of; one at a time, kept in their user_data."""

    label: str  # HTML, e.g. "the new product"
    outcome: str  # what cancelling means, e.g. "nothing was saved"
    keyboard_id: int | None = None  # the message whose buttons answer the current step


def current(context: ContextTypes.DEFAULT_TYPE) -> Dialog | None:
    """The admin's open dialog, if any."""
    found = (context.user_data or {}).get(DIALOG)
    return found if isinstance(found, Dialog) else None


def begin(context: ContextTypes.DEFAULT_TYPE, dialog: Dialog) -> str:
    """Start `dialog`, replacing any other; returns a note about the one it replaced."""
    assert context.user_data is not None
    previous = current(context)
    context.user_data[DIALOG] = dialog
    if previous is None:
        return ""
    return f"\n\n<i>(Left {previous.label} unfinished: {previous.outcome}.)</i>"


def finish(context: ContextTypes.DEFAULT_TYPE) -> Dialog | None:
    """Forget the dialog (it was saved, cancelled or timed out); returns what it was."""
    dialog = current(context)
    if context.user_data is not None:
        context.user_data.pop(DIALOG, None)
    return dialog


def advance(
    context: ContextTypes.DEFAULT_TYPE,
    update: Update,
    reply: Coroutine[Any, Any, object],
    state: State,
) -> State:
    """Move the conversation to `state`, then show `reply`: PTB stores the returned state
    before this task yields, and only then does the reply go out and invite the next step."""
    context.application.create_task(reply, update=update, name="admin dialog reply")
    return state


def within(kind: type[Dialog], handler: Handler) -> Handler:
    """Run a dialog step only while its dialog is on: a timeout or a second tap may have just
    closed it, and then the admin hears so instead of an error."""

    @functools.wraps(handler)
    async def step(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
        if isinstance(current(context), kind):
            return await handler(update, context)
        if update.callback_query is not None:
            await update.callback_query.answer(texts.admin_button_expired(), show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text("That dialog has ended. Start it again.")
        return END

    return step


def message_of(update: Update) -> Message:
    """The message to answer: the admin's own, or the one carrying the tapped button."""
    assert update.effective_message is not None
    return update.effective_message


async def say(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
    """Answer in the same chat; `text` is HTML, with everything the merchant typed escaped."""
    return await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def ask_with_buttons(
    message: Message, dialog: Dialog, text: str, markup: InlineKeyboardMarkup
) -> None:
    """Ask a step that offers buttons, remembering the message so that its buttons can be
    taken away once the step is answered (`drop_keyboard`) and cannot be tapped later."""
    dialog.keyboard_id = (await say(message, text, markup)).message_id


async def drop_keyboard(context: ContextTypes.DEFAULT_TYPE, chat_id: int, dialog: Dialog) -> None:
    """Take the buttons off the dialog's last question (answered by typing, by a tap, or left
    by /cancel); a message already without them, or gone, is fine."""
    message_id, dialog.keyboard_id = dialog.keyboard_id, None
    if message_id is not None:
        await take_buttons_off(context, chat_id, message_id)


async def take_buttons_off(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, message_id: int
) -> None:
    """Leave the message as it is, without its buttons: a choice made there is over."""
    try:
        await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
    except BadRequest as error:
        log.info("could not take the buttons off an answered question: %s", error.message)


async def ask_again(message: Message, error: FieldError, hint: str) -> None:
    """Tell the admin what was wrong and what to send instead; the step stays the same."""
    await say(message, f"⚠️ {escape(str(error))}\n\n{hint}")
