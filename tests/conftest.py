"""Fixtures: the Telegram and Stripe fakes on loopback, settings, and the shop app itself."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot import reconcile as reconcile_schedule
from bot.app import ShopApp
from bot.config import Settings, load_settings
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from sandbox.standins import standin_environ
from tests.backend import database_url_for
from tests.people import Person

# Fixtures shared from beside their helpers: the service tests' `shop`, the sandbox's `sandbox`,
# the browser stories' `browser`.
pytest_plugins = [
    "tests.databases",
    "tests.shop_service",
    "tests.sandbox_helpers",
    "tests.browser_steps",
]

ADMIN_ID = 900001
BUYER_ID = 700001
OTHER_BUYER_ID = 700002
PUBLIC_BASE_URL = "https://shop.test"
BOT_TOKEN = "123456:TEST-fake-token-0123456789abcdef"


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram(token=BOT_TOKEN)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def stripe_api() -> AsyncIterator[FakeStripe]:
    fake = FakeStripe()
    await fake.start()
    yield fake
    await fake.stop()


def settings_for(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe, **env: str
) -> Settings:
    environ = {
        **standin_environ(telegram, stripe_api),
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "ADMIN_IDS": str(ADMIN_ID),
        "DATABASE_URL": database_url_for(tmp_path),
        "HOST": "127.0.0.1",
        **env,
    }
    # Port 0: the OS picks a free one; the app reports it.
    return dataclasses.replace(load_settings(environ, env_file=None), port=0)


@pytest.fixture
def settings(tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe) -> Settings:
    return settings_for(tmp_path, telegram, stripe_api)


async def start_app(settings: Settings, telegram: FakeTelegram, stripe_api: FakeStripe) -> ShopApp:
    """Start the real app against the fakes; the admin has started the bot, as in real life."""
    telegram.user_sends(ADMIN_ID, "/help", first_name="Admin", queue=False)
    app = ShopApp(settings)
    await app.start()
    stripe_api.webhook_url = f"http://127.0.0.1:{app.port}/stripe/webhook"
    return app


@pytest.fixture
async def app(
    settings: Settings, telegram: FakeTelegram, stripe_api: FakeStripe
) -> AsyncIterator[ShopApp]:
    shop_app = await start_app(settings, telegram, stripe_api)
    yield shop_app
    await shop_app.stop()


@asynccontextmanager
async def app_with(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe, **env: str
) -> AsyncIterator[ShopApp]:
    """The app started with these settings besides the usual ones, stopped afterwards."""
    shop_app = await start_app(
        settings_for(tmp_path, telegram, stripe_api, **env), telegram, stripe_api
    )
    try:
        yield shop_app
    finally:
        await shop_app.stop()


@pytest.fixture
async def promo_app(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> AsyncIterator[ShopApp]:
    """The app with ALLOW_PROMOTION_CODES on, as a merchant would set it."""
    async with app_with(tmp_path, telegram, stripe_api, ALLOW_PROMOTION_CODES="true") as app:
        yield app


@pytest.fixture
def no_scheduled_reconcile(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the app's own jobs out of the way, so each test sees only the runs it makes."""
    monkeypatch.setattr(reconcile_schedule, "FIRST_RUN_SECONDS", 3600.0)
    monkeypatch.setattr(reconcile_schedule, "RECENT_INTERVAL_SECONDS", 3600.0)


@pytest.fixture
def admin(telegram: FakeTelegram) -> Person:
    """The admin in their private chat with the bot."""
    return Person(telegram, ADMIN_ID)


@pytest.fixture
def buyer(telegram: FakeTelegram) -> Person:
    """A buyer in their private chat with the bot."""
    return Person(telegram, BUYER_ID)
