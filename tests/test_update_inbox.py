"""Telegram's updates in webhook mode go through the database (bot/update_inbox.py): recorded
before the 200, handled in order per chat, a repeat handled once, and — with several
instances on PostgreSQL — a chat's dialog kept whichever instance Telegram posts to."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from telegram import Bot

from bot import update_inbox
from bot.app import ShopApp
from bot.update_inbox import read_update
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from shop import leases
from storage import stock
from tests.cart_steps import stock_product
from tests.conftest import ADMIN_ID, settings_for, start_app
from tests.story import settled

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


async def _buyers_on_each(apps: list[ShopApp], first_buyer: int) -> list[int]:
    """One buyer per instance: a chat whose partition that instance holds."""
    chosen: list[int] = []
    for app in apps:
        assert app.shop is not None
        for buyer in range(first_buyer, first_buyer + update_inbox.PARTS):
            lease = f"{update_inbox.PART_LEASE}{buyer % update_inbox.PARTS}"
            if await leases.holder(app.shop, lease) == app.shop.instance:
                chosen.append(buyer)
                break
    assert len(chosen) == len(apps), "every instance holds some partitions"
    return chosen


async def _card(telegram: FakeTelegram, app: ShopApp, buyer: int, product_id: int) -> FakeMessage:
    assert (
        await _post(app, telegram.user_sends(buyer, f"/start p_{product_id}", queue=False)) == 200
    )
    return await telegram.wait_for(buyer, lambda m: m.button("Buy") is not None)


@pytest.mark.postgresql_only
async def test_two_instances_race_two_buyers_for_the_last_key(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    async with webhook_apps(2, tmp_path, telegram, stripe_api) as apps:
        await asyncio.sleep(update_inbox.REBALANCE_SECONDS * 1.5)  # the partitions shared out
        product_id = await stock_product(apps[0], "Game key", 999, ["KEY-LAST"])
        buyers = await _buyers_on_each(apps, 700_100)
        cards = [await _card(telegram, apps[0], b, product_id) for b in buyers]
        taps = [
            telegram.user_taps(b, card, card.button("Buy")["callback_data"], queue=False)
            for b, card in zip(buyers, cards, strict=True)
        ]
        assert await asyncio.gather(*(_post(apps[1], tap) for tap in taps)) == [200, 200]
        await asyncio.sleep(1.0)
        for app in apps:
            await settled(app)
        linked = [b for b in buyers if any(_has_pay(m) for m in telegram.messages(b))]
        assert len(linked) == 1, [[m.text for m in telegram.messages(b)] for b in buyers]
        assert apps[0].db is not None
        assert await stock.counts(apps[0].db.reader, product_id) == (0, 1)


def _has_pay(message: FakeMessage) -> bool:
    return any(b.get("url") and b["text"].startswith("Pay") for b in message.buttons())


async def test_a_new_chat_is_served_while_more_chats_than_a_batch_wait_in_checkout(
    tmp_path: Path,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A flash sale in webhook mode: more buyers' taps are in progress (waiting for Stripe's
    queue; here for their buyer's checkout lock) than one dispatch batch, and every one of them
    is the oldest update waiting. A buyer arriving now is still answered at once, not after
    the taps ahead have finished — by then Telegram no longer takes a tap's answer."""
    monkeypatch.setattr(update_inbox, "BATCH", 2)
    async with webhook_apps(1, tmp_path, telegram, stripe_api) as apps:
        app = apps[0]
        assert app.shop is not None
        product_id = await stock_product(app, "Game key", 999, ["KEY-1", "KEY-2", "KEY-3"])
        buyers = [700_201, 700_202, 700_203]
        cards = [await _card(telegram, app, b, product_id) for b in buyers]
        async with contextlib.AsyncExitStack() as held:
            for buyer in buyers:  # their taps wait inside checkout until the locks go
                await held.enter_async_context(app.shop.buyer_locks.hold(buyer))
            for buyer, card in zip(buyers, cards, strict=True):
                data = card.button("Buy")["callback_data"]
                tap = telegram.user_taps(buyer, card, data, queue=False)
                assert await _post(app, tap) == 200
            await asyncio.sleep(0.3)  # the taps are being handled
            newcomer = 700_299
            assert await _post(app, telegram.user_sends(newcomer, "/start", queue=False)) == 200
            await telegram.wait_for(newcomer, lambda _: True, timeout=2.0)
        for buyer in buyers:  # and the taps go on once their locks are free
            await telegram.wait_for(buyer, _has_pay)


def test_an_update_naming_a_chat_or_user_with_an_id_telegram_never_sends_is_refused() -> None:
    """Refused at the webhook (a 400): recorded, python-telegram-bot could never process it,
    and it would come back on every round of the inbox."""
    bot = Bot("123:abc")
    sender = {"id": 7, "is_bot": False, "first_name": "A"}
    message = {"message_id": 1, "date": 0, "chat": {"id": 7, "type": "private"}, "from": sender}
    assert read_update({"update_id": 1, "message": message}, bot).update_id == 1
    for chat_id in ({"x": 1}, [1], 2**63, "7"):
        bad = {**message, "chat": {"id": chat_id, "type": "private"}}
        with pytest.raises(ValueError, match="never sends"):
            read_update({"update_id": 1, "message": bad}, bot)
    with pytest.raises(ValueError, match="never sends"):
        read_update({"update_id": 1, "message": {**message, "from": {**sender, "id": [1]}}}, bot)
