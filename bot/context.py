"""The context every handler and job gets: python-telegram-bot's CallbackContext with the shop.

Wired once in the Application builder with `ContextTypes(context=ShopContext)`, as
python-telegram-bot's examples/contexttypesbot.py does, so a handler annotated
`context: ShopContext` reads `context.shop`, typed, and nothing else knows where it is kept.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from shop.context import Shop

_SHOP_KEY = "shop"


class ShopContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    @property
    def shop(self) -> Shop:
        """The shop the entry point wired (`attach_shop`) before any handler can run."""
        shop = self.bot_data.get(_SHOP_KEY)
        if not isinstance(shop, Shop):
            raise RuntimeError("the shop is not wired to the chat application yet")
        return shop


# The application whose handlers and jobs get a ShopContext (the rest as PTB builds it).
ShopApplication = Application[Any, ShopContext, Any, Any, Any, Any]
CONTEXT_TYPES = ContextTypes(context=ShopContext)


def attach_shop(application: ShopApplication, shop: Shop) -> None:
    """Give every handler's `context.shop` the shop (once, at start)."""
    application.bot_data[_SHOP_KEY] = shop
