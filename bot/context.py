"""The context every handler and job gets: python-telegram-bot's CallbackContext with the shop.

Wired once in the Application builder with `ContextTypes(context=ShopContext)`, as
python-telegram-bot's examples/contexttypesbot.py does, so a handler annotated
`context: ShopContext` reads `context.shop`, typed, and nothing else knows where it is kept,
and `context.lang`, the language to answer in.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from shop.context import Shop
from shop.i18n import Lang

_SHOP_KEY = "shop"
_LANG_KEY = "_shop_lang"


class ShopContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    @property
    def shop(self) -> Shop:
        """The shop the entry point wired (`attach_shop`) before any handler can run."""
        shop = self.bot_data.get(_SHOP_KEY)
        if not isinstance(shop, Shop):
            raise RuntimeError("the shop is not wired to the chat application yet")
        return shop

    @property
    def lang(self) -> Lang:
        """The language of the person this update is from, as bot/language.py resolved it
        before any handler ran; the shop's default where there is no person (a job)."""
        lang = self.__dict__.get(_LANG_KEY)
        return lang if isinstance(lang, Lang) else self.shop.languages.default

    def speak(self, lang: Lang) -> None:
        """Answer this update in `lang` from now on (resolved at its start, or just chosen)."""
        self.__dict__[_LANG_KEY] = lang


# The application whose handlers and jobs get a ShopContext (the rest as PTB builds it).
ShopApplication = Application[Any, ShopContext, Any, Any, Any, Any]
CONTEXT_TYPES = ContextTypes(context=ShopContext)


def attach_shop(application: ShopApplication, shop: Shop) -> None:
    """Give every handler's `context.shop` the shop (once, at start)."""
    application.bot_data[_SHOP_KEY] = shop
