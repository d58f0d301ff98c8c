"""The sandbox in a real browser: headless Debian chromium, driven by playwright.

A buyer browses, buys, pays on the Checkout page and gets the goods in the chat; the webhook
panel resends the payment event and nothing is delivered twice; the admin adds a product with
/addproduct and another buyer finds it; a buyer fills a cart with one product of each kind and
pays once; the Checkout page stays readable with twenty lines. All on a phone-sized screen, the
hardest layout.

Chromium comes from the system (Debian's package, which `make test` installs through
tools/ensure-chromium): a missing browser fails this test loudly rather than skipping it, and
nothing here downloads one.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    Route,
    ViewportSize,
    async_playwright,
    expect,
)

from sandbox.personas import ADMIN, BUYERS
from sandbox.run import Sandbox
from sandbox.seed import DEMO_KEYS, DEMO_PRODUCTS
from tests.story import settled
from tests.stripe_standin.sdk import create, sdk_client, shop_params

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
MUG = Path(__file__).parent.parent / "sandbox" / "static" / "demo-mug.png"
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
ALICE, BOB = BUYERS

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]  # slow: it drives chromium
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


async def alice_buys_and_pays(page: Page, context: BrowserContext) -> None:
    """Alice starts the bot, browses the seeded shop and buys a game key."""
    await page.get_by_role("button", name="Start").click()
    await bot_says(page, "Welcome")
    await tap(page, re.compile("catalog", re.I))
    await tap(page, "Digital goods")
    await tap(page, "Starfield Racer")
    await bot_says(page, "$4.99")
    await tap(page, "Buy")
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
    await bot_says(page, "Send the price")
    await say(page, "7.50")
    await bot_says(page, "Send a photo")
    await page.set_input_files("#photo-input", MUG)  # the 📎 button's file picker
    await expect(page.locator(".msg.user img.photo")).to_be_visible()
    await bot_says(page, "What kind of product")
    await tap(page, "Digital text")
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


def _note(title_start: str) -> str:
    """The seeded product's delivery text: what its line of the receipt carries."""
    product = next(p for p in DEMO_PRODUCTS if p.title.startswith(title_start))
    return product.delivery_text


async def alice_fills_a_cart_with_one_of_each_kind(page: Page) -> None:
    for category, product in [
        ("Digital goods", "Async Python"),
        ("Digital goods", "Starfield Racer"),
        ("Merch", "mug"),
        ("Merch", "setup call"),
    ]:
        await say(page, "/catalog")
        await tap(page, category)
        await tap(page, product)
        await bot_says(page, product)
        await tap_labelled(page, "🛒 Add to cart")
    await tap_labelled(page, "🛒 Cart")
    cart = page.locator(".msg.bot", has_text="Your cart").last
    for product in ("Async Python", "Starfield Racer", "Sandbox mug", "setup call"):
        await expect(cart).to_contain_text(product)
    await expect(cart).to_contain_text("$83.99")
    await tap_labelled(page, "Checkout")


async def alice_pays_the_cart_on_checkout(page: Page, context: BrowserContext) -> None:
    """One Pay link for the cart; the Checkout page lists the four lines, asks where the mug
    goes, fits the phone's width, and takes one payment for all of it."""
    pay_button = page.locator("a.kb.url", has_text="Pay").last
    await expect(pay_button).to_be_visible()
    async with context.expect_page() as opened:
        await pay_button.click()
    checkout = await opened.value
    await expect(checkout.get_by_test_id("total")).to_have_text("$83.99")
    await expect(checkout.locator(".items tr.line")).to_have_count(4)
    await expect(checkout.locator(".items tr.line").nth(1)).to_contain_text("1 × $4.99")
    await expect(checkout.get_by_test_id("subtotal")).to_contain_text("4 items")
    await expect(checkout.get_by_test_id("shipping")).to_be_visible()
    assert await checkout.evaluate("document.documentElement.scrollWidth <= innerWidth")
    await checkout.get_by_label("Name").fill("Alice Liddell")
    await checkout.get_by_label("Address").fill("7 Rabbit Hole")
    await checkout.get_by_label("City").fill("Oxford")
    await checkout.get_by_label("Postal code").fill("OX1 1AA")
    await checkout.get_by_label("Country").select_option("GB")
    await checkout.get_by_role("button", name="Pay $83.99").click()
    await expect(checkout.locator("h1")).to_have_text("Payment received")
    await checkout.close()


async def one_receipt_carries_every_line(page: Page, sandbox: Sandbox) -> None:
    """The order's own message becomes the receipt: the key, the ebook's text, the mug's
    shipping (to the address given) and the call's note, in one message, once."""
    key = re.compile("|".join(DEMO_KEYS))
    receipt = page.locator(".msg.bot", has_text=key)
    await expect(receipt).to_have_count(1)
    for shown in (
        _note("Async Python"),
        _note("Sandbox mug"),
        "Alice Liddell",
        _note("30-minute setup call"),
    ):
        await expect(receipt).to_contain_text(shown)
    await page.locator("#events-toggle").click()
    paid = page.locator(".webhook", has_text="checkout.session.completed")
    await expect(paid).to_have_count(1)
    await expect(paid.locator(".status")).to_have_text("200")
    await page.locator("#events-close").click()
    assert sandbox.app is not None
    await settled(sandbox.app)
    await expect(receipt).to_have_count(1)  # nothing was delivered twice


async def test_a_cart_of_one_of_each_kind_is_paid_once_and_received_in_one_receipt(
    sandbox: Sandbox, browser: Browser
) -> None:
    context, page, errors = await on_a_phone(browser)
    await page.goto(f"{sandbox.url}#{ALICE.user_id}")
    await page.get_by_role("button", name="Start").click()
    await bot_says(page, "Welcome")
    await alice_fills_a_cart_with_one_of_each_kind(page)
    await alice_pays_the_cart_on_checkout(page, context)
    await one_receipt_carries_every_line(page, sandbox)
    assert errors == []
    await context.close()


async def test_on_a_phone_the_checkout_page_of_twenty_lines_stays_readable(
    sandbox: Sandbox, browser: Browser
) -> None:
    """Twenty lines, one with a title too long for any phone: every line shows its title,
    quantity × unit price and amount within the screen's width, amounts on one line each, and
    the totals below them."""
    long_title = "Extraordinarily" * 8
    lines = [
        {
            "price_data": {
                "currency": "usd",
                "unit_amount": 1000 + n,
                "product_data": {"name": long_title if n == 7 else f"Product {n}"},
            },
            "quantity": n % 4 + 1,
        }
        for n in range(20)
    ]
    async with sdk_client(sandbox.stripe) as client:
        session = await create(
            client,
            shop_params(
                line_items=lines, shipping_address_collection={"allowed_countries": ["US"]}
            ),
        )
    context, page, errors = await on_a_phone(browser)
    await page.goto(str(session.url))
    rows = page.locator(".items tr.line")
    await expect(rows).to_have_count(20)
    await expect(rows.nth(3)).to_contain_text("4 × $10.03")
    await expect(rows.nth(3)).to_contain_text("$40.12")
    await expect(page.get_by_test_id("subtotal")).to_contain_text("20 items")
    await expect(page.get_by_test_id("total-row")).to_contain_text("Total due")
    layout = await page.evaluate(
        """() => {
            const boxes = selector => [...document.querySelectorAll(selector)].map(cell => {
                const text = document.createRange();
                text.selectNodeContents(cell);
                return [text.getBoundingClientRect().right, text.getClientRects().length];
            });
            return {
                overflow: document.documentElement.scrollWidth - innerWidth,
                amounts: boxes(".items tr.line td:last-child"),
                titles: boxes(".items tr.line .title"),
            };
        }"""
    )
    assert layout["overflow"] <= 0
    assert len(layout["amounts"]) == len(layout["titles"]) == 20
    for right, _ in layout["titles"]:
        assert right <= PHONE["width"]  # the long title wraps inside the screen
    for right, line_boxes in layout["amounts"]:
        assert right <= PHONE["width"] and line_boxes == 1  # an amount is never broken
    assert errors == []
    await context.close()
