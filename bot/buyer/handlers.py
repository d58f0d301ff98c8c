"""The buyer's first and last words: /start and /help, the page-counter label, and the
answers for what nobody else handled (unknown commands, stale buttons, errors), each in the
person's language (`context.lang`)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode

from bot.buyer import keyboards, texts
from bot.buyer.catalog import PRODUCT_PAYLOAD, send_product_card
from bot.context import ShopContext
from bot.shared import is_admin
from bot.texts import admin_button_expired, unknown_button, unknown_command

log = logging.getLogger(__name__)


async def start(update: Update, context: ShopContext) -> None:
    """Welcome + catalog button; `/start p_<id>` (a deep link) opens that product."""
    message = update.effective_message
    assert message is not None
    payload = context.args[0] if context.args else ""
    match = PRODUCT_PAYLOAD.match(payload)
    if match:
        assert update.effective_user is not None
        await send_product_card(
            context.shop, context.lang, message, int(match.group(1)), update.effective_user.id
        )
        return
    lang = context.lang
    text = texts.welcome(lang, context.bot.first_name)
    if is_admin(update, context):
        text += texts.admin_hint(lang)
    menu = keyboards.start_menu(lang)
    await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=menu)


async def help_command(update: Update, context: ShopContext) -> None:
    """How buying works, in four steps, and how to reach the merchant."""
    assert update.effective_message is not None
    lang = context.lang
    contact = texts.support_line(lang, context.shop.settings.support_contact)
    await update.effective_message.reply_text(
        f"{texts.help_text(lang)}\n\n{contact}", parse_mode=ParseMode.HTML
    )


async def label(update: Update, context: ShopContext) -> None:
    """A label button (a page counter, the quantity): nothing to do but stop the spinner."""
    assert update.callback_query is not None
    await update.callback_query.answer()


async def unknown(update: Update, context: ShopContext) -> None:
    """A command the buyer can't use: the same answer whether it exists for admins or not."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(unknown_command(context.lang))


async def stale_button(update: Update, context: ShopContext) -> None:
    """A button nobody handles (an old layout, forged, or an admin's seen by someone else);
    an admin hears it in admin words."""
    assert update.callback_query is not None
    lang = context.lang
    answer = admin_button_expired(lang) if is_admin(update, context) else unknown_button(lang)
    await update.callback_query.answer(answer, show_alert=True)


async def on_error(update: object, context: ShopContext) -> None:
    """Log every handler error with its traceback; tell the user something went wrong."""
    log.error("handler error", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(
                update.effective_chat.id,
                context.lang.t("Sorry, something went wrong. Please try again."),
            )
        except Exception:  # noqa: BLE001 - the error handler must not raise
            log.warning("could not tell the user about the error")
