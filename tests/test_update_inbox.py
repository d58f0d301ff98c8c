"""Telegram's updates in webhook mode go through the database (bot/update_inbox.py): recorded
before the 200, handled in order per chat, a repeat handled once, and — with several
instances on PostgreSQL — a chat's dialog kept whichever instance Telegram posts to."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from tests.conftest import ADMIN_ID, settings_for, start_app

SECRET = "inbox_Secret-0123"


@asynccontextmanager
async def webhook_apps(
    count: int, tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> AsyncIterator[list[ShopApp]]:
    apps: list[ShopApp] = []
    env = {"TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": SECRET}
    try:
        for _ in range(count):
            settings = settings_for(tmp_path, telegram, stripe_api, **env)
            apps.append(await start_app(settings, telegram, stripe_api))
        yield apps
    finally:
        for app in reversed(apps):
            await app.stop()


async def _post(app: ShopApp, update: dict[str, Any]) -> int:
    url = f"http://127.0.0.1:{app.port}/telegram/webhook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with aiohttp.ClientSession() as http, http.post(url, json=update, headers=headers) as r:
        return r.status


async def _dialog(telegram: FakeTelegram, apps: list[ShopApp]) -> None:
    """The admin's /addproduct up to the kind question, each message posted to the next
    instance in turn, without waiting for the answers: they come in order, once each."""
    steps = ["/addproduct", "Herbal tea", "Loose leaf, 100 g", "/skip"]
    updates = [telegram.user_sends(ADMIN_ID, text, queue=False) for text in steps]
    for n, update in enumerate(updates):
        assert await _post(apps[n % len(apps)], update) == 200
    assert await _post(apps[0], updates[1]) == 200  # Telegram sends one again: handled once
    await telegram.wait_for(ADMIN_ID, lambda m: "What kind of product" in (m.text or ""))
    asked = [m.text or "" for m in telegram.messages(ADMIN_ID)]
    expected = ["Send the title", "description", "Send a photo", "What kind of product"]
    answers = asked[-len(expected) :]
    assert all(e in a for e, a in zip(expected, answers, strict=True)), asked


async def test_a_chats_updates_are_handled_in_order_and_a_repeat_once(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    async with webhook_apps(1, tmp_path, telegram, stripe_api) as apps:
        await _dialog(telegram, apps)


@pytest.mark.postgresql_only  # several instances share PostgreSQL only
async def test_a_dialog_posted_to_two_instances_in_turn_stays_whole(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    async with webhook_apps(2, tmp_path, telegram, stripe_api) as apps:
        await _dialog(telegram, apps)
