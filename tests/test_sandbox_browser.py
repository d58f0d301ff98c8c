"""The sandbox in a real browser (headless Debian chromium, driven by playwright; the shared
steps are in tests/browser_steps.py).

A buyer browses, buys, pays on the Checkout page and gets the goods in the chat; the webhook
panel resends the payment event and nothing is delivered twice; the admin adds a product with
/addproduct and another buyer finds it. All on a phone-sized screen, the hardest layout. The
cart's stories are in test_sandbox_browser_cart.py.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Route, expect

from sandbox.personas import ADMIN, BUYERS
from sandbox.run import Sandbox
from tests.browser_steps import (
    bot_says,
    on_a_phone,
    play,
    say,
    tap,
)
from tests.story import settled

ALICE, BOB = BUYERS
MUG = Path(__file__).parent.parent / "sandbox" / "static" / "demo-mug.png"

pytestmark = [
    pytest.mark.sqlite_file,
    pytest.mark.timeout(120),
    pytest.mark.slow,
]  # slow: it drives chromium


async def alice_buys_and_pays(page: Page, context: BrowserContext) -> None:
    """Alice starts the bot, browses the seeded shop and buys a game key."""
    await page.get_by_role("button", name="Start").click()
    await bot_says(page, "Welcome")
    await tap(page, re.compile("catalog", re.I))
    await tap(page, "Digital goods")
    await tap(page, "Starfield Racer")
    await bot_says(page, "$4.99")
    await tap(page, "Buy now")  # by card: the key also sells for Stars
    pay_button = page.locator("a.kb.url", has_text="Pay").last
    await expect(pay_button).to_be_visible()

    # The Pay button opens the Checkout page in a new tab; Alice pays there.
    async with context.expect_page() as opened:
        await pay_button.click()
    checkout = await opened.value
    await expect(checkout.get_by_test_id("total")).to_have_text("$4.99")
    await expect(checkout.locator(".items")).to_contain_text("Starfield Racer")
    await checkout.get_by_role("button", name="Pay $4.99").click()
    await expect(checkout.locator("h1")).to_have_text("Payment received")
    await checkout.close()

    # The goods arrive in the chat: the order message now carries her own key.
    await bot_says(page, re.compile(r"SBX-\d{4}-[A-Z]{2}"))
    await bot_says(page, "Payment received")


async def a_resent_webhook_changes_nothing(page: Page, sandbox: Sandbox) -> None:
    """Stripe's webhook is in the panel; resending it changes nothing in the chat."""
    await page.locator("#events-toggle").click()
    first = page.locator('.webhook[data-number="1"]')
    await expect(first).to_contain_text("checkout.session.completed")
    await expect(first.locator(".status")).to_have_text("200")
    await first.get_by_role("button", name="Resend").click()
    again = page.locator('.webhook[data-number="2"]')
    await expect(again).to_contain_text("resend of #1")
    await expect(again.locator(".status")).to_have_text("200")
    await page.locator("#events-close").click()
    assert sandbox.app is not None
    await settled(sandbox.app)  # whatever the resend owed has been sent by now
    notices = [
        m for m in sandbox.telegram.messages(ALICE.user_id) if "Payment received" in (m.text or "")
    ]
    assert len(notices) == 1
    await expect(page.locator(".msg.bot", has_text=re.compile("SBX-"))).to_have_count(1)
    await expect(page.locator(".msg.bot", has_text="Payment received")).to_have_count(1)


async def the_admin_adds_a_poster(page: Page) -> None:
    """The admin adds a product, step by step."""
    await play(page, ADMIN.user_id)
    await say(page, "/addproduct")
    await bot_says(page, "Send the title")
    await say(page, "Poster <b>&</b> co")
    await bot_says(page, "description")
    await say(page, "/skip")
    await bot_says(page, "Send a photo")
    await page.set_input_files("#photo-input", MUG)  # the 📎 button's file picker
    await expect(page.locator(".msg.user img.photo")).to_be_visible()
    await bot_says(page, "What kind of product")
    await tap(page, "Digital text")
    await bot_says(page, "How do buyers pay")
    await tap(page, "Stripe")  # this story pays through Checkout
    await bot_says(page, "Send the price")
    await say(page, "7.50")
    await bot_says(page, "Send the delivery text")
    await say(page, "Your poster: https://example.com/poster.pdf")
    await bot_says(page, "category")
    await say(page, "Posters")
    await bot_says(page, "Save this product?")
    await tap(page, "Save")
    await bot_says(page, "Saved")


async def the_deep_link_opens_the_product_here(page: Page, context: BrowserContext) -> None:
    """The deep link to share opens the product right here, as Telegram opens t.me links to a
    bot in the app: not the real t.me, which knows nothing of the sandbox's bot."""
    shown_at = page.url
    cards = page.locator(".msg.bot", has=page.locator("img.photo"), has_text="Poster")
    before = await cards.count()
    await page.locator(".msg.bot a", has_text=re.compile(r"t\.me/.*\?start=p_")).last.click()
    await expect(page.locator(".msg.user", has_text=re.compile(r"^/start p_\d+"))).to_be_visible()
    await expect(cards).to_have_count(before + 1)  # the product's card, as buyers open it
    assert page.url == shown_at and len(context.pages) == 1


async def bob_finds_the_poster_as_text(page: Page) -> None:
    """Bob, a new buyer, finds it; the merchant's text shows as text, never as markup."""
    await play(page, BOB.user_id)
    await say(page, "/catalog")
    await tap(page, "Posters")
    await expect(page.locator(".kb", has_text="Poster <b>&</b> co — $7.50")).to_be_visible()
    await tap(page, "Poster <b>&</b> co — $7.50")
    card = page.locator(".msg.bot", has_text="Poster <b>&</b> co").last
    photo = card.locator("img.photo")
    await expect(photo).to_have_attribute("src", re.compile("/sandbox/api/files/"))
    # decode() rejects for a broken image: the bytes the admin uploaded really load.
    assert await photo.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0


async def test_buy_pay_receive_then_admin_adds_a_product_buyers_see(
    sandbox: Sandbox, browser: Browser
) -> None:
    context, page, errors = await on_a_phone(browser)
    await page.goto(f"{sandbox.url}#{ALICE.user_id}")

    # The page lists every persona with its Telegram id.
    for someone in (*BUYERS, ADMIN):
        await expect(page.locator("#personas")).to_contain_text(str(someone.user_id))

    await alice_buys_and_pays(page, context)
    await a_resent_webhook_changes_nothing(page, sandbox)
    await the_admin_adds_a_poster(page)
    await the_deep_link_opens_the_product_here(page, context)
    await bob_finds_the_poster_as_text(page)
    assert errors == []
    await context.close()


async def test_wide_screen_shows_chat_and_events_side_by_side(
    sandbox: Sandbox, browser: Browser
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await page.goto(sandbox.url)
    await expect(page.locator("#events")).to_be_visible()
    await expect(page.locator("#events-toggle")).to_be_hidden()
    await expect(page.locator(".persona[aria-pressed=true]")).to_contain_text(ALICE.name)
    # The seeded mug's photo is served by the sandbox and shown in the chat.
    await say(page, "/catalog")
    await tap(page, "Merch")
    await tap(page, "mug")
    photo = page.locator(".msg.bot img.photo").last
    await expect(photo).to_be_visible()
    assert await photo.evaluate("img => img.complete && img.naturalWidth > 0")
    await page.close()


async def test_on_a_phone_a_late_photo_keeps_the_newest_buttons_in_view_and_badges_whole(
    sandbox: Sandbox, browser: Browser
) -> None:
    context, page, _ = await on_a_phone(browser)

    async def slow_photo(route: Route) -> None:  # a phone's network: the text comes first
        await asyncio.sleep(1.0)
        await route.continue_()

    await page.route("**/demo-mug.png", slow_photo)
    await page.goto(f"{sandbox.url}#{ALICE.user_id}")
    await page.get_by_role("button", name="Start").click()
    await bot_says(page, "Welcome")
    for _ in range(2):  # enough chat that it scrolls
        await say(page, "/help")
    await say(page, "/catalog")
    await tap(page, "Merch")
    await tap(page, "mug")
    card = page.locator(".msg.bot", has=page.locator("img.photo")).last
    await expect(card.locator(".kb").first).to_be_in_viewport()
    await card.locator("img.photo").evaluate("img => img.decode()")  # the photo is in now
    await expect(card.locator(".kb").last).to_be_in_viewport()

    # Bob gets an answer while Alice plays: his unread badge shows whole, not clipped.
    sandbox.chats.send(BOB.user_id, "/help")
    badge = page.locator(f'.persona[data-persona="{BOB.user_id}"] .badge')
    await expect(badge).to_have_text("1")
    inside = await badge.evaluate(
        """badge => {
            const b = badge.getBoundingClientRect();
            const box = badge.closest(".personas").getBoundingClientRect();
            return b.top >= box.top && b.right <= box.right && b.bottom <= box.bottom;
        }"""
    )
    assert inside
    await context.close()
