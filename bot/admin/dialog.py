"""Admin dialogs: one open dialog per admin, replies sent only after the state is stored.

The app handles updates concurrently; a dialog that answered before returning its next state
would let a quick admin's next message reach the old step. `advance` schedules the reply after
python-telegram-bot has stored the new state.

Everything is said in the admin's language (`context.lang`), which may change mid-dialog
(/language): so a dialog keeps no words of its own, only what it is about, and says how it
ended in whole sentences when it ends.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from abc import ABC, abstractmethod
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
from bot.language import stored_language
from bot.shared import take_buttons_off
from bot.texts import admin_button_expired
from shop.i18n import Lang

END = ConversationHandler.END
State = TypeVar("State")


DIALOG = "admin_dialog"


@dataclass
class Dialog(ABC):
    """What an admin is in the middle of; one at a time, kept in their user_data. Each kind
    says how it ended (HTML, merchant text escaped), since what ending one means differs:
    nothing saved, nothing changed, no items added."""

    keyboard_id: int | None = None  # the message whose buttons answer the current step

    @abstractmethod
    def cancelled(self, lang: Lang) -> str:
        """/cancel: "✖️ Cancelled … — nothing was saved."."""

    @abstractmethod
    def replaced(self, lang: Lang) -> str:
        """Another dialog started: "(Left … unfinished: nothing was saved.)"."""

    @abstractmethod
    def closed(self, lang: Lang, waited: str) -> str:
        """No answer for `waited` ("15 minutes"): "⌛ No answer for …, so I closed …"."""


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
    return f"\n\n<i>{previous.replaced(context.lang)}</i>"


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
            await update.callback_query.answer(admin_button_expired(context.lang), show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(
                context.lang.t("That dialog has ended. Start it again.")
            )
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


async def ask_again(lang: Lang, message: Message, error: FieldError, hint: str) -> None:
    """Tell the admin what was wrong and what to send instead; the step stays the same."""
    await say(message, f"⚠️ {escape(error.text(lang))}\n\n{hint}")


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
    lang = context.lang
    text = dialog.cancelled(lang) if dialog else lang.t("Nothing to cancel.")
    return advance(context, update, say(message_of(update), text), END)


async def cannot_skip(update: Update, context: ShopContext) -> object:
    """/skip where an answer is required: "this step can't be skipped"."""
    await say(
        message_of(update), context.lang.t("This step can't be skipped. Answer it, or /cancel.")
    )
    return None


async def off_script(update: Update, context: ShopContext) -> object:
    """Something the current step can't use (a sticker, a file…): what to do instead."""
    await say(
        message_of(update),
        context.lang.t("I can't use that here. Answer the question above, or /cancel."),
    )
    return None


def _duration(lang: Lang, timeout: float | dt.timedelta) -> str:
    """The wait in whole minutes, or whole seconds (rounded up) when under a minute."""
    seconds = timeout.total_seconds() if isinstance(timeout, dt.timedelta) else timeout
    if seconds >= 60:
        return lang.nt("{n} minute", "{n} minutes", round(seconds / 60))
    return lang.nt("{n} second", "{n} seconds", max(math.ceil(seconds), 1))


async def timed_out(update: Update, context: ShopContext) -> None:
    """No answer for DIALOG_TIMEOUT: "⌛ I closed … — nothing was saved"."""
    dialog = finish(context)
    if dialog is None or update.effective_chat is None:
        return
    await drop_keyboard(context, update.effective_chat.id, dialog)
    # The job carries the context of the dialog's last step; the admin may have chosen another
    # language since (/language works mid-dialog), so their language is read again.
    user = update.effective_user
    lang = await stored_language(context.shop, user.id) if user else context.lang
    await context.bot.send_message(
        update.effective_chat.id,
        dialog.closed(lang, _duration(lang, DIALOG_TIMEOUT)),
        parse_mode=ParseMode.HTML,
    )
