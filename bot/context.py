"""The chat edge's way to the shop: the handlers find the Shop the entry point wired."""

from __future__ import annotations

from telegram.ext import ContextTypes

from shop.context import Shop


def shop_of(context: ContextTypes.DEFAULT_TYPE) -> Shop:
    """The Shop stored in `bot_data` by the application's wiring."""
    shop = context.bot_data["shop"]
    assert isinstance(shop, Shop)
    return shop
