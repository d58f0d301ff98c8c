"""The sandbox's cart without a browser: the seeded shop's four kinds in one cart and one
Checkout page, a waiting cart payment in the events panel, and a promotion code on the page."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from sandbox.personas import BUYERS
from sandbox.run import Sandbox
from sandbox.seed import DEMO_PRODUCTS
from shop import cart
from shop.checkout import Buyer, MixedCurrencies, Wanted, start_checkout
from storage import orders
from tests.sandbox_helpers import ALICE_IN_LONDON, press, read_items, site, started_sandbox
from tests.story import settled

# The sandbox runs on its own scratch SQLite file whatever the suite's engine.
pytestmark = pytest.mark.sqlite_file

ALICE, BOB = BUYERS
EBOOK, GAME_KEY, MUG, CALL, AUDIO_WALK = 1, 2, 3, 4, 5  # seeded products' ids, fresh database


async def a_cart_of_the_four_kinds(sandbox: Sandbox) -> str:
    """Alice fills a cart with one seeded product of each kind (two game keys) and checks out:
    the session's id. The euro-priced product cannot join that cart (one currency per session)."""
    assert sandbox.app is not None and sandbox.app.shop is not None
    shop = sandbox.app.shop
    assert [p.currency for p in DEMO_PRODUCTS] == ["usd"] * 4 + ["eur"]
    alice = Buyer(user_id=ALICE.user_id, chat_id=ALICE.user_id, name=ALICE.name)
    for product_id, quantity in ((EBOOK, 1), (GAME_KEY, 2), (MUG, 1), (CALL, 1), (AUDIO_WALK, 1)):
        await cart.add(shop, alice.user_id, product_id, quantity)
    loaded = await cart.load(shop.db.reader, alice.user_id)
    wanted = [Wanted(item.product_id, item.quantity) for item in loaded.items]
    with pytest.raises(MixedCurrencies) as mixed:
        await start_checkout(shop, alice, wanted, from_cart=True)
    assert mixed.value.by_currency["eur"] == ["Berlin audio walk"]
    await cart.remove(shop, alice.user_id, AUDIO_WALK)
    order = await start_checkout(shop, alice, wanted[:4], from_cart=True)
    return str(order.checkout_session_id)


async def test_the_seeded_shop_sells_one_of_each_kind_in_one_cart_and_page(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    """The demo's four kinds share a currency, so one cart of them is one Checkout Session whose
    page lists every line (quantity, unit price, line total) above subtotal, shipping and total."""
    session = sandbox.stripe.sessions[await a_cart_of_the_four_kinds(sandbox)]
    assert session["amount_total"] == 1200 + 2 * 499 + 1800 + 4900
    assert session["shipping_address_collection"] is not None  # the mug ships
    async with http.get(str(session["url"])) as page:
        text = await page.text()
    rows = text.split('<tr class="line">')[1:]
    titles = ["Async Python", "Starfield Racer", "Sandbox mug", "setup call"]
    assert len(rows) == len(titles)
    for row, title in zip(rows, titles, strict=True):
        assert title in row
    assert "2 × $4.99" in rows[1] and "$9.98" in rows[1]  # quantity, unit price, line total
    assert "Subtotal (4 items)" in text and "$88.98" in text
    assert 'data-testid="shipping"' in text and 'name="country"' in text
    assert 'data-testid="discount"' not in text  # no promotion code, no discount row


async def test_a_waiting_cart_payment_is_named_briefly_in_the_events_panel(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    """A cart paid with a delayed method waits in the events panel: its first lines by name,
    then how many more, so the card stays short for a cart of twenty."""
    session_id = await a_cart_of_the_four_kinds(sandbox)
    status, _ = await press(
        http, sandbox, session_id, "pay_delayed", email="alice@example.com", **ALICE_IN_LONDON
    )
    assert status == 303
    async with http.get(f"{site(sandbox)}/sandbox/api/stream") as stream:
        (card,) = [i for i in (await read_items(stream))["items"] if i["type"] == "waiting"]
    [waiting] = card["sessions"]
    assert waiting["what"] == (
        "Async Python — the ebook × 1, Starfield Racer — game key × 2, Sandbox mug × 1 + 1 more"
    )
    assert waiting["total"] == "$88.98"


async def test_a_promotion_code_on_the_checkout_page_shows_its_discount_and_still_delivers(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    """With ALLOW_PROMOTION_CODES the page offers the sandbox's code; a wrong code is refused
    on the page, the right one takes 10% off the cart (a discount row, the lower total) and
    the shop, which checks what Stripe charged against what it offered, delivers."""
    running = await started_sandbox(tmp_path / "sandbox.db", {"ALLOW_PROMOTION_CODES": "true"})
    try:
        session_id = await a_cart_of_the_four_kinds(running)
        url = str(running.stripe.sessions[session_id]["url"])
        async with http.get(url) as page:
            assert 'name="promotion_code"' in await page.text()
        address = ALICE_IN_LONDON
        async with http.post(f"{url}/pay", data={**address, "promotion_code": "NOPE"}) as wrong:
            assert wrong.status == 409 and "not a valid promotion code" in await wrong.text()
        status, _ = await press(
            http, running, session_id, "pay", promotion_code="sandbox10", **address
        )
        assert status == 303
        async with http.get(url) as page:
            text = await page.text()
        assert "−$8.90" in text and "$80.08" in text  # 10% of $88.98, and what was paid
        assert running.app is not None and running.app.db is not None
        await settled(running.app)
        order = await orders.by_session(running.app.db.reader, session_id)
        assert order is not None and order.status.value == "fulfilled"
    finally:
        await running.stop()
