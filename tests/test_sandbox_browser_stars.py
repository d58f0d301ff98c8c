"""Telegram Stars in the sandbox, in a real browser on a phone-sized screen: Alice buys the
seeded game key for Stars — the invoice in the chat, Telegram's payment sheet, the key once —
and an invoice's merchant text is shown as text, its sheet honest when the bot says no or
nothing. The Stripe events panel plays no part: Stars never reach Stripe.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Locator, Page, expect
from telegram import Bot, LabeledPrice

from sandbox.personas import BUYERS
from sandbox.run import Sandbox
from sandbox.seed import DEMO_KEYS, DEMO_PRODUCTS
from tests.browser_steps import bot_says, on_a_phone, say, tap, tap_labelled
from tests.story import settled

ALICE, BOB = BUYERS
GAME_KEY = next(p for p in DEMO_PRODUCTS if p.title.startswith("Starfield Racer"))
assert GAME_KEY.stars_price is not None
STARS = f"⭐ {GAME_KEY.stars_price}"
BUY_FOR_STARS = f"⭐ Buy for {GAME_KEY.stars_price} Stars"

pytestmark = [
    pytest.mark.sqlite_file,
    pytest.mark.timeout(120),
    pytest.mark.slow,
]  # slow: it drives chromium


async def pay_button(page: Page) -> Locator:
    """The newest invoice's Pay button, or a clear failure when no invoice came."""
    button = page.locator(".msg.bot .kb.pay").last
    try:
        await expect(button).to_be_visible()
    except AssertionError as missing:
        raise AssertionError("no invoice with a Pay button in the chat") from missing
    return button


async def alice_opens_the_game_key_and_buys_it_for_stars(page: Page) -> None:
    await say(page, "/catalog")
    await tap(page, "Digital goods")
    await tap(page, "Starfield Racer")
    await bot_says(page, "Starfield Racer")
    await tap_labelled(page, BUY_FOR_STARS)
    invoice = page.locator(".msg.bot", has=page.locator(".invoice")).last
    await expect(invoice.locator(".invoice-title")).to_contain_text("Starfield Racer")
    await expect(invoice.locator(".invoice-total")).to_have_text(STARS)


async def alice_pays_in_the_sheet(page: Page) -> None:
    """Pay opens Telegram's sheet; confirming asks the bot, which says yes: paid."""
    await (await pay_button(page)).click()
    sheet = page.locator("#sheet")
    await expect(sheet).to_be_visible()
    await expect(sheet).to_contain_text("Starfield Racer")
    await page.get_by_role("button", name=f"Confirm and Pay {STARS}").click()
    await expect(page.locator("#sheet-status")).to_have_attribute("data-outcome", "paid")
    await expect(page.locator("#sheet-status")).to_contain_text(f"Paid {STARS}")
    await page.locator("#sheet-close").click()
    await expect(sheet).to_be_hidden()


async def test_alice_buys_the_game_key_for_stars_and_receives_it_once(
    sandbox: Sandbox, browser: Browser
) -> None:
    context, page, errors = await on_a_phone(browser)
    await page.goto(f"{sandbox.url}#{ALICE.user_id}")
    await page.get_by_role("button", name="Start").click()
    await bot_says(page, "Welcome")
    await alice_opens_the_game_key_and_buys_it_for_stars(page)
    await alice_pays_in_the_sheet(page)
    key = page.locator(".msg.bot", has_text=re.compile("|".join(DEMO_KEYS)))
    await expect(key).to_have_count(1)
    await expect(page.locator(".msg.service", has_text=f"You paid {STARS}")).to_have_count(1)
    # Paid (or replaced by the receipt): nothing in the chat offers to pay again.
    await expect(page.locator(".msg.bot .kb.pay:enabled")).to_have_count(0)
    assert sandbox.app is not None
    await settled(sandbox.app)
    await expect(key).to_have_count(1)  # delivered once
    assert [p.outcome for p in sandbox.telegram.payments] == ["paid"]
    assert sandbox.webhooks.deliveries() == []  # Stars never went through Stripe
    assert errors == []
    await context.close()


async def test_an_invoices_text_is_shown_as_text_and_the_sheet_says_when_it_was_not_paid(
    sandbox: Sandbox, browser: Browser
) -> None:
    """An invoice the shop does not know (its payload is no order): the bot refuses it or lets
    the pre-checkout deadline pass, and the sheet says so; nothing is charged or delivered."""
    sandbox.telegram.pre_checkout_timeout = 1.0
    context, page, errors = await on_a_phone(browser)
    await page.goto(f"{sandbox.url}#{BOB.user_id}")
    title = "<img src=x onerror=alert(1)>"
    async with Bot(sandbox.telegram.token, base_url=sandbox.telegram.base_url) as bot:
        await bot.send_invoice(
            BOB.user_id,
            title=title,
            description="<b>not bold</b> & <i>not italic</i>",
            payload="no-such-order",
            currency="XTR",
            prices=[LabeledPrice("Thing", 7)],
            provider_token="",
        )
    invoice = page.locator(".msg.bot .invoice").last
    await expect(invoice.locator(".invoice-title")).to_have_text(title)
    await expect(invoice).to_contain_text("<b>not bold</b> & <i>not italic</i>")
    await expect(invoice.locator("img, b, i")).to_have_count(0)
    await (await pay_button(page)).click()
    await expect(page.locator("#sheet-item")).to_have_text(title)
    await page.get_by_role("button", name="Confirm and Pay ⭐ 7").click()
    status = page.locator("#sheet-status")
    await expect(status).to_have_attribute("data-outcome", re.compile("^(refused|timeout)$"))
    outcome = await status.get_attribute("data-outcome")
    if outcome == "timeout":
        await expect(status).to_contain_text("did not answer in time")
    [payment] = sandbox.telegram.payments
    assert payment.outcome == outcome and payment.charge_id is None
    if outcome == "refused":
        assert payment.error_message
        await expect(status).to_have_text(payment.error_message)
    await page.locator("#sheet-close").click()
    await expect(page.locator(".msg.bot .kb.pay").last).to_be_enabled()  # still payable
    assert errors == []
    await context.close()
