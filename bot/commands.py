"""The command menus Telegram shows beside the message box: the buyers' for everyone, the
admins' in each admin's own chat, each in every language the shop offers.

Telegram picks a menu by the person's app language (`language_code`, two-letter ISO 639-1
codes only), falling back to the one registered without a code; so each list is registered once
without a code, in DEFAULT_LANGUAGE, and once per offered language. The descriptions are `N_`
texts, translated when registered.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import BadRequest

from shop.i18n import N_, Lang, Languages
from shop.telegram_text import clip

log = logging.getLogger(__name__)

# The commands Telegram's menu offers, with their descriptions (translated per language when
# registered: `set_commands`).
BUYER_COMMANDS = {
    "start": N_("Welcome and main menu"),
    "catalog": N_("Browse the products"),
    "cart": N_("Your cart: change it, check out"),
    "orders": N_("Your orders"),
    "language": N_("Choose your language"),
    "help": N_("How buying works"),
    "paysupport": N_("Help with a payment, refunds"),
}
ADMIN_COMMANDS = {
    "addproduct": N_("Add a product, step by step"),
    "products": N_("Edit, hide, reorder or delete products"),
    "stock": N_("Add items to a stock product"),
    "orders": N_("Recent orders of all buyers"),
    "sales": N_("Sales, revenue and refunds"),
    "refund": N_("Refund an order: /refund <order> [amount]"),
    "ship": N_("Orders to ship, or /ship <order> [tracking]"),
    "catalog": N_("See the catalog as buyers do"),
    "language": N_("Choose your language"),
    "help": N_("How buying works"),
}
MAX_COMMAND_DESCRIPTION = 256  # Telegram's limit (and at least 1 character)


def buyer_commands(lang: Lang) -> list[BotCommand]:
    return [
        BotCommand(name, clip(lang.t(BUYER_COMMANDS[name]), MAX_COMMAND_DESCRIPTION))
        for name in BUYER_COMMANDS
    ]


def admin_commands(lang: Lang) -> list[BotCommand]:
    return [
        BotCommand(name, clip(lang.t(ADMIN_COMMANDS[name]), MAX_COMMAND_DESCRIPTION))
        for name in ADMIN_COMMANDS
    ]


def command_languages(offered: tuple[Lang, ...]) -> dict[str, Lang]:
    """The `language_code` each offered language registers its commands under: Telegram takes
    two-letter ISO 639-1 codes only, so pt_BR is "pt" (a language without one is served by
    the registration without a code); of two offered languages with the same code, the
    first offered wins."""
    codes: dict[str, Lang] = {}
    for lang in offered:
        code = lang.code.partition("_")[0]
        if len(code) == 2 and code.isascii() and code.isalpha() and code.islower():
            codes.setdefault(code, lang)
    return codes


async def set_commands(bot: Bot, languages: Languages, admin_ids: Iterable[int]) -> None:
    """Both lists once without a language (DEFAULT_LANGUAGE's words: for whoever's app language
    is not offered) and once per offered language's code; an admin who has not started the
    bot yet gets no menu (Telegram knows no chat with them) and the start goes on."""
    by_code = command_languages(languages.offered)
    await bot.set_my_commands(buyer_commands(languages.default))
    for code, lang in by_code.items():
        await bot.set_my_commands(buyer_commands(lang), language_code=code)
    for admin_id in sorted(admin_ids):
        scope = BotCommandScopeChat(admin_id)
        try:
            await bot.set_my_commands(admin_commands(languages.default), scope=scope)
        except BadRequest as error:
            log.warning("admin %s: commands not set (%s); send the bot /start", admin_id, error)
            continue
        for code, lang in by_code.items():
            await bot.set_my_commands(admin_commands(lang), scope=scope, language_code=code)
