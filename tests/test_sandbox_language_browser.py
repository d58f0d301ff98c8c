"""The sandbox page's language switch in a real browser (tests/browser_steps.py): a visitor sets
Alice's Telegram app to Spanish, Bob keeps English, and the bot hears each as such."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from sandbox.personas import BUYERS
from sandbox.run import Sandbox
from tests.browser_steps import bot_says, on_a_phone, play, say
from tests.test_sandbox_language import received

ALICE, BOB = BUYERS

pytestmark = [
    pytest.mark.sqlite_file,
    pytest.mark.timeout(120),
    pytest.mark.slow,
]  # slow: it drives chromium


async def test_a_visitor_switches_alices_app_to_spanish(sandbox: Sandbox, browser: Browser) -> None:
    context, page, errors = await on_a_phone(browser)
    await page.goto(f"{sandbox.url}#{ALICE.user_id}")
    language = page.get_by_label("Telegram app language")
    await expect(language).to_have_value("en")
    await expect(language.locator("option", has_text="Español")).to_have_count(1)

    await language.select_option("es")
    await expect(page.locator("#toast")).to_have_text("Alice's Telegram app now speaks Español.")
    await say(page, "/start")
    await bot_says(page, "Te damos la bienvenida")  # the shipped Spanish welcome
    assert [sender["language_code"] for sender in received(sandbox.telegram, ALICE.user_id)] == [
        "es"
    ]

    await play(page, BOB.user_id)
    await expect(language).to_have_value("en")  # each persona has their own app
    await play(page, ALICE.user_id)
    await expect(language).to_have_value("es")
    await page.reload()  # the sandbox remembers it for this run
    await expect(page.get_by_label("Telegram app language")).to_have_value("es")
    assert errors == []
    await context.close()


async def test_a_persian_chat_reads_right_to_left_on_the_page(
    sandbox: Sandbox, browser: Browser
) -> None:
    """Bob's app in Persian: the bot's answer and its buttons run right to left on the page, as
    in Telegram's apps, while an English chat stays left to right."""
    context, page, errors = await on_a_phone(browser)
    await page.goto(f"{sandbox.url}#{BOB.user_id}")
    await page.get_by_label("Telegram app language").select_option("fa")
    await say(page, "/start")
    await bot_says(page, "خوش آمدید")
    welcome = page.locator(".msg.bot .text").last
    assert await welcome.evaluate("e => getComputedStyle(e).direction") == "rtl"
    button = page.locator(".msg.bot .kb").last
    assert await button.evaluate("e => getComputedStyle(e).direction") == "rtl"

    await play(page, ALICE.user_id)
    await say(page, "/start")
    await bot_says(page, "Welcome")
    english = page.locator(".msg.bot .text").last
    assert await english.evaluate("e => getComputedStyle(e).direction") == "ltr"
    assert errors == []
    await context.close()
