"""The sandbox page's language switch: each persona's Telegram app speaks one of the shop's
languages, and the stand-in sends that persona's updates with it as language_code — the bot
reads it as from a real app. Over HTTP, like the page; the stand-in's own part below."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from telegram import Bot, BotCommand, BotCommandScopeChat

from sandbox.fake_telegram import FakeMessage, FakeTelegram
from sandbox.personas import ADMIN, BUYERS
from sandbox.run import Sandbox
from shop.i18n import Languages
from storage import languages
from tests.sandbox_helpers import site

# The sandbox runs on its own scratch SQLite file whatever the suite's engine.
pytestmark = pytest.mark.sqlite_file

ALICE, BOB = BUYERS
JSON = dict[str, Any]


def received(telegram: FakeTelegram, user_id: int) -> list[JSON]:
    """The users of every update from `user_id` the bot fetched, oldest first."""
    senders = []
    for call in telegram.calls_of("getUpdates"):
        for update in call.response.get("result") or []:
            for kind in ("message", "callback_query", "pre_checkout_query"):
                sender = (update.get(kind) or {}).get("from")
                if sender and sender["id"] == user_id:
                    senders.append(sender)
    return senders


async def post(http: aiohttp.ClientSession, sandbox: Sandbox, path: str, body: Any) -> JSON:
    async with http.post(f"{site(sandbox)}/sandbox/api/{path}", json=body) as answer:
        return {"status": answer.status, **(await answer.json())}


async def setup(http: aiohttp.ClientSession, sandbox: Sandbox) -> JSON:
    async with http.get(f"{site(sandbox)}/sandbox/api/setup") as answer:
        return dict(await answer.json())


def persona_languages(page: JSON) -> dict[int, str]:
    return {p["id"]: p["language"] for p in page["personas"]}


def answered(telegram: FakeTelegram, user_id: int, after: int) -> Any:
    """The bot's first message to `user_id` after message `after` that has buttons."""

    def fresh(message: FakeMessage) -> bool:
        return message.message_id > after and bool(message.buttons())

    return telegram.wait_for(user_id, fresh)


async def test_a_persona_switched_to_spanish_sends_updates_in_spanish(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    telegram = sandbox.telegram
    page = await setup(http, sandbox)
    shipped = Languages.load().offered
    assert page["languages"] == [{"code": lang.code, "name": lang.name} for lang in shipped]
    assert {"code": "es", "name": "Español"} in page["languages"]
    assert set(persona_languages(page).values()) == {"en"}

    switched = await post(http, sandbox, "language", {"user_id": ALICE.user_id, "language": "es"})
    assert (switched["status"], switched["language"]) == (200, "es")
    assert persona_languages(await setup(http, sandbox)) == {
        ALICE.user_id: "es", BOB.user_id: "en", ADMIN.user_id: "en"
    }  # fmt: skip

    # Alice types and taps; Bob types: the bot gets each one's own app language.
    assert (await post(http, sandbox, "send", {"user_id": ALICE.user_id, "text": "/start"}))["ok"]
    welcome = await answered(telegram, ALICE.user_id, 0)
    tap = {"user_id": ALICE.user_id, "message_id": welcome.message_id}
    data = welcome.buttons()[0]["callback_data"]
    assert (await post(http, sandbox, "tap", {**tap, "data": data}))["ok"]
    await telegram.wait_for(ALICE.user_id, lambda m: m is welcome and m.edits > 0)
    assert (await post(http, sandbox, "send", {"user_id": BOB.user_id, "text": "/start"}))["ok"]
    await answered(telegram, BOB.user_id, 0)
    alice = received(telegram, ALICE.user_id)
    assert [sender["language_code"] for sender in alice] == ["es", "es"]
    assert [sender["language_code"] for sender in received(telegram, BOB.user_id)] == ["en"]

    # Back to English: the next update says so.
    back = await post(http, sandbox, "language", {"user_id": ALICE.user_id, "language": "en"})
    assert back["language"] == "en"
    await post(http, sandbox, "send", {"user_id": ALICE.user_id, "text": "/help"})
    await telegram.wait_for(ALICE.user_id, lambda m: "How it works" in (m.text or ""))
    assert received(telegram, ALICE.user_id)[-1]["language_code"] == "en"


async def test_the_shop_hears_the_switch_and_only_offered_languages_are_taken(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    telegram, admin = sandbox.telegram, ADMIN.user_id
    switched = await post(http, sandbox, "language", {"user_id": admin, "language": "pt-BR"})
    assert switched["language"] == "pt_BR"
    assert {"addproduct", "help"} <= {c["command"] for c in switched["commands"]}
    await post(http, sandbox, "send", {"user_id": admin, "text": "/help"})
    await telegram.wait_for(admin, lambda m: "/help" in (m.text or ""))
    assert received(telegram, admin)[-1]["language_code"] == "pt-br"  # as Telegram's apps say it
    assert sandbox.app is not None and sandbox.app.db is not None
    assert (await languages.of(sandbox.app.db.reader, admin)).seen == "pt_BR"  # bot/language.py

    unknown = await post(http, sandbox, "language", {"user_id": admin, "language": "xx"})
    assert unknown["status"] == 400 and "The shop offers en, es" in unknown["error"]
    for body in (
        {"user_id": admin, "language": "de"},  # a real language, but the shop has no catalog
        {"user_id": 1, "language": "es"},  # not a persona
        {"user_id": admin},
    ):
        refused = await post(http, sandbox, "language", body)
        assert refused["status"] == 400, body
    async with http.post(f"{site(sandbox)}/sandbox/api/language", data="user_id=1") as form:
        assert form.status == 400
    assert persona_languages(await setup(http, sandbox))[admin] == "pt_BR"


async def test_a_persona_sees_the_command_menu_of_its_apps_language(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    """Telegram picks the menu by scope, then by the app's two-letter language."""
    telegram = sandbox.telegram
    async with Bot(telegram.token, base_url=telegram.base_url) as bot:
        await bot.set_my_commands([BotCommand("catalog", "Ver el catálogo")], language_code="es")
        await bot.set_my_commands(
            [BotCommand("products", "Productos")],
            scope=BotCommandScopeChat(ADMIN.user_id),
            language_code="es",
        )
    english = (await setup(http, sandbox))["personas"]
    assert [c["command"] for c in english[0]["commands"]] != ["catalog"]
    for someone in (ALICE, ADMIN):
        await post(http, sandbox, "language", {"user_id": someone.user_id, "language": "es"})
    menus = {p["id"]: p["commands"] for p in (await setup(http, sandbox))["personas"]}
    assert menus[ALICE.user_id] == [{"command": "catalog", "description": "Ver el catálogo"}]
    assert menus[ADMIN.user_id] == [{"command": "products", "description": "Productos"}]
    assert menus[BOB.user_id] == english[1]["commands"]


# --- the stand-in --------------------------------------------------------------------------------


async def test_the_stand_in_sends_everything_of_a_user_in_their_apps_language() -> None:
    telegram = FakeTelegram()
    user = 4242
    assert telegram.user_sends(user, "/start")["message"]["from"]["language_code"] == "en"
    telegram.set_language(user, "uk")
    assert telegram.language_of(user) == "uk"
    assert telegram.user_sends(user, "hi")["message"]["from"]["language_code"] == "uk"
    photo = telegram.user_sends_photo(user)["message"]["from"]
    document = telegram.user_sends_document(user, "keys.txt", b"K-1")["message"]["from"]
    assert (photo["language_code"], document["language_code"]) == ("uk", "uk")
    once = telegram.user_sends(user, "hola", language_code="es")["message"]["from"]
    assert once["language_code"] == "es"  # this message's own, as before
    assert telegram.user_sends(user, "again")["message"]["from"]["language_code"] == "uk"
    other = 4243
    telegram.set_language(other, "fa")  # before they ever wrote: their first message says it
    assert telegram.user_sends(other, "/start")["message"]["from"]["language_code"] == "fa"


async def test_a_persona_playing_in_spanish_sees_the_demo_merchant_s_spanish_catalog(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    """The demo shop comes with its merchant's Spanish texts: Alice in Spanish browses the
    catalog in Spanish words, ours and the merchant's; Bob in English sees the originals."""
    telegram = sandbox.telegram
    await post(http, sandbox, "language", {"user_id": ALICE.user_id, "language": "es"})
    await post(http, sandbox, "send", {"user_id": ALICE.user_id, "text": "/catalog"})
    spanish = await answered(telegram, ALICE.user_id, 0)
    labels = " ".join(b["text"] for b in spanish.buttons())
    assert "Productos digitales" in labels and "Artículos y servicios" in labels
    await post(http, sandbox, "send", {"user_id": BOB.user_id, "text": "/catalog"})
    english = await answered(telegram, BOB.user_id, 0)
    labels = " ".join(b["text"] for b in english.buttons())
    assert "Digital goods" in labels and "Productos digitales" not in labels
