"""The app factory: wires storage, Stripe, Telegram and the HTTP server, starts and stops them.

One process, one event loop. Start order: database → HTTP server (so /healthz answers 503 while
we connect) → Telegram (initialize, commands, webhook or polling) → delivery worker → ready.
Stop runs the same steps backwards, in python-telegram-bot's documented order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web
from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ApplicationBuilder

from bot import admin, fulfilment, handlers, reconcile
from bot.config import Settings
from bot.delivery import DeliveryWorker
from bot.rate_limiter import SteadyRateLimiter
from bot.shop import Shop
from bot.stripe_gateway import StripeGateway
from storage.db import Database
from webhooks.ports import ShopPorts
from webhooks.server import create_app

log = logging.getLogger(__name__)

BUYER_COMMANDS = [
    BotCommand("start", "Welcome and main menu"),
    BotCommand("catalog", "Browse the products"),
    BotCommand("orders", "Your orders"),
    BotCommand("help", "How buying works"),
    BotCommand("paysupport", "Help with a payment, refunds"),
]
ADMIN_COMMANDS = [
    BotCommand("addproduct", "Add a product, step by step"),
    BotCommand("products", "Edit, hide, reorder or delete products"),
    BotCommand("stock", "Add items to a stock product"),
    BotCommand("orders", "Recent orders of all buyers"),
    BotCommand("sales", "Sales, revenue and refunds"),
    BotCommand("refund", "Refund an order: /refund <order> [amount]"),
    BotCommand("ship", "Orders to ship, or /ship <order> [tracking]"),
    BotCommand("catalog", "See the catalog as buyers do"),
    BotCommand("help", "How buying works"),
]
# Buy taps wait for the Stripe queue inside their handler; room for a flash sale's worth of
# them lets every tap be answered at once instead of queueing unanswered in PTB.
CONCURRENT_UPDATES = 1024


class StartupError(Exception):
    """Start-up cannot go on; the message says why, for the operator."""


def file_base_url(api_base_url: str) -> str:
    """PTB's file URL beside its API URL: …/bot → …/file/bot."""
    if api_base_url.endswith("/bot"):
        return api_base_url[: -len("bot")] + "file/bot"
    return api_base_url.rstrip("/") + "/file/bot"


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(file_base_url(settings.telegram_api_base_url))
        .rate_limiter(SteadyRateLimiter(max_retries=2))
        .concurrent_updates(CONCURRENT_UPDATES)
        .connect_timeout(10)
        .read_timeout(15)
        .write_timeout(15)
        .pool_timeout(10)
        # Room for PTB's final getUpdates at shutdown while the cancelled long poll lets go.
        .get_updates_connection_pool_size(2)
    )
    if settings.telegram_mode == "webhook":
        builder = builder.updater(None)
    return builder.build()


class ShopApp:
    def __init__(
        self, settings: Settings, *, add_routes: Callable[[web.Application], None] | None = None
    ) -> None:
        """`add_routes` may add more routes to the HTTP server before it starts (the sandbox
        serves its pages beside the shop's, on the same port)."""
        self.settings = settings
        self._add_routes = add_routes
        self.application = build_application(settings)
        self.stripe = StripeGateway(settings.stripe_secret_key, settings.stripe_api_base)
        self.db: Database | None = None
        self.shop: Shop | None = None
        self.worker: DeliveryWorker | None = None
        self._runner: web.AppRunner | None = None
        self._ready = False
        self.port: int | None = None

    # --- what the HTTP edge calls -------------------------------------------------------------
    def _ports(self) -> ShopPorts:
        return ShopPorts(
            handle_stripe_event=self._handle_stripe_event,
            fulfil_session=self._fulfil_session,
            feed_telegram_update=self._feed_telegram_update,
            health=self._health,
            bot_username=self._bot_username,
        )

    async def _handle_stripe_event(self, event: Mapping[str, Any]) -> None:
        if self.shop is None:
            raise RuntimeError("not ready yet")
        await fulfilment.handle_stripe_event(self.shop, event)

    async def _fulfil_session(self, session_id: str) -> str:
        if self.shop is None:
            return "unknown"
        return await fulfilment.fulfil_session(self.shop, session_id)

    async def _feed_telegram_update(self, data: dict[str, Any]) -> None:
        if not self._ready:
            raise RuntimeError("not ready yet")
        try:
            update = Update.de_json(data, self.application.bot)
        except Exception as error:  # any shape PTB cannot read is not an update we can serve
            raise ValueError("not a Telegram update") from error
        await self.application.update_queue.put(update)

    async def _health(self) -> dict[str, bool]:
        database = self.db is not None and await self.db.ping()
        return {"database": database, "bot": self._ready and self.application.running}

    def _bot_username(self) -> str | None:
        try:
            username: str = self.application.bot.username
        except RuntimeError:  # not initialized yet
            return None
        return username

    # --- life cycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        settings = self.settings
        self.db = await Database.open(settings.database_path)
        server = create_app(
            self._ports(),
            stripe_webhook_secret=settings.stripe_webhook_secret,
            telegram_secret=settings.telegram_webhook_secret,
        )
        if self._add_routes is not None:
            self._add_routes(server)
        self._runner = web.AppRunner(server, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, settings.host, settings.port)
        await site.start()
        self.port = _bound_port(self._runner, settings.port)
        log.info("HTTP server listening on %s:%s", settings.host, self.port)

        await self._initialize_bot()
        bot = self.application.bot
        self.worker = DeliveryWorker(self.db, bot, settings.admin_ids)
        self.shop = Shop(settings, self.db, self.stripe, bot, self.worker.wake)
        self.application.bot_data["shop"] = self.shop
        reconcile.schedule(self.application)  # lost webhooks: at start, then every 5 min
        admin.register(self.application, settings.admin_ids)
        handlers.register(self.application)
        handlers.register_fallbacks(self.application)
        await self._set_commands()
        if settings.telegram_mode == "webhook":
            await bot.set_webhook(
                settings.telegram_webhook_url,
                secret_token=settings.telegram_webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
        await self.application.start()
        if self.application.updater is not None:
            await self.application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
        await self.worker.start()
        self._ready = True
        log.info("@%s is ready (%s mode)", bot.username, settings.telegram_mode)

    async def _set_commands(self) -> None:
        """Buyers' commands for everyone; the admin list in each admin's own chat."""
        bot = self.application.bot
        await bot.set_my_commands(BUYER_COMMANDS)
        for admin_id in sorted(self.settings.admin_ids):
            try:
                await bot.set_my_commands(ADMIN_COMMANDS, scope=BotCommandScopeChat(admin_id))
            except BadRequest as error:  # the admin has not started the bot yet
                log.warning("admin %s: commands not set (%s); send the bot /start", admin_id, error)

    async def _initialize_bot(self) -> None:
        """Connect to Telegram, waiting out an outage; a rejected token stops the start."""
        delay = 1.0
        while True:
            try:
                await self.application.initialize()
                return
            except InvalidToken as error:
                raise StartupError(
                    "Telegram rejected TELEGRAM_BOT_TOKEN; copy it again from @BotFather."
                ) from error
            except (NetworkError, TelegramError) as error:
                log.warning("Telegram not reachable (%s); retrying in %.0fs", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)

    async def stop(self) -> None:
        """Stop taking work, finish what is in flight, close everything."""
        self._ready = False
        if self._runner is not None:
            await self._runner.cleanup()
        application = self.application
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        if self.worker is not None:
            await self.worker.stop()
        await application.shutdown()
        await self.stripe.close()
        if self.db is not None:
            await self.db.close()
        log.info("stopped")


def _bound_port(runner: web.AppRunner, configured: int) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return configured
