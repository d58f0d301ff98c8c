"""Catalogs written at test time, and the shop started on them.

The shipped catalogs are translated by people on their own schedule; the stories about
/language and the buyer's pages must not wait for them, nor break when a translator rewords a
sentence. So they run the real app on a catalog folder of their own (`Settings.catalog_dir`)
whose Spanish and Persian know just the messages these stories read. Everything else stays
English there, as an untranslated message does in production.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from storage import languages
from tests.conftest import settings_for, start_app

# bot/language_menu.py
MENU = (
    "🌐 The shop speaks <b>{language}</b> with you.\n\n"
    "Choose another language, or let the shop follow the language of your Telegram app "
    "(whenever the shop speaks it)."
)
FOLLOW = "Follow my Telegram app"
NOT_OFFERED = "This shop does not offer that language. Send /language to see the ones it does."
CHOSEN = "✅ From now on the shop speaks <b>{language}</b> with you."
FOLLOWING = (
    "✅ From now on the shop follows the language of your Telegram app. "
    "Right now that is <b>{language}</b>."
)

SPANISH = {
    MENU: (
        "🌐 La tienda te habla en <b>{language}</b>.\n\n"
        "Elige otro idioma o deja que la tienda siga el idioma de tu app de Telegram "
        "(siempre que la tienda lo hable)."
    ),
    FOLLOW: "Seguir mi app de Telegram",
    NOT_OFFERED: "Esta tienda no ofrece ese idioma. Envía /language para ver los que ofrece.",
    CHOSEN: "✅ A partir de ahora la tienda te habla en <b>{language}</b>.",
    FOLLOWING: (
        "✅ A partir de ahora la tienda sigue el idioma de tu app de Telegram. "
        "Ahora mismo es <b>{language}</b>."
    ),
    # webhooks/pages.py
    "Payment received": "Pago recibido",
    "Thank you! Your order is on its way to you in Telegram.": (
        "¡Gracias! Tu pedido te llegará por Telegram."
    ),
    "Paid: {amount}": "Pagado: {amount}",
    "Payment cancelled": "Pago cancelado",
    "Nothing was charged and the payment link is closed. You can buy again in the bot.": (
        "No se cobró nada y el enlace de pago está cerrado. Puedes volver a comprar en el bot."
    ),
    "Nothing was charged. You can pick up where you left off in the bot.": (
        "No se cobró nada. Puedes seguir donde lo dejaste en el bot."
    ),
    "Thanks!": "¡Gracias!",
    "If you completed the payment, the bot will message you with your order shortly.": (
        "Si completaste el pago, el bot te escribirá en breve con tu pedido."
    ),
    "Back to the bot": "Volver al bot",
}
PERSIAN = {
    "Payment received": "پرداخت دریافت شد",
    "Thank you! Your order is on its way to you in Telegram.": (
        "سپاسگزاریم! سفارش شما در تلگرام به دستتان می‌رسد."
    ),
    "Paid: {amount}": "پرداخت‌شده: {amount}",
    "Back to the bot": "بازگشت به ربات",
}


def write_catalogs(directory: Path, translations: Mapping[str, Mapping[str, str]]) -> Path:
    """`directory` as the shop's catalog folder: a compiled catalog per language code with
    these translations (msgid → msgstr)."""
    for code, messages in translations.items():
        catalog = Catalog(locale=code, domain="messages")
        for message, translation in messages.items():
            catalog.add(message, translation)
        path = directory / code / "LC_MESSAGES" / "messages.mo"
        path.parent.mkdir(parents=True)
        with path.open("wb") as file:
            write_mo(file, catalog)
    return directory


@asynccontextmanager
async def app_speaking(
    tmp_path: Path,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    languages: tuple[str, ...] = ("en", "es", "fa"),
) -> AsyncIterator[ShopApp]:
    """The real app offering `languages` from the test's Spanish and Persian catalogs (kept
    in tmp_path/catalogs, so a second app on the same database reads the same ones)."""
    catalogs = tmp_path / "catalogs"
    if not catalogs.exists():
        write_catalogs(catalogs, {"es": SPANISH, "fa": PERSIAN})
    settings = dataclasses.replace(
        settings_for(tmp_path, telegram, stripe_api), languages=languages, catalog_dir=catalogs
    )
    app = await start_app(settings, telegram, stripe_api)
    try:
        yield app
    finally:
        await app.stop()


# What the menu says in each language, as a person reads it (tags stripped).
CHOSEN_ES = "A partir de ahora la tienda te habla en Español."
MENU_EN = "The shop speaks English with you."
MENU_ES = "La tienda te habla en Español."


async def chosen(app: ShopApp, user_id: int) -> str | None:
    """The person's stored /language choice."""
    assert app.db is not None
    return (await languages.of(app.db.reader, user_id)).chosen
