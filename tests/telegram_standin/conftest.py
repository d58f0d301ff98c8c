"""Fixtures: the Bot API stand-in on loopback, a real telegram.Bot pointed at it, a started buyer.

Every test here drives ``sandbox.fake_telegram.FakeTelegram`` through a real ``telegram.Bot``
over HTTP, so PTB's request encoding and its mapping of error answers to exceptions are
exercised.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from sandbox.fake_telegram import FakeTelegram
from tests.telegram_standin.helpers import BUYER


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    telegram_api = FakeTelegram()
    await telegram_api.start()
    try:
        yield telegram_api
    finally:
        await telegram_api.stop()


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as b:
        yield b


@pytest.fixture
def buyer(fake: FakeTelegram) -> int:
    """A user who has pressed Start, so the bot may write to them."""
    fake.user_sends(BUYER, "/start")
    return BUYER
