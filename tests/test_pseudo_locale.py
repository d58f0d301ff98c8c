"""The buyer's and the admin's stories in the pseudo-locale (tests/pseudo_locale.py): every text
the bot shows them must come from the catalog, so none may keep a run of ASCII letters.

The real app runs with the pseudo catalog compiled into a temporary catalog_dir and offers
English and en_XA; the buyer's and the admin's Telegram apps report "en-XA". Whatever English is
left in what they were sent — a message, a button, a toast, an invoice — is a text that
bypassed `lang.t`, or whose message id the template does not have (`make messages`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from storage import languages
from tests.conftest import ADMIN_ID, BUYER_ID, settings_for, start_app
from tests.language_stories import RENAMED, admin_story, buyer_story
from tests.pseudo_locale import (
    PSEUDO_CODE,
    TELEGRAM_CODE,
    Said,
    build_catalog,
    pseudo,
    report,
    said_to,
    unmarked,
)
from tests.pseudo_steps import (
    ADMIN_NAME,
    BUYER_NAME,
    DATA,
    EBOOK,
    EBOOK_GOODS,
    PseudoPerson,
)


@pytest.fixture
async def pseudo_app(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> AsyncIterator[ShopApp]:
    """The app offering English and the pseudo-locale, its catalog built from the template."""
    settings = dataclasses.replace(
        settings_for(tmp_path, telegram, stripe_api),
        languages=("en", PSEUDO_CODE),
        catalog_dir=build_catalog(tmp_path / "catalogs"),
    )
    telegram.set_language(ADMIN_ID, TELEGRAM_CODE)
    app = await start_app(settings, telegram, stripe_api)
    yield app
    await app.stop()


@pytest.fixture
def buyer(telegram: FakeTelegram) -> PseudoPerson:
    return PseudoPerson(telegram, BUYER_ID, BUYER_NAME)


@pytest.fixture
def admin(telegram: FakeTelegram) -> PseudoPerson:
    return PseudoPerson(telegram, ADMIN_ID, ADMIN_NAME)


def _english_left(telegram: FakeTelegram, *extra_data: str) -> list[tuple[Said, list[str]]]:
    said = said_to(telegram, [BUYER_ID, ADMIN_ID])
    assert len(said) > 20, f"the story saw too little to judge: {said}"
    return unmarked(said, (*DATA, telegram.bot_name, *extra_data))


# --- the pipeline ---------------------------------------------------------------------------------


async def test_the_pseudo_locale_reaches_the_bot(
    pseudo_app: ShopApp, telegram: FakeTelegram, admin: PseudoPerson
) -> None:
    """The shop picks en_XA for an app in "en-XA" and its catalog turns the template's
    messages pseudo, plural ones too; the bot sees the person's language (it stores an admin's).
    So what the stories flag is the code's, not the set-up's."""
    lang = pseudo_app.shop.languages.pick(None, TELEGRAM_CODE) if pseudo_app.shop else None
    assert lang is not None and lang.code == PSEUDO_CODE
    unknown = "I don't know that command. Try /catalog to browse, or /help."
    assert lang.t(unknown) == pseudo(unknown) != unknown
    assert lang.nt("…and {n} more", "…and {n} more", 3) == pseudo("…and {n} more").format(n=3)
    await admin.sends("/help")
    assert pseudo_app.db is not None
    assert (await languages.of(pseudo_app.db.reader, ADMIN_ID)).seen == PSEUDO_CODE
    update = telegram.calls_of("getUpdates")[-1].response["result"]
    assert [u["message"]["from"]["language_code"] for u in update] == [TELEGRAM_CODE]


def test_the_check_flags_english_and_nothing_else() -> None:
    said = [
        Said("a", pseudo("<b>Your order</b> #12 is paid: {total}").format(total="US$ 9.99")),
        Said("b", f"{pseudo('Buy')} {EBOOK} — $9.99 · https://shop.test/x?session=cs_ABC"),
        Said("c", f"/orders @shop_test_bot Dec 6, 2025, 5:46\u202fPM {BUYER_NAME} 9,99 EUR"),
        Said("d", f"{pseudo('Paid')}: {EBOOK_GOODS} customer@example.com"),
        Said("e", f"Pay {EBOOK}"),
        Said("f", "Qty 2"),
        Said("g", f"{pseudo('Refund')} 12 — Dec 6, 2025"),
    ]
    flagged = unmarked(said, DATA)
    assert [(item.where, runs) for item, runs in flagged] == [("e", ["Pay"]), ("f", ["Qty"])]
    assert "e: Pay\n" in report(flagged)


# --- the buyer -----------------------------------------------------------------------------------


async def test_the_buyers_story_speaks_only_the_catalog(
    pseudo_app: ShopApp,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    buyer: PseudoPerson,
    admin: PseudoPerson,
) -> None:
    await buyer_story(pseudo_app, telegram, stripe_api, buyer, admin)
    flagged = _english_left(telegram)
    assert not flagged, report(flagged)


# --- the admin ------------------------------------------------------------------------------------


async def test_the_admins_story_speaks_only_the_catalog(
    pseudo_app: ShopApp,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    buyer: PseudoPerson,
    admin: PseudoPerson,
) -> None:
    await admin_story(pseudo_app, telegram, stripe_api, buyer, admin)
    flagged = _english_left(telegram, RENAMED)
    assert not flagged, report(flagged)
