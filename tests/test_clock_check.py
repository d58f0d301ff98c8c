"""The clock at start: the bot compares its clock with Stripe's and says how far off it is,
since a clock minutes fast makes every webhook signature look stale and Stripe checks payment
links' expiry by its own clock."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from pathlib import Path

import pytest

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from shop.gateways import clock_check
from tests.conftest import BUYER_ID, settings_for, start_app
from tests.story import add_product, buy, open_card, session_of


async def _clock_warning(caplog: pytest.LogCaptureFixture) -> logging.LogRecord:
    """The start-up clock check's warning, once the background check has logged it."""
    for _ in range(200):
        found = [r for r in caplog.records if r.name == "shop.gateways.clock_check"]
        if found:
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError("the clock check said nothing")


async def test_a_clock_six_minutes_fast_is_called_out_at_start(
    tmp_path: Path,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """6 minutes fast: every webhook would be refused as too old; the start says so."""
    stripe_api.clock = lambda: time.time() - 360
    app = await start_app(settings_for(tmp_path, telegram, stripe_api), telegram, stripe_api)
    try:
        warning = await _clock_warning(caplog)
    finally:
        await app.stop()
    assert warning.levelno == logging.ERROR
    message = warning.getMessage()
    assert re.search(r"clock is 3(59|60|61) s ahead of Stripe's", message), message
    assert "webhooks are refused" in message and "NTP" in message


async def test_a_clock_90_seconds_slow_still_sells_30_minute_links(
    tmp_path: Path,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Stripe checks expires_at ≥ 30 minutes by its own clock: the link still asks for enough,
    and the start warns about the skew."""
    stripe_api.clock = lambda: time.time() + 90
    settings = settings_for(tmp_path, telegram, stripe_api, CHECKOUT_EXPIRES_MINUTES="30")
    app = await start_app(settings, telegram, stripe_api)
    try:
        product_id = await add_product(app)
        pay_message = await buy(telegram, BUYER_ID, await open_card(telegram, BUYER_ID, product_id))
        session = stripe_api.sessions[session_of(stripe_api, pay_message)]
        assert session["expires_at"] >= stripe_api.clock() + 30 * 60
        warning = await _clock_warning(caplog)
    finally:
        await app.stop()
    assert warning.levelno == logging.WARNING
    assert re.search(r"clock is (89|90|91) s behind Stripe's", warning.getMessage())


async def test_an_accurate_clock_raises_no_alarm(app: ShopApp) -> None:
    offset = await clock_check.warn_if_skewed(app.stripe)
    assert offset is not None and abs(offset) < 2
