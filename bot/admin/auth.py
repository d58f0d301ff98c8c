"""Who is an admin, checked on every command *and* every button tap.

`filters.User` checks a message's sender; on a callback query the message is the bot's own, so
admin buttons must check `update.effective_user` themselves — `admin_only` does that.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import filters

from bot.context import ShopContext
from bot.shared import is_admin
from bot.texts import unknown_button, unknown_command

log = logging.getLogger(__name__)

# A coroutine function, as python-telegram-bot's handler classes expect.
Handler = Callable[[Update, ShopContext], Coroutine[Any, Any, object]]


def admin_filter(admin_ids: frozenset[int]) -> filters.User:
    """For admin command handlers: anyone else falls through to the buyer's handlers."""
    return filters.User(user_id=sorted(admin_ids))


def admin_only(handler: Handler) -> Handler:
    """Wrap an admin callback-query (or message) handler: non-admins get the buyer's answer
    for a stale button and see none of the shop's data."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: ShopContext) -> object:
        if is_admin(update, context):
            return await handler(update, context)
        user = update.effective_user
        log.warning("non-admin %s tried an admin action", user.id if user else "?")
        if update.callback_query is not None:
            await update.callback_query.answer(unknown_button(context.lang), show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(unknown_command(context.lang))
        return None

    return guarded
