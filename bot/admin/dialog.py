"""Admin dialogs: one open dialog per admin, replies sent only after the state is stored.

The app handles updates concurrently; a dialog that answered before returning its next state
would let a quick admin's next message reach the old step. `advance` schedules the reply after
python-telegram-bot has stored the new state.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Coroutine
from dataclasses import dataclass
from html import escape
from typing import Any, TypeVar

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.ext import ConversationHandler

from bot.admin.auth import Handler
from bot.admin.fields import FieldError
from bot.context import ShopContext
from bot.shared import take_buttons_off
from bot.texts import admin_button_expired
from shop.i18n import ENGLISH

END = ConversationHandler.END
State = TypeVar("State")


DIALOG = "admin_dialog"


@dataclass
class Dialog:
    """What an admin is in the middle of; one at a time, kept in their user_data."""

    label: str  # HTML, e.g. "the new product"
    outcome: str  # what cancelling means, e.g. "nothing was saved"
    keyboard_id: int | None = None  # the message whose buttons answer the current step


def current(context: ShopContext) -> Dialog | None:
    """The admin's open dialog, if any."""
    found = (context.user_data or {}).get(DIALOG)
    return found if isinstance(found, Dialog) else None


def begin(context: ShopContext, dialog: Dialog) -> str:
    """Start `dialog`, replacing any other; returns a note about the one it replaced."""
    assert context.user_data is not None
    previous = current(context)
    context.user_data[DIALOG] = dialog
    if previous is None:
        return ""
    return f"\n\n<i>(Left {previous.label} unfinished: {previous.outcome}.)</i>"


def finish(context: ShopContext) -> Dialog | None:
    """Forget the dialog (it was saved, cancelled or timed out); returns what it was."""
    dialog = current(context)
    if context.user_data is not None:
        context.user_data.pop(DIALOG, None)
    return dialog


def advance(
    context: ShopContext,
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
    async def step(update: Update, context: ShopContext) -> object:
        if isinstance(current(context), kind):
            return await handler(update, context)
        if update.callback_query is not None:
            await update.callback_query.answer(admin_button_expired(ENGLISH), show_alert=True)
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


async def drop_keyboard(context: ShopContext, chat_id: int, dialog: Dialog) -> None:
    """Take the buttons off the dialog's last question (answered by typing, by a tap, or left
    by /cancel); a message already without them, or gone, is fine."""
    message_id, dialog.keyboard_id = dialog.keyboard_id, None
    await take_buttons_off(context, chat_id, message_id)


async def ask_again(message: Message, error: FieldError, hint: str) -> None:
    """Tell the admin what was wrong and what to send instead; the step stays the same."""
    await say(message, f"⚠️ {escape(str(error))}\n\n{hint}")


# --- what every dialog shares: /cancel, /skip where it can't, off-script input, timeouts ---

DIALOG_TIMEOUT: float | dt.timedelta = dt.timedelta(minutes=15)
"""How long a dialog waits for the admin's next answer (read when the routes are built)."""


def stay(context: ShopContext) -> object:
    """An entry point that started nothing: keep the dialog the admin is in, if any."""
    return None if current(context) is not None else END


async def cancel(update: Update, context: ShopContext) -> object:
    """/cancel in any dialog: "Cancelled … — nothing was saved"."""
    dialog = finish(context)
    if dialog is not None:
        await drop_keyboard(context, message_of(update).chat_id, dialog)
    text = f"✖️ Cancelled {dialog.label} — {dialog.outcome}." if dialog else "Nothing to cancel."
    return advance(context, update, say(message_of(update), text), END)


async def cannot_skip(update: Update, context: ShopContext) -> object:
    """/skip where an answer is required: "this step can't be skipped"."""
    await say(message_of(update), "This step can't be skipped. Answer it, or /cancel.")
    return None


async def off_script(update: Update, context: ShopContext) -> object:
    """Something the current step can't use (a sticker, a file…): what to do instead."""
    await say(message_of(update), "I can't use that here. Answer the question above, or /cancel.")
    return None


def _duration(timeout: float | dt.timedelta) -> str:
    seconds = timeout.total_seconds() if isinstance(timeout, dt.timedelta) else timeout
    if seconds >= 60:
        minutes = round(seconds / 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds:g} second{'s' if seconds != 1 else ''}"


async def timed_out(update: Update, context: ShopContext) -> None:
    """No answer for DIALOG_TIMEOUT: "⌛ I closed … — nothing was saved"."""
    dialog = finish(context)
    if dialog is None or update.effective_chat is None:
        return
    await drop_keyboard(context, update.effective_chat.id, dialog)
    await context.bot.send_message(
        update.effective_chat.id,
        f"⌛ No answer for {_duration(DIALOG_TIMEOUT)}, so I closed {dialog.label} — "
        f"{dialog.outcome}. Start again whenever you like.",
        parse_mode=ParseMode.HTML,
    )
