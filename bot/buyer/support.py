"""How a buyer reaches the merchant: the answer to a message that is no command (relayed to
the admins when no SUPPORT_CONTACT is set), and the one per-buyer relay limit and relay to the
admins that /paysupport's questions (bot/buyer/paysupport.py) go through too. The buyer hears
their own language; each admin reads the relayed message in theirs."""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.buyer import texts
from bot.context import ShopContext
from bot.language import stored_language
from bot.shared import is_admin
from shop.i18n import Lang
from shop.limits import Window

log = logging.getLogger(__name__)

RELAYS_PER_MINUTE = 5  # per buyer: a chatty (or hostile) buyer cannot flood the admins' chats
# Counted across every instance (shop/limits.py): the buyer's messages may reach any of them.
RELAYS = Window("support_relays", RELAYS_PER_MINUTE, 60)


async def cancel_command(update: Update, context: ShopContext) -> None:
    """/cancel outside any dialog (the dialogs answer their own /cancel first)."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(texts.nothing_to_cancel(context.lang))


async def plain_message(update: Update, context: ShopContext) -> None:
    """A private message that no dialog wanted: the buyer learns how to reach the merchant,
    or the message goes to the admins when no contact is configured. An admin's stray text
    (an answer to a dialog that has ended) is left alone, as before."""
    message = update.effective_message
    assert message is not None
    if is_admin(update, context):
        return
    contact = context.shop.settings.support_contact
    relayed = contact is None and await may_relay(update, context)
    if relayed:
        await _relay(update, context)
    await message.reply_text(
        texts.plain_message_answer(context.lang, contact, relayed), parse_mode=ParseMode.HTML
    )


async def may_relay(update: Update, context: ShopContext) -> bool:
    """At most RELAYS_PER_MINUTE messages a minute per buyer reach the admins, plain messages
    and /paysupport questions together; True takes one of them."""
    assert update.effective_user is not None
    return await context.shop.limits.allow(RELAYS, update.effective_user.id)


async def _relay(update: Update, context: ShopContext) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    said = message.text or message.caption

    def relayed(lang: Lang) -> str:
        text = said or lang.t("(a message without text: a sticker, file…)")
        return texts.relayed_message(lang, user.full_name, user.id, user.username, text)

    await send_to_admins(context, relayed)


async def send_to_admins(context: ShopContext, text: Callable[[Lang], str]) -> int:
    """`text(lang)` (HTML) to every admin once, in the admin's own language, now (a buyer is
    waiting to hear that it went); returns how many admins got it."""
    reached = 0
    for admin_id in sorted(context.shop.settings.admin_ids):
        lang = await stored_language(context.shop, admin_id)
        try:
            await context.bot.send_message(admin_id, text(lang), parse_mode=ParseMode.HTML)
        except TelegramError as error:  # an admin who blocked the bot must not stop the others
            log.warning("could not relay a buyer's message to an admin: %s", error)
        else:
            reached += 1
    return reached
