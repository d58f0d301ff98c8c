"""Every buyer handler, one per command or button pattern (the patterns come from
`bot.callbacks`), and the fallbacks that answer whatever nobody handled. bot/app.py adds
them after the admin's, so an admin's command reaches the admin handlers first."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import callbacks as cb
from bot.buyer import cart, catalog, checkout, handlers, orders, paysupport, stars, support
from bot.buyer.star_payments import payment_routes
from bot.context import ShopContext

Handlers = list[BaseHandler[Update, ShopContext, Any]]


def routes() -> Handlers:
    """The /paysupport question comes first: while it is open, the buyer's next message and
    /cancel are its own."""
    return [
        paysupport.conversation(),
        CommandHandler("start", handlers.start),
        CommandHandler("help", handlers.help_command),
        CommandHandler("catalog", catalog.catalog_command),
        CommandHandler("cart", cart.cart_command),
        CommandHandler("orders", orders.orders_command),
        CommandHandler("cancel", support.cancel_command),
        CallbackQueryHandler(catalog.open_catalog, pattern=cb.CATALOG.pattern),
        CallbackQueryHandler(catalog.open_category, pattern=cb.CATEGORY.pattern),
        CallbackQueryHandler(catalog.open_product, pattern=cb.PRODUCT.pattern),
        CallbackQueryHandler(catalog.change_quantity, pattern=cb.QUANTITY.pattern),
        CallbackQueryHandler(catalog.at_most, pattern=cb.AT_MOST.pattern),
        CallbackQueryHandler(cart.add_to_cart, pattern=cb.CART_ADD.pattern),
        CallbackQueryHandler(cart.open_cart, pattern=cb.CART_OPEN.pattern),
        CallbackQueryHandler(cart.line_less, pattern=cb.CART_LESS.pattern),
        CallbackQueryHandler(cart.line_more, pattern=cb.CART_MORE.pattern),
        CallbackQueryHandler(cart.remove_line, pattern=cb.CART_REMOVE.pattern),
        CallbackQueryHandler(cart.ask_empty, pattern=cb.CART_EMPTY.pattern),
        CallbackQueryHandler(cart.empty_cart, pattern=cb.CART_EMPTY_YES.pattern),
        CallbackQueryHandler(cart.checkout, pattern=cb.CART_CHECKOUT.pattern),
        CallbackQueryHandler(cart.checkout_stars, pattern=cb.CART_STARS.pattern),
        CallbackQueryHandler(checkout.buy, pattern=cb.BUY.pattern),
        CallbackQueryHandler(stars.buy_with_stars, pattern=cb.STARS_BUY.pattern),
        CallbackQueryHandler(orders.open_orders, pattern=cb.ORDERS.pattern),
        CallbackQueryHandler(orders.send_again, pattern=cb.SEND_AGAIN.pattern),
        CallbackQueryHandler(orders.buy_again, pattern=cb.BUY_AGAIN.pattern),
        CallbackQueryHandler(handlers.label, pattern=cb.LABEL.pattern),
    ]


def payments() -> Handlers:
    """Telegram's Stars payment updates, in a group ahead of all others (see
    bot/buyer/star_payments.py: no dialog or fallback may take a successful payment)."""
    return payment_routes()


def fallbacks() -> Handlers:
    """Last in line: unknown commands (including admin ones from non-admins), plain messages
    that no dialog took, and buttons no pattern matched."""
    return [
        MessageHandler(filters.COMMAND, handlers.unknown),
        MessageHandler(
            filters.ChatType.PRIVATE
            & filters.UpdateType.MESSAGE
            & ~filters.COMMAND
            & ~filters.StatusUpdate.ALL
            & ~filters.SUCCESSFUL_PAYMENT,
            support.plain_message,
        ),
        CallbackQueryHandler(handlers.stale_button),
    ]
