"""A buyer who writes to the bot is answered with how to reach the merchant, or the message
is passed on to the admins; /paysupport and /help say the same; /cancel outside a dialog says
there is nothing to cancel (item 25)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app import ShopApp
from bot.config import ConfigError, load_settings
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from tests.config_env import REQUIRED
from tests.conftest import ADMIN_ID, BUYER_ID, OTHER_BUYER_ID, settings_for, start_app
from tests.people import Person, shown


async def test_without_a_contact_a_buyers_message_reaches_the_admins(
    app: ShopApp, telegram: FakeTelegram, buyer: Person
) -> None:
    answer = await buyer.sends("hello, do you ship to <Spain>?", "passed your message on")
    assert "/catalog" in shown(answer)
    relayed = await telegram.wait_for(ADMIN_ID, lambda m: "Message from a buyer" in shown(m))
    assert "hello, do you ship to <Spain>?" in shown(relayed) and str(BUYER_ID) in shown(relayed)
    help_text = await buyer.sends("/help", "How it works")
    assert "Just write them here" in shown(help_text) and "/paysupport" in shown(help_text)
    support = await buyer.sends("/paysupport", "Payment support")
    assert "refunds" in shown(support) and "Write your question now" in shown(support)
    await buyer.sends("/cancel", "Your question was not sent")
    await buyer.sends("/cancel", "nothing to cancel")
    await Person(telegram, ADMIN_ID).sends("/cancel", "nothing to cancel")


async def test_a_chatty_buyer_cannot_flood_the_admins(app: ShopApp, telegram: FakeTelegram) -> None:
    chatty = Person(telegram, OTHER_BUYER_ID)
    for number in range(5):
        await chatty.sends(f"message {number}", "passed your message on")
    await chatty.sends("message 5", "That's a lot of messages")
    await asyncio.sleep(0.2)
    relayed = [m for m in telegram.messages(ADMIN_ID) if "Message from a buyer" in shown(m)]
    assert len(relayed) == 5


async def test_with_a_contact_buyers_are_told_it_everywhere(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    settings = settings_for(tmp_path, telegram, stripe_api, SUPPORT_CONTACT="@shop_help <24h>")
    app = await start_app(settings, telegram, stripe_api)
    try:
        buyer = Person(telegram, BUYER_ID)
        answer = await buyer.sends("hello?", "Contact the merchant: @shop_help <24h>")
        assert "can't answer questions myself" in shown(answer)
        await buyer.sends("/help", "Contact the merchant: @shop_help <24h>")
        await buyer.sends("/paysupport", "contact the merchant directly: @shop_help <24h>")
        await asyncio.sleep(0.2)
        assert not any("Message from a buyer" in shown(m) for m in telegram.messages(ADMIN_ID))
        commands = telegram.calls_of("setMyCommands")[0].params["commands"]
        assert "paysupport" in str(commands)
    finally:
        await app.stop()


def test_the_support_contact_is_one_short_line() -> None:
    assert load_settings({**REQUIRED}, env_file=None).support_contact is None
    for bad in ("@a\n@b", "x" * 201):
        with pytest.raises(ConfigError, match="SUPPORT_CONTACT must be one line"):
            load_settings({**REQUIRED, "SUPPORT_CONTACT": bad}, env_file=None)
