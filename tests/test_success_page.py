"""The /success page asks Stripe only about our own unsettled orders, once per session per few
seconds however many pages are opened (issue 10, item 6), and never says "almost there" for a
payment that failed (item 23). Counted on the Stripe stand-in's own request log."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from shop.context import SESSION_LOOKUP_SECONDS
from tests.conftest import BUYER_ID
from tests.story import checkout, notify, pay_and_notify, settled

PARALLEL = 300


async def open_success_pages(app: ShopApp, session_id: str, times: int) -> list[str]:
    url = f"http://127.0.0.1:{app.port}/success"
    async with aiohttp.ClientSession() as http:

        async def one() -> str:
            async with http.get(url, params={"session_id": session_id}) as response:
                assert response.status == 200
                return await response.text()

        return await asyncio.gather(*(one() for _ in range(times)))


def lookups(stripe_api: FakeStripe, session_id: str) -> int:
    return len(stripe_api.requests_to("GET", f"/v1/checkout/sessions/{session_id}"))


async def test_parallel_pages_for_an_open_order_share_one_lookup(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    started = time.monotonic()
    pages = await open_success_pages(app, session_id, PARALLEL)
    windows = (time.monotonic() - started) // SESSION_LOOKUP_SECONDS + 1  # 1 unless very slow
    assert all("Almost there" in page for page in pages)
    assert 1 <= lookups(stripe_api, session_id) <= windows


async def test_a_page_opened_again_soon_after_reuses_the_lookup(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    await open_success_pages(app, session_id, 1)
    await open_success_pages(app, session_id, 1)  # a reload, well inside the window
    assert lookups(stripe_api, session_id) == 1


async def test_settled_and_unknown_sessions_are_not_looked_up(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    _, expired_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    stripe_api.expire(expired_id)
    await notify(stripe_api, "checkout.session.expired", expired_id)
    await settled(app)  # the expiry notice (with its Buy again) is out before the next card
    _, paid_id = await checkout(app, telegram, stripe_api, BUYER_ID, title="Paid one")
    await pay_and_notify(stripe_api, paid_id)
    unknown_id = "cs_test_" + "x" * 58
    stripe_api.requests.clear()

    expired_pages = await open_success_pages(app, expired_id, PARALLEL)
    paid_pages = await open_success_pages(app, paid_id, PARALLEL)
    unknown_pages = await open_success_pages(app, unknown_id, PARALLEL)

    assert all("Payment link expired" in page for page in expired_pages)
    assert all("Payment received" in page for page in paid_pages)
    assert all("Thanks!" in page for page in unknown_pages)
    assert stripe_api.requests_to("GET", "/v1/checkout/sessions") == []


async def test_a_failed_delayed_payment_is_not_almost_there(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    stripe_api.pay(session_id, payment_status="unpaid")
    await notify(stripe_api, "checkout.session.completed", session_id)
    [processing] = await open_success_pages(app, session_id, 1)
    assert "being confirmed" in processing
    stripe_api.settle(session_id, succeeded=False)
    await notify(stripe_api, "checkout.session.async_payment_failed", session_id)
    await settled(app)
    [page] = await open_success_pages(app, session_id, 1)
    assert "Payment not completed" in page and "Almost there" not in page
