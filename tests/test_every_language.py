"""Every story in every shipped language, over the Telegram and Stripe stand-ins: the buyer's
(catalog, Buy now, Stars, a cart, /orders, refusals) and the admin's (/addproduct, /products,
/stock, /orders, refunds, /sales), played by people whose Telegram apps speak that language.

What must hold in each: Telegram takes every message the bot sends (its HTML parses, its
lengths fit — the stand-in is as strict as Telegram), every row of buttons reads whole on a
phone, nothing owed is given up, and the bot
speaks the language (its /help is the catalog's, not the English one). The stories find
buttons by their callback data, so they are the same stories in every language."""

from __future__ import annotations

import re

import pytest

from bot.app import ShopApp
from bot.buyer.texts import help_text
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from shop.i18n import Languages, shipped_languages
from shop.telegram_text import utf16_len
from storage.db import fetch_one
from tests.conftest import ADMIN_ID, BUYER_ID
from tests.english import EN
from tests.language_stories import admin_story, buyer_story
from tests.pseudo_steps import ADMIN_NAME, BUYER_NAME, PseudoPerson

pytestmark = pytest.mark.slow  # about 3 s per story and language

LANGUAGES = Languages.load()


def telegram_code(code: str) -> str:
    """The language as Telegram's apps report it: "pt_BR" → "pt-br"."""
    return code.replace("_", "-").lower()


def people(telegram: FakeTelegram, code: str) -> tuple[PseudoPerson, PseudoPerson]:
    reported = telegram_code(code)
    buyer = PseudoPerson(telegram, BUYER_ID, BUYER_NAME, language_code=reported)
    admin = PseudoPerson(telegram, ADMIN_ID, ADMIN_NAME, language_code=reported)
    return buyer, admin


async def assert_all_taken(app: ShopApp, telegram: FakeTelegram) -> None:
    refused = [
        (call.method, call.response.get("description"))
        for call in telegram.calls
        if call.method != "getUpdates" and call.status >= 400
    ]
    assert not refused, refused
    assert app.db is not None
    row = await fetch_one(app.db.reader, "SELECT COUNT(*) FROM deliveries WHERE status != 'sent'")
    assert row is not None and row[0] == 0


# What a phone's chat shows across one row of buttons before Telegram cuts labels short (in
# UTF-16 units, invisible direction marks left out): the English rows use up to about 31.
PHONE_ROW = 48
INVISIBLE = dict.fromkeys(map(ord, "\u2068\u2069\u200e\u200f"))


def assert_fits_a_phone(telegram: FakeTelegram) -> None:
    """Every row of buttons the bot sent reads whole on a phone, in every language."""
    too_wide = []
    for user_id in (BUYER_ID, ADMIN_ID):
        for message in telegram.messages(user_id):
            for row in (message.reply_markup or {}).get("inline_keyboard", []):
                labels = [str(button["text"]).translate(INVISIBLE) for button in row]
                if sum(utf16_len(label) for label in labels) > PHONE_ROW:
                    too_wide.append(labels)
    assert not too_wide, too_wide


def assert_spoken(telegram: FakeTelegram, user_id: int, code: str) -> None:
    """The person's /help answer is the catalog's text in their language."""
    lang = LANGUAGES.get(code)
    expected = re.sub(r"<[^>]+>", "", help_text(lang)).split("\n")[0]
    said = [m.text or "" for m in telegram.messages(user_id)]
    assert any(expected in text for text in said), (expected, said[-3:])
    if code != "en":
        assert help_text(lang) != help_text(EN)


# Each story, with the person whose /help answer shows which language they were spoken to in.
STORIES = {"buyer": (buyer_story, BUYER_ID), "admin": (admin_story, ADMIN_ID)}


@pytest.mark.parametrize("code", shipped_languages())
@pytest.mark.parametrize("story", STORIES)
async def test_the_story_plays_in(
    story: str, code: str, app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    play, reader = STORIES[story]
    buyer, admin = people(telegram, code)
    await play(app, telegram, stripe_api, buyer, admin)
    await assert_all_taken(app, telegram)
    assert_fits_a_phone(telegram)
    assert_spoken(telegram, reader, code)
