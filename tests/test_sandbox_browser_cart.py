"""The sandbox's cart in a real browser: a buyer fills a cart with one product of each kind
and pays once, receiving one receipt; the Checkout page stays readable with twenty lines. On a
phone-sized screen (the steps are in tests/browser_steps.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from sandbox.personas import BUYERS
from sandbox.run import Sandbox
from sandbox.seed import DEMO_KEYS, DEMO_PRODUCTS
from tests.browser_steps import (
    PHONE,
    bot_says,
    on_a_phone,
    say,
    tap,
    tap_labelled,
)
from tests.story import settled
from tests.stripe_standin.sdk import create, sdk_client, shop_params

ALICE, BOB = BUYERS
MUG = Path(__file__).parent.parent / "sandbox" / "static" / "demo-mug.png"

pytestmark = [
    pytest.mark.sqlite_file,
    pytest.mark.timeout(120),
    pytest.mark.slow,
]  # slow: it drives chromium


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
        # The product's own card: the category's list names the product too, and the card
        # before it has an Add to cart button as well; tapping either would add the wrong thing.
        card = page.locator(".msg.bot", has_text=product).filter(
            has=page.locator(".kb", has_text="🛒 Add to cart")
        )
        await expect(card).to_have_count(1)
        await card.locator(".kb", has_text="🛒 Add to cart").click()
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
