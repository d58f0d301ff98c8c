"""The sandbox: the real shop against in-process stand-ins for Telegram and Stripe.

`python -m bot` comes here when no production setting is configured at all, or with SANDBOX=1
(bot.launch decides). Everything the
shop runs is the production code — `ShopApp`, its handlers, the `/stripe/webhook` endpoint
checking real signatures, the SQLite storage — and only the two base URLs differ: they point at
FakeTelegram and FakeStripe, served on 127.0.0.1 ephemeral ports in this same event loop. The
shop's own server also serves the sandbox page (`/sandbox`) and the Checkout page.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
import socket
import sys
from collections.abc import Mapping
from pathlib import Path

from bot import logging_setup
from bot.app import ShopApp
from bot.config import ConfigError, Settings
from bot.launch import choose_launch
from bot.startup import StartupError, lock_database
from sandbox.chats import Chats
from sandbox.customer import Customer
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from sandbox.origin import Origins
from sandbox.persona_languages import PersonaLanguages
from sandbox.seed import seed_demo_shop, seed_demo_stripe
from sandbox.settings import SCRATCH_DATABASE, Credentials, is_loopback, sandbox_settings
from sandbox.web import TELEGRAM_LINKS, SandboxWeb
from sandbox.webhook_log import WebhookLog
from shop.i18n import Languages
from storage.db import SqliteFile
from storage.sqlite import SqliteDatabase

log = logging.getLogger("sandbox")

BOT_USERNAME = "sandbox_shop_bot"
BOT_NAME = "Sandbox Shop"


def banner(port: int) -> str:
    return (
        f"SANDBOX — nothing here talks to Telegram or Stripe; open http://localhost:{port}/sandbox"
    )


class Sandbox:
    """The stand-ins, the shop on top of them, and the sandbox's pages; start() then stop()."""

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self.telegram = FakeTelegram(
            credentials.bot_token,
            bot_id=credentials.bot_id,
            bot_username=BOT_USERNAME,
            bot_name=BOT_NAME,
        )
        self.stripe = FakeStripe(credentials.stripe_key, credentials.webhook_secret)
        self.webhooks = WebhookLog(self.stripe)
        self.chats = Chats(self.telegram)
        self.app: ShopApp | None = None
        self.settings: Settings | None = None

    @classmethod
    async def start(
        cls,
        environ: Mapping[str, str] | None = None,
        env_file: Path | None = Path(".env"),
        *,
        scratch: Path = SCRATCH_DATABASE,
        configure_logging: bool = False,
    ) -> Sandbox:
        """Start everything on the scratch database `scratch` (wiped first); ConfigError for
        bad settings, OSError for a busy port, after cleaning up what started."""
        sandbox = cls(Credentials())
        try:
            await sandbox._start(environ, env_file, scratch, configure_logging)
        except BaseException:
            await sandbox.stop()
            raise
        return sandbox

    async def _start(
        self,
        environ: Mapping[str, str] | None,
        env_file: Path | None,
        scratch: Path,
        configure_logging: bool,
    ) -> None:
        await self.telegram.start()
        await self.stripe.start()
        settings = sandbox_settings(
            self.credentials,
            telegram_api_base_url=self.telegram.base_url,
            stripe_api_base=self.stripe.api_base,
            environ=environ,
            env_file=env_file,
            scratch=scratch,
        )
        self.settings = settings
        if configure_logging:
            _configure_logging(settings, self.credentials)
        _warn_loudly(settings, on_purpose=choose_launch(environ, env_file).on_purpose)
        self.chats.register_personas()
        # Before the scratch file is touched: a sandbox already running on the same scratch file
        # (on any port) keeps its database, and so does one elsewhere on this port.
        scratch = scratch_file(settings)
        lock = lock_database(scratch)
        try:
            _check_port_free(settings.host, settings.port)
            _start_afresh(scratch)
            await _seed(settings)
        except BaseException:
            lock.release()
            raise
        self.stripe.webhook_url = f"{_own_url(settings)}/stripe/webhook"
        self.stripe.hosted_base_url = f"{settings.public_base_url}/sandbox/stripe"
        self.stripe.after_request = self.webhooks.after_request
        self.stripe.send_event = self.webhooks.send
        seed_demo_stripe(self.stripe)
        origins = Origins(settings.port, settings.public_base_url, _own_url(settings))
        customer = Customer(self.stripe, self.webhooks)
        # The languages the shop offers, loaded as the shop loads them: the page lets each
        # persona's Telegram app speak one of them.
        offered = Languages.load(
            settings.languages, settings.default_language, settings.catalog_dir
        ).offered
        languages = PersonaLanguages(self.telegram, offered)
        pages = SandboxWeb(self.telegram, self.chats, self.webhooks, customer, origins, languages)
        self.app = ShopApp(
            settings,
            add_routes=pages.add_routes,
            telegram_link_base=settings.public_base_url + TELEGRAM_LINKS,
            database_lock=lock,
        )
        await self.app.start()

    @property
    def url(self) -> str:
        assert self.settings is not None
        return f"{self.settings.public_base_url}/sandbox"

    async def stop(self) -> None:
        """Shop first (it still talks to the stand-ins while it stops), then the stand-ins."""
        if self.app is not None:
            await self.app.stop()
        await self.webhooks.close()
        await self.telegram.stop()
        await self.stripe.stop()


def _check_port_free(host: str, port: int) -> None:
    """Refuse (OSError) a port something already listens on, say the sandbox of a first
    `make run`: starting would wipe that running sandbox's scratch database for nothing."""
    for family, kind, proto, _, address in socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    ):
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
            probe.bind(address)


def _start_afresh(database: Path) -> None:
    """Remove the scratch database (and SQLite's WAL files) of an earlier start."""
    for suffix in ("", "-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    log.info("sandbox: a fresh shop in %s", database)


async def _seed(settings: Settings) -> None:
    db = await SqliteDatabase.open(scratch_file(settings))
    try:
        await seed_demo_shop(db, settings.public_base_url)
    finally:
        await db.close()


def scratch_file(settings: Settings) -> Path:
    """The sandbox's scratch SQLite file (sandbox_settings never names another database)."""
    assert isinstance(settings.database, SqliteFile), "the sandbox runs on its scratch file"
    return settings.database.path


def _own_url(settings: Settings) -> str:
    """An address this process reaches its own server at, whatever HOST it listens on."""
    host = settings.host
    if host in ("", "0.0.0.0", "localhost"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://{f'[{host}]' if ':' in host else host}:{settings.port}"


def _warn_loudly(settings: Settings, *, on_purpose: bool) -> None:
    """SANDBOX=1 and a public address are choices an operator must not miss in the log."""
    if on_purpose:
        log.warning(
            "!!! SANDBOX=1: this is the SANDBOX, started on purpose. Stand-ins replace Telegram "
            "and Stripe, any configured credentials and database are NOT used, and %s is wiped "
            "at every start. Unset SANDBOX to run the shop.",
            scratch_file(settings),
        )
    if not is_loopback(settings.host):
        log.warning(
            "!!! SANDBOX_ALLOW_PUBLIC=1: the sandbox listens on %s:%s; anyone who reaches it "
            "can play its admin and buyers and read every chat.",
            settings.host,
            settings.port,
        )


def _configure_logging(settings: Settings, credentials: Credentials) -> None:
    logging_setup.configure(
        settings.log_level,
        [credentials.bot_token, credentials.stripe_key, credentials.webhook_secret],
    )


async def _serve(environ: Mapping[str, str] | None, env_file: Path | None) -> None:
    sandbox = await Sandbox.start(environ, env_file, configure_logging=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        assert sandbox.settings is not None
        print(banner(sandbox.settings.port), flush=True)
        await stop.wait()
        log.info("shutting down")
    finally:
        await sandbox.stop()


def main(environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")) -> int:
    """Run the sandbox until SIGTERM or SIGINT; exit status 2 when it cannot start."""
    try:
        asyncio.run(_serve(environ, env_file))
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    except StartupError as error:
        log.error("%s", error)
        return 2
    except OSError as error:
        hint = (
            " Another program (a sandbox started before?) listens there; its data is left "
            "alone. Stop it, or set PORT to a free port."
            if error.errno == errno.EADDRINUSE
            else ""
        )
        print(f"The sandbox cannot start: {error}.{hint}", file=sys.stderr)
        return 2
    return 0
