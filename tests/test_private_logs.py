"""LOG_LEVEL=DEBUG keeps buyers' personal data out of the log, through a whole purchase."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import aiohttp
import pytest

from bot import logging_setup
from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from storage.models import ProductKind
from tests.conftest import ADMIN_ID, BOT_TOKEN, BUYER_ID
from tests.story import add_product, session_of, settled

BUYER_NAME = "Zelda Quartermain"
EMAIL = "ada.lovelace@example.org"
SHIPPING = {
    "name": "Ada Lovelace",
    "address": {
        "line1": "12 Byron Street",
        "city": "London",
        "postal_code": "N1 7AB",
        "country": "GB",
    },
}
PERSONAL = ("Quartermain", "ada.lovelace", "Lovelace", "Byron Street", "N1 7AB")


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """The shop's own logging set-up at DEBUG, written to a buffer, with the libraries turned
    up to DEBUG too (as whoever debugs one of them would); restored afterwards."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    names = (*logging_setup.THIRD_PARTY, "bot", "shop", "webhooks", "storage")
    levels = {name: logging.getLogger(name).level for name in names}
    stream = io.StringIO()
    logging_setup.configure("DEBUG", [BOT_TOKEN], stream=stream)
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield stream
    root.handlers[:], root.level = saved[0], saved[1]
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


async def test_a_purchase_with_address_and_email_logs_no_personal_data_at_debug(
    debug_log: io.StringIO, app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    product_id = await add_product(app, title="Mug", kind=ProductKind.PHYSICAL)
    telegram.user_sends(BUYER_ID, f"/start p_{product_id}", first_name=BUYER_NAME)
    card = await telegram.wait_for(BUYER_ID, lambda m: any("Buy" in b["text"] for b in m.buttons()))
    telegram.user_taps(BUYER_ID, card, card.button("Buy")["callback_data"])
    pay = await telegram.wait_for(BUYER_ID, lambda m: any(b.get("url") for b in m.buttons()))
    session_id = session_of(stripe_api, pay)
    stripe_api.pay(session_id, shipping=SHIPPING, email=EMAIL)
    # The success page looks the session up (customer details and address in the response)…
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{app.port}/success?session_id={session_id}") as page,
    ):
        assert page.status == 200
    # …and the webhook carries them too; the admins' alert names the address.
    event = stripe_api.session_event("checkout.session.completed", session_id)
    assert (await stripe_api.deliver(event))[0] == 200
    alert = await telegram.wait_for(ADMIN_ID, lambda m: "Byron Street" in (m.text or ""))
    assert "Ada Lovelace" in (alert.text or "")
    await settled(app)

    text = debug_log.getvalue()
    assert "Calling Bot API endpoint `sendMessage`" in text  # DEBUG lines are there…
    assert "API response body" in text and "Processing update" in text
    leaks = [line for line in text.splitlines() if any(p in line for p in PERSONAL)]
    assert not leaks, "\n".join(leaks[:5])  # …without the buyer's data
