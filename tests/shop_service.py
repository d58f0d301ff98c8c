"""The shop's use-case context for service-level tests (tests/test_shop_*.py), and what they
read back: a real SQLite file, a real StripeGateway over HTTP to the Stripe stand-in, events
signed by the stand-in and verified by the SDK, the outbox and the stock as stored."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest
import stripe
from telegram import Bot

from bot.config import Settings
from sandbox.fake_stripe import FakeStripe
from shop import payments
from shop.context import Shop
from shop.gateways.stripe_gateway import StripeGateway
from storage.db import fetch_all, open_database

__all__ = ["owed_keys", "receive", "shop", "stock_states"]


@pytest.fixture
async def shop(settings: Settings) -> AsyncIterator[Shop]:
    """The shop's use-case context as the app builds it, minus the app: nothing reads
    Telegram here, so the Bot is never initialised."""
    db = await open_database(settings.database)
    gateway = StripeGateway(settings.stripe_secret_key, settings.stripe_api_base)
    bot = Bot(settings.telegram_bot_token, base_url=settings.telegram_api_base_url)
    try:
        yield Shop(settings, db, gateway, bot, lambda: None)
    finally:
        await gateway.close()
        await db.close()


async def receive(shop: Shop, stripe_api: FakeStripe, event: Mapping[str, Any]) -> None:
    """The webhook's path minus HTTP and the inbox: the raw body's signature checked by the SDK,
    the parsed event checked as the webhook checks it (ValueError: a 400), then applied as the
    inbox's applier applies it."""
    body = json.dumps(event)
    header = stripe_api.sign(body.encode())
    stripe.WebhookSignature.verify_header(body, header, shop.settings.stripe_webhook_secret, 300)
    payload = json.loads(body)
    if payments.received(payload) is not None:
        await payments.apply_event(shop, payload)


async def owed_keys(shop: Shop) -> list[str]:
    """The outbox's dedupe keys, oldest first: what the shop owes to whom, once each."""
    rows = await fetch_all(shop.db.reader, "SELECT dedupe_key FROM deliveries ORDER BY id")
    return [str(row[0]) for row in rows]


async def stock_states(shop: Shop, product_id: int) -> dict[str, int]:
    """How many of the product's items are in each state (available, reserved, sold)."""
    rows = await fetch_all(
        shop.db.reader,
        "SELECT state, COUNT(*) FROM stock_items WHERE product_id = ? GROUP BY state",
        (product_id,),
    )
    return {str(row[0]): int(row[1]) for row in rows}
