"""The app factory: wires storage, Stripe, Telegram and the HTTP server, starts and stops them.

One process, one event loop. Start order: the database's one-process lock → database (and, in
the background, the clock compared with Stripe's) → the Stripe inbox's intake → HTTP server (so
/healthz answers 503 while we connect, and Stripe's events are recorded already) → Telegram
(initialize, commands, webhook or polling) → delivery worker → the inbox's applier → ready.
Stop runs the same steps backwards, in python-telegram-bot's documented order, against one
deadline (bot/shutdown.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot import language_menu, reconcile
from bot.admin.routes import routes as admin_routes
from bot.buyer import handlers as buyer_handlers
from bot.buyer.routes import fallbacks as buyer_fallbacks
from bot.buyer.routes import payments as buyer_payments
from bot.buyer.routes import routes as buyer_routes
from bot.commands import set_commands
from bot.config import Settings
from bot.context import attach_shop
from bot.delivery import DeliveryWorker
from bot.language import LANGUAGE_GROUP, language_handler
from bot.polling import PollingLease
from bot.rate_limiter import MESSAGES_PER_SECOND, SteadyRateLimiter
from bot.shop_bot import build_application
from bot.shutdown import Shutdown
from bot.startup import StartupError, lock_database, open_shop_database
from bot.update_inbox import UpdateInbox, read_update
from shop import cancel, leases, payments
from shop.context import Shop
from shop.gateways import clock_check
from shop.gateways.slots import SharedSchedule
from shop.gateways.stripe_gateway import SESSION_CREATES_PER_SECOND, StripeGateway, budget_name
from shop.i18n import Languages
from shop.stripe_inbox import Applier, Intake, stuck
from storage.db import Database, SqliteFile
from storage.health import WriteProbe
from storage.lock import ProcessLock
from storage.models import Order
from webhooks.ports import Health, OrderPage, ShopPorts
from webhooks.server import HttpServer, create_app, serve

log = logging.getLogger(__name__)

# Telegram's set-up at start (command menus, the webhook) runs on one instance per start-up wave.
SETUP_LEASE = "telegram.setup"
SETUP_LEASE_SECONDS = 60.0

# The handler group of Telegram's payment updates: before group 0, where everything else is.
PAYMENTS_GROUP = -1


class ShopApp:
    def __init__(
        self,
        settings: Settings,
        *,
        add_routes: Callable[[web.Application], None] | None = None,
        telegram_link_base: str = "https://t.me/",
        database_lock: ProcessLock | None = None,
    ) -> None:
        """`add_routes` may add more routes to the HTTP server before it starts (the sandbox
        serves its pages beside the shop's, on the same port, and its own stand-in for t.me
        links as `telegram_link_base`). `database_lock` is the database's lock when the caller
        already holds it (the sandbox takes it before it wipes its scratch file)."""
        self.settings = settings
        self._add_routes = add_routes
        self._telegram_link_base = telegram_link_base
        self._telegram_slots = SteadyRateLimiter(max_retries=2)
        self.application = build_application(settings, self._telegram_slots)
        self.stripe = StripeGateway(settings.stripe_secret_key, settings.stripe_api_base)
        # Loaded once: the buyer's pages speak from the start, before the shop (handed the same
        # languages) is up.
        self._languages = Languages.load(
            settings.languages, settings.default_language, settings.catalog_dir
        )
        self._lock = database_lock
        self.db: Database | None = None
        self._write_probe: WriteProbe | None = None
        self._clock_check: asyncio.Task[float | None] | None = None
        self.shop: Shop | None = None
        self.worker: DeliveryWorker | None = None
        self._polling: PollingLease | None = None
        self._inbox: UpdateInbox | None = None
        self.intake: Intake | None = None
        self.applier: Applier | None = None
        self._http: HttpServer | None = None
        self._ready = False
        self.port: int | None = None

    # --- what the HTTP edge calls -------------------------------------------------------------
    def _ports(self) -> ShopPorts:
        return ShopPorts(
            record_stripe_event=self._record_stripe_event,
            fulfil_session=self._fulfil_session,
            feed_telegram_update=self._feed_telegram_update,
            health=self._health,
            bot_username=self._bot_username,
            cancel_checkout=self._cancel_checkout,
            languages=self._languages,
            telegram_link_base=self._telegram_link_base,
        )

    async def _record_stripe_event(self, event: Mapping[str, Any], body: bytes) -> None:
        """Checked (ValueError: malformed), then recorded in the inbox; the applier does the
        rest. Needs only the database: events are taken while Telegram is still connecting."""
        arrival = payments.received(event, body)
        if arrival is None:
            return
        if self.intake is None:
            raise RuntimeError("not ready yet")
        await self.intake.record(arrival)

    async def _fulfil_session(self, session_id: str) -> OrderPage | None:
        if self.shop is None:
            return None
        return order_page(await payments.fulfil_session(self.shop, session_id))

    async def _cancel_checkout(self, order: str, token: str) -> OrderPage | None:
        if self.shop is None:
            return None
        return order_page(await cancel.cancel_checkout(self.shop, order, token))

    async def _feed_telegram_update(self, data: dict[str, Any]) -> None:
        """A webhook update, recorded for whichever instance handles its chat (ValueError: not
        an update; a database error: the webhook answers 503, Telegram sends it again)."""
        if not self._ready:
            raise RuntimeError("not ready yet")
        if self._inbox is not None:
            await self._inbox.record(data)
        else:  # polling mode: an update posted here anyway is handled by this instance
            await self.application.update_queue.put(read_update(data, self.application.bot))

    async def _health(self) -> Health:
        """The database must answer and take a write (a probe, at most every few seconds);
        the bot must be running."""
        database_problem = await self._database_problem()
        bot = self._ready and self.application.running
        problems = [database_problem] if database_problem else []
        if not bot:
            problems.append("the bot is not running (starting, stopping or Telegram unreachable)")
        waiting = await stuck(self.db) if self.db is not None and not database_problem else None
        return Health(
            {"database": database_problem is None, "bot": bot},
            tuple(problems),
            (waiting,) if waiting else (),
        )

    async def _database_problem(self) -> str | None:
        if self.db is None or self._write_probe is None:
            return "the database is not open yet"
        if not await self.db.ping():
            return "the database does not answer reads"
        return await self._write_probe.problem()

    def _bot_username(self) -> str | None:
        try:
            username: str = self.application.bot.username
        except RuntimeError:  # not initialized yet
            return None
        return username

    # --- life cycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        settings = self.settings
        database = settings.database
        if self._lock is None and isinstance(database, SqliteFile):  # before migrations run
            self._lock = lock_database(database.path)
        self.db = await open_shop_database(database)
        self._share_send_budgets(self.db)
        self._write_probe = WriteProbe(self.db)
        self.intake = Intake(self.db, self._wake_applier)
        self.intake.start()
        # In the background: a slow or unreachable Stripe must not hold up the start.
        self._clock_check = asyncio.create_task(clock_check.warn_if_skewed(self.stripe))
        server = create_app(
            self._ports(),
            stripe_webhook_secret=settings.stripe_webhook_secret,
            telegram_secret=settings.telegram_webhook_secret,
        )
        if self._add_routes is not None:
            self._add_routes(server)
        self._http = await serve(server, settings.host, settings.port)
        self.port = self._http.port
        log.info("HTTP server listening on %s:%s", settings.host, self.port)

        await self._initialize_bot()
        bot = self.application.bot
        self.shop = Shop(
            settings, self.db, self.stripe, bot, self._wake_outbox, loaded_languages=self._languages
        )
        self.worker = DeliveryWorker(self.shop)
        attach_shop(self.application, self.shop)
        await leases.after_restart(self.shop)
        reconcile.schedule(self.application)  # lost webhooks: at start, then every 5 min
        self._add_handlers()
        if await leases.take(self.shop, SETUP_LEASE, SETUP_LEASE_SECONDS):
            await self._set_up_telegram()
        await self.application.start()
        if self.application.updater is not None:
            self._polling = PollingLease(self.application, self.shop)
            await self._polling.start()
        else:
            self._inbox = UpdateInbox(self.application, self.shop)
            await self._inbox.start()
        await self.worker.start()
        assert self.intake is not None
        self.applier = Applier(self.shop, self.shop.instance, self.intake.calm)
        await self.applier.start()
        self._ready = True
        log.info("@%s is ready (%s mode)", bot.username, settings.telegram_mode)

    def _share_send_budgets(self, db: Database) -> None:
        """With several instances (PostgreSQL), Telegram's and Stripe's budgets are rows of the
        database that every instance takes its slots from (shop/gateways/slots.py), so that
        together they keep each one. On SQLite one process owns the shop, and the schedules in
        its memory are the whole truth: a slot costs no write behind the one writer (README,
        "Send budgets")."""
        if not db.dialect.several_writers:
            return
        bot_id = self.settings.telegram_bot_token.split(":", 1)[0]
        self._telegram_slots.use_schedule(
            SharedSchedule(db, f"telegram:{bot_id}", MESSAGES_PER_SECOND)
        )
        self.stripe.use_schedule(
            SharedSchedule(
                db, budget_name(self.settings.stripe_secret_key), SESSION_CREATES_PER_SECOND
            )
        )

    def _wake_applier(self) -> None:
        """What the inbox's intake calls after each commit: the applier looks at once."""
        if self.applier is not None:
            self.applier.wake()

    def _wake_outbox(self) -> None:
        """What the shop calls after a commit that owed messages: the worker looks at once."""
        if self.worker is not None:
            self.worker.wake()

    def _add_handlers(self) -> None:
        """The admin's handlers first (an admin's /orders is theirs), then the buyer's, then
        the fallbacks that answer whatever nobody handled; one error handler for all. Stars
        payment updates go first, in a group of their own that stops there (no dialog may
        take a successful payment for a message of its own)."""
        application = self.application
        application.add_handler(language_handler(), group=LANGUAGE_GROUP)
        application.add_handlers(buyer_payments(), group=PAYMENTS_GROUP)
        application.add_handlers(language_menu.routes())  # before any dialog: see its docstring
        application.add_handlers(admin_routes(self.settings.admin_ids))
        application.add_handlers(buyer_routes())
        application.add_handlers(buyer_fallbacks())
        application.add_error_handler(buyer_handlers.on_error)

    async def _set_up_telegram(self) -> None:
        """The command menus, for buyers and in each admin's chat, in every offered language,
        and in webhook mode the webhook: once per start-up wave across the instances (each
        call replaces the last, so a rolling deploy's first new instance sets them)."""
        assert self.shop is not None
        settings = self.settings
        await set_commands(self.application.bot, self.shop.languages, settings.admin_ids)
        if settings.telegram_mode == "webhook":
            await self.application.bot.set_webhook(
                settings.telegram_webhook_url,
                secret_token=settings.telegram_webhook_secret,
                allowed_updates=Update.ALL_TYPES,  # pre_checkout_query among them
            )

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
        """Stop taking work, finish what is in flight, close everything: within the stop's
        deadline, what is still running then cut short and named (bot/shutdown.py)."""
        self._ready = False
        shutdown = Shutdown()
        if self._http is not None:
            # the intake answers the requests in flight first
            await shutdown.step("the HTTP server", self._http.close())
        if self.intake is not None:
            await shutdown.step("the Stripe inbox's intake", self.intake.stop())
        application = self.application
        if self._polling is not None:
            await shutdown.step("polling", self._polling.stop())
        if self._inbox is not None:
            await shutdown.step("the Telegram update inbox", self._inbox.stop())
        if application.running:
            await shutdown.step("python-telegram-bot's handlers and jobs", application.stop())
        if self.applier is not None:
            await shutdown.step("the Stripe inbox's applier", self.applier.stop())
        if self.worker is not None:
            await shutdown.step("the delivery worker", self.worker.stop())
        await shutdown.step("python-telegram-bot's shutdown", application.shutdown())
        if self._clock_check is not None:
            self._clock_check.cancel()
            await asyncio.gather(self._clock_check, return_exceptions=True)
        await shutdown.step("the Stripe client", self.stripe.close())
        if self.shop is not None:
            with contextlib.suppress(*self.shop.db.dialect.errors):
                await shutdown.step("giving the leases up", leases.release_all(self.shop))
        if self.db is not None:
            await shutdown.step("the database", self.db.close())
        if self._lock is not None:
            self._lock.release()
        log.info("stopped")


def order_page(order: Order | None) -> OrderPage | None:
    """What the buyer's page shows of an order, as the plain values the HTTP edge takes."""
    if order is None:
        return None
    return OrderPage(
        state=payments.page_state(order),
        language=order.language,
        currency=order.currency,
        paid=order.amount_paid,
        refunded=order.amount_refunded,
    )
