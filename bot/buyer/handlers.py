"""The buyer's first and last words: /start and /help, the page-counter label, and the
answers for what nobody else handled (unknown commands, stale buttons, errors)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode

from bot.buyer import keyboards, texts
from bot.buyer.catalog import PRODUCT_PAYLOAD, send_product_card
from bot.context import ShopContext
from bot.shared import is_admin
from bot.texts import admin_button_expired, unknown_button, unknown_command
from shop.i18n import ENGLISH

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
            context.shop, message, int(match.group(1)), update.effective_user.id
        )
        return
    text = texts.welcome(context.bot.first_name)
    if is_admin(update, context):
        text += texts.admin_hint()
    await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboards.start_menu())


async def help_command(update: Update, context: ShopContext) -> None:
    """How buying works, in four steps, and how to reach the merchant."""
    assert update.effective_message is not None
    contact = texts.support_line(context.shop.settings.support_contact)
    await update.effective_message.reply_text(
        f"{texts.help_text()}\n\n{contact}", parse_mode=ParseMode.HTML
    )


async def label(update: Update, context: ShopContext) -> None:
    """A label button (a page counter, the quantity): nothing to do but stop the spinner."""
    assert update.callback_query is not None
    await update.callback_query.answer()


async def unknown(update: Update, context: ShopContext) -> None:
    """A command the buyer can't use: the same answer whether it exists for admins or not."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(unknown_command(ENGLISH))


async def stale_button(update: Update, context: ShopContext) -> None:
    """A button nobody handles (an old layout, forged, or an admin's seen by someone else);
    an admin hears it in admin words."""
    assert update.callback_query is not None
    answer = admin_button_expired(ENGLISH) if is_admin(update, context) else unknown_button(ENGLISH)
    await update.callback_query.answer(answer, show_alert=True)


async def on_error(update: object, context: ShopContext) -> None:
    """Log every handler error with its traceback; tell the user something went wrong."""
    log.error("handler error", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(
                update.effective_chat.id, "Sorry, something went wrong. Please try again."
            )
        except Exception:  # noqa: BLE001 - the error handler must not raise
            log.warning("could not tell the user about the error")
