"""/language (issue 14, item 2): a person picks the shop's language, the choice is answered in
the new language and kept for every later update, "Follow my Telegram app" forgets it, and a
language the shop does not offer is refused kindly and stores nothing. The app runs on the test's
own Spanish catalog (tests/language_catalogs.py); the rest of its texts stay English there."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_file

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from tests.admin_product_steps import button_texts
from tests.conftest import BUYER_ID
from tests.language_catalogs import (
    CHOSEN,
    CHOSEN_ES,
    FOLLOW,
    FOLLOWING,
    MENU,
    MENU_EN,
    MENU_ES,
    NOT_OFFERED,
    PERSIAN,
    SPANISH,
    app_speaking,
    chosen,
)
from tests.people import Person, shown

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
async def app(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> AsyncIterator[ShopApp]:
    """The shop offering English, Spanish and Persian (this module's `app`)."""
    async with app_speaking(tmp_path, telegram, stripe_api) as speaking:
        yield speaking


async def forged_tap(
    telegram: FakeTelegram, user_id: int, message: FakeMessage, data: str
) -> dict[str, Any]:
    """Tap `data` on the message whether or not it carries such a button (a modified client,
    or a button of a menu sent before the settings changed); the tap's answer."""
    query_id = telegram.user_taps(user_id, message, data, check_keyboard=False)["callback_query"]
    for _ in range(200):
        for answer in telegram.answered_callbacks:
            if answer["callback_query_id"] == query_id["id"]:
                return answer
        await asyncio.sleep(0.02)
    raise AssertionError(f"the tap {data!r} was never answered")


async def test_the_menu_names_each_language_in_itself_and_marks_the_one_spoken(
    app: ShopApp, buyer: Person
) -> None:
    menu = await buyer.sends("/language", MENU_EN)
    assert button_texts(menu) == ["✓ English", "Español", "فارسی", "✓ Follow my Telegram app"]
    assert [b["callback_data"] for b in menu.buttons()] == [
        "lg:c:en",
        "lg:c:es",
        "lg:c:fa",
        "lg:c:auto",
    ]
    assert menu.reply_markup is not None
    assert [len(row) for row in menu.reply_markup["inline_keyboard"]] == [2, 1, 1]


async def test_a_choice_is_answered_in_the_new_language_and_kept_until_forgotten(
    app: ShopApp, telegram: FakeTelegram, buyer: Person
) -> None:
    menu = await buyer.sends("/language", MENU_EN)
    confirmed = await buyer.taps(menu, "Español", CHOSEN_ES)
    assert confirmed.message_id == menu.message_id and not confirmed.buttons()
    assert await chosen(app, BUYER_ID) == "es"

    # The next update, from an English Telegram app, is answered in Spanish.
    again = await buyer.sends("/language", MENU_ES)
    assert button_texts(again) == ["English", "✓ Español", "فارسی", SPANISH[FOLLOW]]
    followed = await buyer.taps(
        again,
        SPANISH[FOLLOW],
        "From now on the shop follows the language of your Telegram app. "
        "Right now that is English.",
    )
    assert followed.message_id == again.message_id
    assert await chosen(app, BUYER_ID) is None
    await buyer.sends("/language", MENU_EN)

    # Following a Spanish app: Spanish, with "Follow" marked since no choice stands.
    before = len(telegram.messages(BUYER_ID))
    telegram.user_sends(BUYER_ID, "/language", language_code="es-MX")
    spanish = await telegram.wait_for(
        BUYER_ID, lambda m: m in telegram.messages(BUYER_ID)[before:] and MENU_ES in shown(m)
    )
    assert button_texts(spanish)[1] == "✓ Español"
    assert button_texts(spanish)[-1] == "✓ " + SPANISH[FOLLOW]


async def test_a_language_not_offered_is_refused_kindly_and_nothing_is_stored(
    app: ShopApp, telegram: FakeTelegram, buyer: Person
) -> None:
    menu = await buyer.sends("/language", MENU_EN)
    for data in ("lg:c:de", "lg:c:pt_BR", "lg:c:zh_Hant"):
        answer = await forged_tap(telegram, BUYER_ID, menu, data)
        assert (answer["text"], answer["show_alert"]) == (NOT_OFFERED, True)
    assert await chosen(app, BUYER_ID) is None
    assert menu.edits == 0

    await buyer.taps(menu, "Español", CHOSEN_ES)
    answer = await forged_tap(telegram, BUYER_ID, menu, "lg:c:de")
    assert answer["text"] == SPANISH[NOT_OFFERED]  # said in the language they chose
    assert await chosen(app, BUYER_ID) == "es"
    await buyer.nothing_more()


async def test_a_menu_from_before_languages_changed_stores_nothing_and_the_old_choice_lapses(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe, buyer: Person
) -> None:
    async with app_speaking(tmp_path, telegram, stripe_api) as first:
        await buyer.taps(await buyer.sends("/language", MENU_EN), "Español", CHOSEN_ES)
        old_menu = await buyer.sends("/language", MENU_ES)
        assert await chosen(first, BUYER_ID) == "es"

    # The merchant drops Spanish (LANGUAGES=en,fa) and restarts.
    async with app_speaking(tmp_path, telegram, stripe_api, ("en", "fa")) as second:
        old_button = old_menu.button("Español")["callback_data"]
        answer = await forged_tap(telegram, BUYER_ID, old_menu, old_button)
        assert (answer["text"], answer["show_alert"]) == (NOT_OFFERED, True)
        assert await chosen(second, BUYER_ID) == "es"  # left as it was, and no longer used
        menu = await buyer.sends("/language", MENU_EN)
        assert button_texts(menu) == ["✓ English", "فارسی", "✓ Follow my Telegram app"]


def test_every_text_the_test_catalogs_translate_is_one_make_messages_extracts() -> None:
    """The stories' own catalogs translate real message ids: each is found in the code by the
    extraction `make messages` runs (keywords t, nt:1,2 and N_), so a text that bypassed it or
    was reworded fails here, not silently in the stories."""
    keywords = {"t": None, "nt": (1, 2), "N_": None}
    found: set[str] = set()
    for module in ("bot/language_menu.py", "webhooks/pages.py"):
        for _, message, _, _ in extract_from_file("python", ROOT / module, keywords=keywords):
            found.update([message] if isinstance(message, str) else message)
    assert set(SPANISH) | set(PERSIAN) <= found
    assert {MENU, FOLLOW, NOT_OFFERED, CHOSEN, FOLLOWING, "Back to the bot"} <= found
