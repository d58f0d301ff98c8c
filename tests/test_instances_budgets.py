"""Three identical instances on one PostgreSQL database keep Telegram's and Stripe's budgets
together (issue 15, item 3): each instance's own traffic, as fast as it can ask, reaches the
stand-ins — which enforce Telegram's 30 messages/s per bot and Stripe's 25 session creations/s
per account with 429s — at the budget in all, not three times it, and never once too fast.

The instances are ShopApp objects in one process, each with its own Application, Bot, Stripe
client and connection pool, wired as `python -m bot` wires them (bot/app.py: on PostgreSQL the
slots come from the database's `send_budgets` rows)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from bench.harness import TimedStripe, TimedTelegram, messages_sent
from bot.app import ShopApp
from bot.rate_limiter import MESSAGES_PER_SECOND
from shop.gateways.stripe_gateway import SESSION_CREATES_PER_SECOND
from storage import products
from storage.models import Order
from tests.conftest import BOT_TOKEN, settings_for, start_app
from tests.shop_records import add_product, new_order

pytestmark = [pytest.mark.postgresql_only, pytest.mark.slow]

INSTANCES = 3
MESSAGES_EACH = 60
SESSIONS_EACH = 40
FIRST_CHAT = 710_001
# Well above what one instance's share (a third) would give, so a budget counted per instance
# — or not kept — fails; the bench reports the exact figure (issue 15: ≥ 0.9 of the limit).
LEAST_SHARE_OF_BUDGET = 0.8


@pytest.fixture
async def telegram() -> AsyncIterator[TimedTelegram]:
    fake = TimedTelegram(token=BOT_TOKEN, rate_limit_per_second=30)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def stripe_api() -> AsyncIterator[TimedStripe]:
    fake = TimedStripe(rate_limit_per_second=25)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def instances(
    tmp_path: Path, telegram: TimedTelegram, stripe_api: TimedStripe
) -> AsyncIterator[list[ShopApp]]:
    settings = settings_for(
        tmp_path, telegram, stripe_api, TELEGRAM_MODE="webhook", TELEGRAM_WEBHOOK_SECRET="s" * 32
    )
    async with contextlib.AsyncExitStack() as stack:
        apps = []
        for _ in range(INSTANCES):
            app = await start_app(settings, telegram, stripe_api)
            stack.push_async_callback(app.stop)
            apps.append(app)
        yield apps


def _busiest_second(times: Sequence[float]) -> int:
    return max(sum(1 for t in times if start <= t < start + 1) for start in times)


async def test_three_instances_send_at_the_bots_one_budget(
    instances: list[ShopApp], telegram: TimedTelegram
) -> None:
    chats = range(FIRST_CHAT, FIRST_CHAT + INSTANCES * MESSAGES_EACH)
    for chat in chats:
        telegram.user_sends(chat, "/start", queue=False)
    first_call = len(telegram.calls)

    async def hammer(app: ShopApp, number: int) -> None:
        mine = list(chats)[number * MESSAGES_EACH : (number + 1) * MESSAGES_EACH]
        await asyncio.gather(*(app.application.bot.send_message(c, f"#{c}") for c in mine))

    await asyncio.gather(*(hammer(app, n) for n, app in enumerate(instances)))
    sent = [t for t, call in messages_sent(telegram.calls_since(first_call))]
    assert len(sent) == INSTANCES * MESSAGES_EACH
    assert telegram.rate_limited == 0  # not one 429 from the bot's flood control
    assert _busiest_second(sent) <= 30
    rate = (len(sent) - 1) / (sent[-1] - sent[0])
    assert LEAST_SHARE_OF_BUDGET * MESSAGES_PER_SECOND <= rate <= 30, rate


async def _pending_orders(app: ShopApp, count: int) -> list[Order]:
    assert app.db is not None
    async with app.db.transaction() as tx:
        product_id = await add_product(tx)
        return [await new_order(tx, product_id, buyer=9_000 + n) for n in range(count)]


async def test_three_instances_create_sessions_at_the_accounts_one_budget(
    instances: list[ShopApp], stripe_api: TimedStripe
) -> None:
    orders = await _pending_orders(instances[0], INSTANCES * SESSIONS_EACH)
    assert instances[0].db is not None
    product = await products.get(instances[0].db.reader, orders[0].lines[0].product_id)
    assert product is not None
    first_hit = len(stripe_api.timeline)

    async def hammer(app: ShopApp, number: int) -> None:
        assert app.shop is not None
        mine = orders[number * SESSIONS_EACH : (number + 1) * SESSIONS_EACH]
        settings = app.shop.checkout_settings
        await asyncio.gather(
            *(
                app.stripe.create_checkout_session(order, {product.id: product}, (), settings)
                for order in mine
            )
        )

    await asyncio.gather(*(hammer(app, n) for n, app in enumerate(instances)))
    creates = [
        hit
        for hit in stripe_api.timeline[first_hit:]
        if hit.method == "POST" and hit.path == "/v1/checkout/sessions"
    ]
    assert [hit.status for hit in creates] == [200] * (INSTANCES * SESSIONS_EACH)
    assert stripe_api.rate_limited == 0
    times = [hit.at for hit in creates]
    assert _busiest_second(times) <= 25
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert LEAST_SHARE_OF_BUDGET * SESSION_CREATES_PER_SECOND <= rate <= 25, rate
