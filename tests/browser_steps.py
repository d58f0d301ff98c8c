"""The browser stories' shared steps: headless Debian chromium on a phone-sized screen,
driven by playwright, and the few gestures a person makes in the sandbox's chat (a pytest
plugin for the `browser` fixture: see tests/conftest.py).

Chromium comes from the system (Debian's package, which `make test` installs through
tools/ensure-chromium): a missing browser fails the story loudly rather than skipping it, and
nothing here downloads one.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    ViewportSize,
    async_playwright,
    expect,
)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_INSTALLED = Path(CHROMIUM).exists()
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 390, "height": 844}

expect.set_options(timeout=10_000)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM_INSTALLED:
        pytest.fail(
            "chromium is not installed: run `make browser` (tools/ensure-chromium) or "
            "apt-get install -y chromium. "
            "The sandbox's browser test never downloads a browser of its own."
        )
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


async def on_a_phone(browser: Browser) -> tuple[BrowserContext, Page, list[str]]:
    """A phone-sized touch screen, the hardest layout, with the page's uncaught errors."""
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return context, page, errors


async def say(page: Page, text: str) -> None:
    """Type into the message box and press Enter, as a person would."""
    box = page.locator("#text")
    await box.fill(text)
    await box.press("Enter")
    await expect(box).to_have_value("")


async def bot_says(page: Page, text: str | re.Pattern[str]) -> None:
    """Wait until a bot message with this text is on screen (new, or edited into it)."""
    await expect(page.locator(".msg.bot", has_text=text).last).to_be_visible()


async def tap(page: Page, button: str | re.Pattern[str]) -> None:
    await page.locator(".msg.bot .kb", has_text=button).last.click()


async def tap_labelled(page: Page, label: str) -> None:
    """Tap the newest button with this label, or fail at once naming it: a label that is not
    there (renamed, or a feature not merged yet) is a clear failure, never a hang."""
    button = page.locator(".msg.bot .kb", has_text=label).last
    try:
        await expect(button).to_be_visible()
    except AssertionError as missing:
        raise AssertionError(f"no button labelled {label!r} in the chat") from missing
    await button.click()


async def play(page: Page, user_id: int) -> None:
    await page.locator(f'.persona[data-persona="{user_id}"]').click()
    await expect(page.locator(f'.persona[data-persona="{user_id}"]')).to_have_attribute(
        "aria-pressed", "true"
    )
