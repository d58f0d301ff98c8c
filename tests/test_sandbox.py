"""The sandbox without a browser: its page API, who may reach it, and Checkout.

When it starts and on what is in test_sandbox_start.py; the browser story in
test_sandbox_browser.py.
"""

from __future__ import annotations

import base64
import functools
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sandbox.personas import ADMIN, BUYERS
from sandbox.run import Sandbox
from sandbox.standins import free_port
from shop.refunds import refund_order
from storage import orders, products
from tests.sandbox_helpers import (
    ALICE_IN_LONDON,
    eventually,
    press,
    read_items,
    session_for,
    site,
    started_sandbox,
)
from tests.story import applied, settled

# The sandbox runs on its own scratch SQLite file whatever the suite's engine.
pytestmark = pytest.mark.sqlite_file

ALICE, BOB = BUYERS
EBOOK, GAME_KEY, MUG, CALL, AUDIO_WALK = 1, 2, 3, 4, 5  # seeded products' ids, fresh database


# --- the page's API ------------------------------------------------------------------------------


async def test_the_page_plays_personas_through_the_telegram_stand_in(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    base = site(sandbox)
    async with http.get(f"{base}/sandbox/api/setup") as answer:
        setup = await answer.json()
    assert [p["id"] for p in setup["personas"]] == [ALICE.user_id, BOB.user_id, ADMIN.user_id]
    commands = {p["id"]: {c["command"] for c in p["commands"]} for p in setup["personas"]}
    assert "addproduct" in commands[ADMIN.user_id] and "addproduct" not in commands[BOB.user_id]

    async with http.get(f"{base}/sandbox/api/stream") as stream:
        first = await read_items(stream)
        assert first["initial"] and [i["type"] for i in first["items"]] == ["waiting"]
        sent = {"user_id": ALICE.user_id, "text": "/start"}
        async with http.post(f"{base}/sandbox/api/send", json=sent) as answer:
            assert answer.status == 200
        seen: list[dict[str, Any]] = []
        while not any("Welcome" in i.get("text", "") for i in seen):
            seen += (await read_items(stream))["items"]
    typed = next(i for i in seen if i["from"] == "user")
    assert typed["text"] == "/start" and typed["chat_id"] == ALICE.user_id
    welcome = next(i for i in seen if "Welcome" in i.get("text", ""))
    assert welcome["from"] == "bot" and welcome["buttons"] and welcome["entities"]

    async def refused(path: str, body: Any, **headers: str) -> tuple[int, str]:
        async with http.post(f"{base}{path}", json=body, headers=headers) as answer:
            return answer.status, await answer.text()

    tapped = {"user_id": ALICE.user_id, "message_id": welcome["message_id"], "data": "nope"}
    assert (await refused("/sandbox/api/tap", tapped))[0] == 400
    assert (await refused("/sandbox/api/send", {"user_id": 1, "text": "hi"}))[0] == 400
    assert (await refused("/sandbox/api/send", {"user_id": ALICE.user_id, "text": " "}))[0] == 400
    evil = await refused("/sandbox/api/send", sent, Origin="https://evil.example")
    assert evil[0] == 403
    async with http.post(f"{base}/sandbox/api/send", data="user_id=1") as form:
        assert form.status == 400  # only JSON: a plain cross-site form cannot post here


async def test_a_rebound_foreign_name_reaches_nothing_even_from_its_own_origin(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    """DNS rebinding: evil.example re-pointed at 127.0.0.1 is same-origin with itself (its
    Origin matches its Host), so only the Host header tells it apart: refused on every route,
    reads included, while the sandbox's own loopback names work."""
    assert sandbox.settings is not None
    port = sandbox.settings.port
    base = f"http://127.0.0.1:{port}"
    post = {"user_id": ALICE.user_id, "text": "/start"}
    rebound = {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}
    async with http.post(f"{base}/sandbox/api/send", json=post, headers=rebound) as sent:
        assert sent.status == 421
    for path in ("/sandbox/api/setup", "/sandbox/api/stream", "/sandbox", "/healthz"):
        async with http.get(f"{base}{path}", headers={"Host": f"evil.example:{port}"}) as read:
            assert read.status == 421, path
    assert sandbox.telegram.messages(ALICE.user_id) == []  # nothing reached the bot
    for name in ("127.0.0.1", "localhost", "[::1]"):
        own = {"Host": f"{name}:{port}", "Origin": f"http://{name}:{port}"}
        async with http.post(f"{base}/sandbox/api/send", json=post, headers=own) as answer:
            assert answer.status == 200, name
    cross = {"Host": f"localhost:{port}", "Origin": f"http://127.0.0.1:{port}"}
    async with http.post(f"{base}/sandbox/api/send", json=post, headers=cross) as answer:
        assert answer.status == 403  # another origin, even a loopback one, posts nothing


async def test_a_public_sandbox_answers_at_the_address_it_was_given(tmp_path: Path) -> None:
    port = free_port()
    public = {
        "SANDBOX_ALLOW_PUBLIC": "1",
        "PORT": str(port),
        "PUBLIC_BASE_URL": f"http://sandbox.lan:{port}",
    }
    running = await started_sandbox(tmp_path / "sandbox.db", public)
    try:
        assert site(running) == f"http://sandbox.lan:{port}"
        async with aiohttp.ClientSession() as http:
            for host, status in ((f"sandbox.lan:{port}", 200), (f"other.lan:{port}", 421)):
                page = f"http://127.0.0.1:{port}/sandbox"
                async with http.get(page, headers={"Host": host}) as answer:
                    assert answer.status == status, host
    finally:
        await running.stop()


async def test_a_persona_sends_a_photo_the_bot_can_use_and_the_page_can_show(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    base = site(sandbox)
    mug = (Path(__file__).parent.parent / "sandbox" / "static" / "demo-mug.png").read_bytes()

    async def post(path: str, body: dict[str, Any]) -> tuple[int, str]:
        async with http.post(f"{base}{path}", json=body) as answer:
            return answer.status, await answer.text()

    def admin_saw(text: str) -> bool:
        return any(text in (m.text or "") for m in sandbox.telegram.messages(ADMIN.user_id))

    for step, reply in [("/addproduct", "Send the title"), ("Mug", "description"),
                        ("/skip", "Send a photo")]:  # fmt: skip
        assert (await post("/sandbox/api/send", {"user_id": ADMIN.user_id, "text": step}))[0] == 200
        await eventually(functools.partial(admin_saw, reply), reply)

    photo = {"user_id": ADMIN.user_id, "width": 64, "height": 48, "caption": ""}
    not_an_image = await post("/sandbox/api/photo", {**photo, "data": "aGVsbG8="})
    assert not_an_image[0] == 400 and "JPEG or PNG" in not_an_image[1]
    huge = base64.b64encode(mug + bytes(184 * 1024)).decode()  # just over, under 256 KiB
    assert (await post("/sandbox/api/photo", {**photo, "data": huge}))[0] == 400
    assert (await post("/sandbox/api/photo", {**photo, "data": "%%%"}))[0] == 400
    assert (await post("/sandbox/api/photo", {**photo, "width": 0, "data": "x"}))[0] == 400
    assert not admin_saw("What kind of product")  # nothing refused reached the bot

    good = {**photo, "data": base64.b64encode(mug).decode()}
    assert (await post("/sandbox/api/photo", good))[0] == 200
    await eventually(lambda: admin_saw("What kind of product"), "the wizard took the photo")
    items = [item.view for item in sandbox.chats.items()]
    sent = next(i for i in items if i.get("from") == "user" and i.get("photo"))
    async with http.get(f"{base}{sent['photo']}") as served:
        assert served.status == 200 and served.content_type == "image/png"
        assert await served.read() == mug
    async with http.get(f"{base}/sandbox/api/files/AgACnothing") as missing:
        assert missing.status == 404


# --- Checkout and webhooks -----------------------------------------------------------------------


async def test_checkout_page_shows_the_session_and_escapes_merchant_text(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    assert sandbox.app is not None and sandbox.app.db is not None
    async with sandbox.app.db.transaction() as tx:
        await products.update(tx, MUG, title="Mug <script>alert(1)</script>")
    session_id = await session_for(sandbox, ALICE.user_id, MUG)
    url = sandbox.stripe.sessions[session_id]["url"]
    assert url == f"{site(sandbox)}/sandbox/stripe/c/pay/{session_id}"  # the page's own origin
    async with http.get(url) as page:
        text = await page.text()
    assert page.status == 200 and "$18.00" in text
    assert "&lt;script&gt;" in text and "<script>" not in text
    assert 'name="country"' in text  # physical goods: Checkout asks for the address
    async with http.get(f"{site(sandbox)}/sandbox/stripe/c/pay/cs_test_unknown") as missing:
        assert missing.status == 404


async def test_cancel_in_the_sandbox_expires_the_session_and_the_panel_shows_stripes_event(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    """Checkout's Cancel leads to the bot's /cancel page, which expires the session through the
    stand-in's API; the checkout.session.expired it sends appears in the events panel."""
    session_id = await session_for(sandbox, ALICE.user_id, GAME_KEY)
    base = f"{site(sandbox)}/sandbox/stripe/c/pay"
    async with http.post(f"{base}/{session_id}/cancel") as page:
        assert page.status == 200 and "Payment cancelled" in await page.text()
    assert sandbox.stripe.sessions[session_id]["status"] == "expired"
    await eventually(lambda: len(sandbox.webhooks.deliveries()) == 1, "the expired event")
    [expired] = sandbox.webhooks.deliveries()
    assert (expired.event_type, expired.status) == ("checkout.session.expired", 200)


async def cancel_goes_back_to_the_bot(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    """Cancel: back to the bot's cancel page, and Stripe sends nothing."""
    cancelled = await session_for(sandbox, ALICE.user_id, GAME_KEY)
    status, location = await press(http, sandbox, cancelled, "cancel")
    assert status == 303 and location.startswith(f"{site(sandbox)}/cancel?order=")
    assert sandbox.webhooks.deliveries() == []
    await back_to_the_bot_stays_in_the_sandbox(sandbox, http, location)  # expires it
    await eventually(lambda: len(sandbox.webhooks.deliveries()) == 1, "the cancel's event")


async def an_expired_link_takes_no_payment(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    """Let it expire: checkout.session.expired reaches the bot, which answers 200."""
    base = f"{site(sandbox)}/sandbox/stripe/c/pay"
    expiring = await session_for(sandbox, ALICE.user_id, GAME_KEY)
    status_and_page = await press(http, sandbox, expiring, "expire")
    assert status_and_page == (303, f"/sandbox/stripe/c/pay/{expiring}")
    [_, expired] = sandbox.webhooks.deliveries()
    assert (expired.event_type, expired.status) == ("checkout.session.expired", 200)
    status, _ = await press(http, sandbox, expiring, "pay")
    assert status == 409  # an expired session takes no payment
    async with http.get(f"{base}/{expiring}") as page:
        shown = await page.text()
    assert "has expired" in shown and "Expired ·" in shown
    assert "Expires" not in shown and "min)" not in shown  # no time left on a dead link
    assert 'href="/sandbox"' in shown  # and a way back to the chat


async def a_delayed_payment_fails_from_the_events_panel(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    """A delayed method: the success page now, then Fail from the events panel."""
    delayed = await session_for(sandbox, BOB.user_id, MUG)
    status, location = await press(
        http, sandbox, delayed, "pay_delayed", email="bob@example.com", name="Bob",
        line1="2 Main St", city="Berlin", postal_code="10115", country="DE",
    )  # fmt: skip
    assert status == 303 and location == f"{site(sandbox)}/success?session_id={delayed}"
    await back_to_the_bot_stays_in_the_sandbox(sandbox, http, location)
    assert sandbox.app is not None and sandbox.app.db is not None
    waiting_order = await orders.by_session(sandbox.app.db.reader, delayed)
    assert waiting_order is not None
    async with http.get(f"{site(sandbox)}/sandbox/api/stream") as stream:
        (card,) = [i for i in (await read_items(stream))["items"] if i["type"] == "waiting"]
    assert card["sessions"] == [  # the events panel names the order it waits for
        {"id": delayed, "order": str(waiting_order.id), "what": "Sandbox mug × 1",
         "total": "$18.00"}
    ]  # fmt: skip
    shipped_to = sandbox.stripe.sessions[delayed]["collected_information"]["shipping_details"]
    assert shipped_to["address"]["country"] == "DE" and shipped_to["name"] == "Bob"
    async with http.post(f"{site(sandbox)}/sandbox/api/sessions/{delayed}/fail") as failed:
        assert failed.status == 200
    types = [(d.event_type, d.status) for d in sandbox.webhooks.deliveries()]
    assert types[2:] == [
        ("checkout.session.completed", 200),
        ("checkout.session.async_payment_failed", 200),
    ]
    assert sandbox.app is not None and sandbox.app.db is not None
    await applied(sandbox.app)
    order = await orders.by_session(sandbox.app.db.reader, delayed)
    assert order is not None and order.status.value == "failed"


async def a_delayed_payment_settles_and_the_goods_go_out(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    """The same, but Settle: the payment clears and the goods go out."""
    assert sandbox.app is not None and sandbox.app.db is not None
    cleared = await session_for(sandbox, ALICE.user_id, MUG)
    status, _ = await press(
        http, sandbox, cleared, "pay_delayed", email="alice@example.com", **ALICE_IN_LONDON
    )
    assert status == 303
    async with http.post(f"{site(sandbox)}/sandbox/api/sessions/{cleared}/settle") as settle:
        assert settle.status == 200
    types = [(d.event_type, d.status) for d in sandbox.webhooks.deliveries()]
    assert types[4:] == [
        ("checkout.session.completed", 200),
        ("checkout.session.async_payment_succeeded", 200),
    ]
    await settled(sandbox.app)
    order = await orders.by_session(sandbox.app.db.reader, cleared)
    assert order is not None and order.status.value == "fulfilled"


async def test_checkout_buttons_drive_the_stand_in_and_the_real_webhook(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    """Every button on the hosted page reaches the real webhook: cancel, expire, and a delayed
    method that fails or settles from the events panel."""
    await cancel_goes_back_to_the_bot(sandbox, http)
    await an_expired_link_takes_no_payment(sandbox, http)
    await a_delayed_payment_fails_from_the_events_panel(sandbox, http)
    await a_delayed_payment_settles_and_the_goods_go_out(sandbox, http)


async def back_to_the_bot_stays_in_the_sandbox(
    sandbox: Sandbox, http: aiohttp.ClientSession, page_url: str
) -> None:
    """The success and cancel pages' "Back to the bot" opens the sandbox's chat, never t.me,
    where nobody (or a stranger) owns the sandbox bot's username."""
    async with http.get(page_url) as page:
        text = await page.text()
    link = f"{site(sandbox)}/sandbox/t.me/{sandbox.telegram.bot_username}"
    assert f'href="{link}"' in text and "https://t.me/" not in text
    for query, target in (("", "/sandbox"), ("?start=p_3", "/sandbox?start=p_3")):
        async with http.get(link + query, allow_redirects=False) as opened:
            assert (opened.status, opened.headers["Location"]) == (303, target)
    async with http.get(f"{site(sandbox)}/sandbox/t.me/someone_else_bot") as other:
        assert other.status == 404


async def test_resend_and_the_webhooks_stripe_sends_after_a_refund(sandbox: Sandbox) -> None:
    session_id = await session_for(sandbox, ALICE.user_id, GAME_KEY)
    sandbox.stripe.pay(session_id)
    paid = await sandbox.webhooks.send(
        sandbox.stripe.session_event("checkout.session.completed", session_id)
    )
    again = await sandbox.webhooks.resend(paid.number)
    assert (again.event_id, again.status, again.resend_of) == (paid.event_id, 200, 1)
    with pytest.raises(KeyError):
        await sandbox.webhooks.resend(99)

    # The bot refunds through the API; Stripe then sends charge.refunded by itself.
    assert sandbox.app is not None and sandbox.app.shop is not None
    await applied(sandbox.app)
    order = await orders.by_session(sandbox.app.shop.db.reader, session_id)
    assert order is not None
    await refund_order(sandbox.app.shop, order.id, None, "sandbox-test")
    await eventually(
        lambda: any(d.event_type == "charge.refunded" for d in sandbox.webhooks.deliveries()),
        "Stripe's charge.refunded after the bot's refund",
    )
    assert sandbox.webhooks.deliveries()[-1].status == 200
