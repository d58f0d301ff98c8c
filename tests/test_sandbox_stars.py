"""The sandbox page's invoices without a browser: an invoice as the page shows it, Telegram's
payment sheet played through `POST /sandbox/api/pay_invoice`, and the payment and refund notes.

The page's routes run over a bare Telegram stand-in here, with the test as the bot (a real
telegram.Bot over HTTP): the sheet is the sandbox's, whatever shop answers the pre-checkout
query. The whole purchase through the shop is tests/test_sandbox_browser_stars.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, LabeledPrice, PreCheckoutQuery

from sandbox.chats import Chats
from sandbox.customer import Customer
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from sandbox.origin import Origins
from sandbox.personas import BUYERS
from sandbox.run import Sandbox
from sandbox.settings import Credentials
from sandbox.standins import free_port
from sandbox.web import SandboxWeb
from sandbox.webhook_log import WebhookLog
from storage import products
from storage.models import Rail
from tests.sandbox_helpers import read_items

# The sandbox runs on its own scratch SQLite file whatever the suite's engine.
pytestmark = pytest.mark.sqlite_file

ALICE, BOB = BUYERS
PAY = "/sandbox/api/pay_invoice"
# Merchant text with markup in it: the view carries it as text, the page shows it as text.
TITLE = "Key <b>&amp;</b>"


@dataclass
class Page:
    """The sandbox page's server over a bare stand-in, and the test playing the bot."""

    url: str
    telegram: FakeTelegram
    bot: Bot
    http: aiohttp.ClientSession
    offset: int = 0  # the bot's getUpdates offset: each update is read once

    async def post(self, path: str, body: Any, **headers: str) -> tuple[int, dict[str, Any]]:
        async with self.http.post(self.url + path, json=body, headers=headers) as answer:
            return answer.status, await answer.json(content_type=None)

    async def invoice(self, stars: int = 250) -> int:
        """The bot sends Alice a Stars invoice; its message id."""
        sent = await self.bot.send_invoice(
            ALICE.user_id,
            title=TITLE,
            description="One activation key & a <i>thank you</i>",
            payload="order-7",
            currency="XTR",
            prices=[LabeledPrice("Key", stars)],
            provider_token="",
            photo_url=f"{self.url}/sandbox/static/demo-mug.png",
        )
        return sent.message_id

    async def checkout(self) -> PreCheckoutQuery:
        """The pre-checkout query Telegram asks the bot, as the bot polls for it."""
        for _ in range(20):
            for update in await self.bot.get_updates(self.offset, timeout=1):
                self.offset = update.update_id + 1
                if update.pre_checkout_query is not None:
                    return update.pre_checkout_query
        raise AssertionError("no pre_checkout_query reached the bot")

    async def pay(self, message_id: int, ok: bool, error: str | None = None) -> dict[str, Any]:
        """Alice confirms the sheet while the bot answers the pre-checkout query."""
        paying = asyncio.create_task(
            self.post(PAY, {"user_id": ALICE.user_id, "message_id": message_id})
        )
        query = await self.checkout()
        await self.bot.answer_pre_checkout_query(query.id, ok, error_message=error)
        status, outcome = await paying
        assert status == 200, outcome
        return outcome


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    credentials = Credentials()
    telegram = FakeTelegram(credentials.bot_token, bot_id=credentials.bot_id)
    await telegram.start()
    stripe = FakeStripe(credentials.stripe_key, credentials.webhook_secret)
    webhooks = WebhookLog(stripe)
    chats = Chats(telegram)
    chats.register_personas()
    port = free_port()
    pages = SandboxWeb(telegram, chats, webhooks, Customer(stripe, webhooks), Origins(port))
    app = web.Application()
    pages.add_routes(app)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with (
            Bot(telegram.token, base_url=telegram.base_url) as bot,
            aiohttp.ClientSession() as http,
        ):
            yield Page(f"http://127.0.0.1:{port}", telegram, bot, http)
    finally:
        await runner.cleanup()
        await webhooks.close()
        await telegram.stop()


async def seen_until(
    stream: aiohttp.ClientResponse, done: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    while not done(seen):
        seen += (await read_items(stream))["items"]
    return seen


def service(items: list[dict[str, Any]], words: str) -> dict[str, Any] | None:
    return next((i for i in items if i.get("from") == "service" and words in i["service"]), None)


async def test_an_invoice_shows_as_telegram_shows_it_and_the_sheet_pays_it_once(
    page: Page,
) -> None:
    async with page.http.get(f"{page.url}/sandbox/api/stream") as stream:
        await read_items(stream)
        message_id = await page.invoice()
        [shown] = [i for i in await seen_until(stream, bool) if i.get("invoice")]
        assert shown["invoice"] == {
            "title": TITLE,
            "description": "One activation key & a <i>thank you</i>",
            "photo": f"{page.url}/sandbox/static/demo-mug.png",
            "total": "⭐ 250",
            "paid": False,
        }
        assert shown["buttons"] == [[{"text": "Pay ⭐️250", "pay": True}]]

        outcome = await page.pay(message_id, ok=True)
        assert outcome == {"ok": True, "outcome": "paid", "error_message": None, "total": "⭐ 250"}
        [payment] = page.telegram.payments
        assert payment.charge_id is not None
        after = await seen_until(stream, lambda s: service(s, "You paid") is not None)
        paid_note = service(after, "You paid")
        assert paid_note is not None and paid_note["chat_id"] == ALICE.user_id
        assert paid_note["service"] == f"You paid ⭐ 250 to {page.telegram.bot_name} for {TITLE}"
        assert any(i.get("invoice", {}) and i["invoice"]["paid"] for i in after)

        again = await page.post(PAY, {"user_id": ALICE.user_id, "message_id": message_id})
        assert again == (400, {"ok": False, "error": "This invoice is paid already."})
        assert len(page.telegram.payments) == 1

        await page.bot.refund_star_payment(ALICE.user_id, payment.charge_id)
        refunds = await seen_until(stream, lambda s: service(s, "refunded") is not None)
        refund = service(refunds, "refunded")
        assert refund is not None and refund["chat_id"] == ALICE.user_id
        assert refund["service"] == f"{page.telegram.bot_name} refunded ⭐ 250 for {TITLE}"


async def test_the_sheet_shows_the_bots_refusal_or_its_silence_and_charges_nothing(
    page: Page,
) -> None:
    message_id = await page.invoice()
    refused = await page.pay(message_id, ok=False, error="Sorry, the last key just sold.")
    assert (refused["outcome"], refused["error_message"]) == (
        "refused",
        "Sorry, the last key just sold.",
    )
    page.telegram.pre_checkout_timeout = 0.3
    body = {"user_id": ALICE.user_id, "message_id": message_id}
    assert await page.post(PAY, body) == (
        200,
        {"ok": True, "outcome": "timeout", "error_message": None, "total": "⭐ 250"},
    )
    assert [p.charge_id for p in page.telegram.payments] == [None, None]
    page.telegram.pre_checkout_timeout = 10.0
    await page.checkout()  # the unanswered query the bot picks up too late
    assert (await page.pay(message_id, ok=True))["outcome"] == "paid"  # still payable after


async def test_the_pay_route_takes_only_a_personas_own_invoice(page: Page) -> None:
    message_id = await page.invoice()
    text = await page.bot.send_message(ALICE.user_id, "not an invoice")
    alice = ALICE.user_id

    async def refused(body: Any) -> str:
        status, answer = await page.post(PAY, body)
        assert status == 400, answer
        return str(answer["error"])

    assert await refused({"user_id": alice}) == "message_id must be a number"
    assert await refused({"user_id": True, "message_id": message_id}) == "user_id must be a number"
    assert await refused({"user_id": alice, "message_id": "1"}) == "message_id must be a number"
    assert await refused([alice, message_id]) == "the body must be a JSON object"
    assert "persona" in (await refused({"user_id": 1, "message_id": message_id})).lower()
    assert await refused({"user_id": BOB.user_id, "message_id": message_id}) == (
        "That message is not in this chat."
    )
    assert await refused({"user_id": alice, "message_id": text.message_id}) == (
        "That message is no invoice."
    )
    assert await refused({"user_id": alice, "message_id": 999}) == (
        "That message is not in this chat."
    )
    async with page.http.post(page.url + PAY, data="user_id=1") as form:
        assert form.status == 400
    body = {"user_id": alice, "message_id": message_id}
    evil = await page.http.post(
        page.url + PAY, json=body, headers={"Origin": "https://evil.example"}
    )
    assert evil.status == 403
    evil.release()
    assert page.telegram.payments == []


async def test_the_seeded_ebook_and_game_key_sell_for_stars_and_still_through_stripe(
    sandbox: Sandbox,
) -> None:
    assert sandbox.app is not None and sandbox.app.db is not None
    listed = await products.list_all(sandbox.app.db.reader, offset=0, limit=50)
    on_stars = {p.title: p.price_on(Rail.STARS) for p in listed if p.sells_on(Rail.STARS)}
    assert on_stars == {
        "Async Python — the ebook": (600, "xtr"),
        "Starfield Racer — game key": (250, "xtr"),
    }
    assert all(p.sells_on(Rail.STRIPE) for p in listed)  # the cart of four still pays by card
