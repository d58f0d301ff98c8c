"""One buyer cannot hold a whole stock pool in unpaid orders (MAX_RESERVED_PER_BUYER)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from storage import stock
from storage.models import ProductKind
from tests.conftest import BUYER_ID, OTHER_BUYER_ID, app_with
from tests.story import add_product, tap_buy_with_quantity


@pytest.fixture
async def capped_app(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> AsyncIterator[ShopApp]:
    async with app_with(tmp_path, telegram, stripe_api, MAX_RESERVED_PER_BUYER="5") as app:
        yield app


async def refused_with(telegram: FakeTelegram, buyer: int, words: str) -> str:
    """The refusal's text, whether the bot answers in the chat or in the tap's toast."""

    def toasts() -> list[str]:
        answers = telegram.calls_of("answerCallbackQuery")
        return [
            str(c.params.get("text", "")) for c in answers if words in str(c.params.get("text", ""))
        ]

    for _ in range(250):
        said = [m.text or "" for m in telegram.messages(buyer) if words in (m.text or "")]
        if said or toasts():
            return (said or toasts())[0]
        await asyncio.sleep(0.02)
    raise AssertionError(f"no refusal saying {words!r}")


def _pay_links(telegram: FakeTelegram, buyer: int) -> int:
    return sum(
        any(b.get("url") and b["text"].startswith("Pay") for b in m.buttons())
        for m in telegram.messages(buyer)
    )


async def test_a_buyer_holds_at_most_the_cap_across_unpaid_orders(
    capped_app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    app = capped_app
    assert app.db is not None
    product_id = await add_product(app, title="Game key", kind=ProductKind.DIGITAL_STOCK)
    async with app.db.transaction() as tx:
        await stock.add_items(tx, product_id, [f"KEY-{n}" for n in range(20)])

    await tap_buy_with_quantity(telegram, BUYER_ID, product_id, 3)
    await telegram.wait_for(BUYER_ID, lambda m: _pay_links(telegram, BUYER_ID) == 1)
    # 3 held + 4 asked > 5: refused, with how many are still allowed; nothing reserved.
    await tap_buy_with_quantity(telegram, BUYER_ID, product_id, 4)
    assert "smaller quantity" in await refused_with(telegram, BUYER_ID, "only 2 more")
    assert await stock.counts(app.db.reader, product_id) == (17, 3)
    assert len(stripe_api.sessions) == 1

    await tap_buy_with_quantity(telegram, BUYER_ID, product_id, 2)  # exactly up to the cap
    await telegram.wait_for(BUYER_ID, lambda m: _pay_links(telegram, BUYER_ID) == 2)
    await tap_buy_with_quantity(telegram, BUYER_ID, product_id, 1)
    await refused_with(telegram, BUYER_ID, "as many of these as one buyer")
    assert await stock.counts(app.db.reader, product_id) == (15, 5)

    # Another buyer has their own allowance.
    await tap_buy_with_quantity(telegram, OTHER_BUYER_ID, product_id, 5)
    await telegram.wait_for(OTHER_BUYER_ID, lambda m: _pay_links(telegram, OTHER_BUYER_ID) == 1)
    assert await stock.counts(app.db.reader, product_id) == (10, 10)
