"""Which language each update is answered in, decided once before any handler runs.

A person's /language choice wins, else the language their Telegram app reports (with a region
fallback), else the shop's default (shop/i18n.py `Languages.pick`). For admins the reported
language is also remembered, so the alerts the outbox sends them later speak it too."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, TypeHandler

from bot.context import ShopContext
from shop.context import Shop
from shop.i18n import Lang, canonical
from storage import languages

# Before every other group, the payments' (-1) included: their answers are translated too.
LANGUAGE_GROUP = -2


async def resolve_language(update: Update, context: ShopContext) -> None:
    user = update.effective_user
    if user is None:
        return
    context.speak(await language_of(context.shop, user.id, user.language_code))


async def language_of(shop: Shop, user_id: int, telegram_code: str | None) -> Lang:
    """A person's language now; an admin's reported one is stored when it changed."""
    stored = await languages.of(shop.db.reader, user_id)
    reported = canonical(telegram_code) if telegram_code else None
    if user_id in shop.settings.admin_ids and reported != stored.seen:
        async with shop.db.transaction() as tx:
            await languages.saw(tx, user_id, reported)
    return shop.languages.pick(stored.chosen, reported)


async def stored_language(shop: Shop, user_id: int) -> Lang:
    """A person's language outside any update of theirs (an admin's sale alert)."""
    stored = await languages.of(shop.db.reader, user_id)
    return shop.languages.pick(stored.chosen, stored.seen)


def language_handler() -> BaseHandler[Update, ShopContext, None]:
    return TypeHandler(Update, resolve_language)
