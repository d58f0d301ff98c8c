"""The sandbox without a browser: when it starts, what it runs on, its page API and Checkout.

The browser story is in test_sandbox_browser.py; these pin down the rules around it.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.__main__ import main as bot_main
from bot.config import ConfigError
from bot.launch import PRODUCTION_SETTINGS, choose_launch
from bot.refunds import refund_order
from sandbox.personas import ADMIN, BUYERS
from sandbox.run import Sandbox, banner
from sandbox.seed import DEMO_KEYS
from sandbox.settings import Credentials, sandbox_settings
from sandbox.standins import free_port
from storage import orders, products, stock
from tests.sandbox_helpers import eventually, session_for, started_sandbox
from tests.story import settled
from tests.test_config import ALL_VARIABLES

ALICE, BOB = BUYERS
CONFIG_VARIABLES = ("SANDBOX", *sorted(ALL_VARIABLES))
GAME_KEY, MUG = 2, 3  # ids of the seeded products in a fresh database
TOKEN = "123456:TEST-fake-token-0123456789abcdef"
# One value of each production setting, as a half-finished deployment might have it.
PRODUCTION_VALUES = {
    "TELEGRAM_BOT_TOKEN": TOKEN,
    "STRIPE_SECRET_KEY": "sk_live_" + "k" * 24,
    "STRIPE_WEBHOOK_SECRET": "whsec_" + "s" * 24,
    "PUBLIC_BASE_URL": "https://shop.example",
    "ADMIN_IDS": "42",
    "DATABASE_URL": "sqlite:////var/lib/shop/shop.db",
}


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    running = await started_sandbox(tmp_path / "sandbox.db")
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def site(sandbox: Sandbox) -> str:
    assert sandbox.settings is not None
    return sandbox.settings.public_base_url


# --- when the sandbox starts ---------------------------------------------------------------------


def test_the_sandbox_starts_by_itself_only_without_any_production_setting(
    tmp_path: Path,
) -> None:
    assert set(PRODUCTION_VALUES) == set(PRODUCTION_SETTINGS)
    assert choose_launch({}, env_file=None).sandbox
    assert choose_launch({"TELEGRAM_BOT_TOKEN": "", "HOST": "127.0.0.1"}, env_file=None).sandbox
    dotenv = tmp_path / ".env"
    for name, value in PRODUCTION_VALUES.items():
        alone = choose_launch({name: value}, env_file=None)
        assert not alone.sandbox and alone.present == (name,), name
        dotenv.write_text(f"{name}={value}\n")
        assert not choose_launch({}, env_file=dotenv).sandbox, name
    on_purpose = choose_launch({**PRODUCTION_VALUES, "SANDBOX": "1"}, env_file=None)
    assert on_purpose.sandbox and on_purpose.on_purpose
    forbidden = choose_launch({"SANDBOX": "0"}, env_file=None)
    assert not forbidden.sandbox and forbidden.sandbox_hint is None
    with pytest.raises(ConfigError, match="SANDBOX “maybe” is not a yes/no value"):
        choose_launch({"SANDBOX": "maybe"}, env_file=None)


def bot_environ(**settings: str) -> dict[str, str]:
    """This process's environment without any shop setting, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    return {**env, **settings}


async def run_bot(cwd: Path, environ: dict[str, str]) -> tuple[int | None, str]:
    """`python -m bot` until it exits (at most 20 s): its status and what it printed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=cwd, env=environ,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        output, _ = await asyncio.wait_for(process.communicate(), 20)
    except TimeoutError:  # still running: it started something
        process.kill()
        output, _ = await process.communicate()
    return process.returncode, output.decode()


@pytest.mark.parametrize(
    "present",
    [
        {"DATABASE_URL": "sqlite:///prod/shop.db"},
        {k: PRODUCTION_VALUES[k] for k in ("STRIPE_WEBHOOK_SECRET", "PUBLIC_BASE_URL")},
    ],
    ids=["database-only", "secrets-not-injected"],
)
async def test_a_production_setting_without_credentials_is_an_error_never_a_sandbox(
    tmp_path: Path, present: dict[str, str]
) -> None:
    """A failed secret injection: the shop refuses to start and says how to get the sandbox,
    instead of serving the sandbox (on the production database) to whoever reaches the port."""
    status, output = await run_bot(tmp_path, bot_environ(PORT=str(free_port()), **present))
    assert status == 2, output
    assert "TELEGRAM_BOT_TOKEN is missing" in output and "STRIPE_SECRET_KEY is missing" in output
    assert "SANDBOX=1 make run" in output and "SANDBOX —" not in output
    assert not (tmp_path / "data").exists() and not (tmp_path / "prod").exists()


def test_entry_point_lists_what_is_missing_when_half_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in CONFIG_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    assert bot_main() == 2
    error = capsys.readouterr().err
    assert "STRIPE_SECRET_KEY is missing" in error and "SANDBOX=1" in error
    monkeypatch.setenv("SANDBOX", "0")  # the sandbox is forbidden: no hint about it
    assert bot_main() == 2
    assert "SANDBOX" not in capsys.readouterr().err
    assert not (tmp_path / "data").exists()


def test_production_never_loads_the_sandbox_package() -> None:
    """The stand-ins and the play page are not even imported unless the sandbox is chosen."""
    probe = (
        "import sys, bot.__main__, bot.app; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sandbox'))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert loaded.stdout.strip() == "[]"


def test_sandbox_settings_are_checked_like_production_and_keep_their_own_credentials() -> None:
    credentials = Credentials()
    urls = functools.partial(
        sandbox_settings,
        credentials,
        telegram_api_base_url="http://127.0.0.1:1/bot",
        stripe_api_base="http://x:2",
    )
    settings = urls(environ={}, env_file=None)
    assert settings.telegram_bot_token == credentials.bot_token
    assert settings.stripe_secret_key.startswith("sk_test_") and not settings.stripe_livemode
    assert settings.stripe_webhook_secret.startswith("whsec_")
    assert settings.public_base_url == "http://localhost:8080"
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.admin_ids == {ADMIN.user_id}
    assert settings.database_path == Path("data/sandbox.db")
    assert settings.telegram_api_base_url == "http://127.0.0.1:1/bot"

    tuned = urls(
        environ={
            "PORT": "9000",
            "DEFAULT_CURRENCY": "eur",
            "TELEGRAM_MODE": "webhook",  # the stand-in has no HTTPS: ignored, as are these
            "ADMIN_IDS": "1",
            "STRIPE_API_BASE": "https://api.stripe.com",
        },
        env_file=None,
    )
    assert (tuned.port, tuned.public_base_url) == (9000, "http://localhost:9000")
    assert tuned.default_currency == "eur" and tuned.telegram_mode == "polling"
    assert tuned.admin_ids == {ADMIN.user_id} and tuned.stripe_api_base == "http://x:2"

    with pytest.raises(ConfigError) as bad:
        urls(environ={"PORT": "eighty"}, env_file=None)
    assert len(bad.value.problems) == 1 and "PORT" in bad.value.problems[0]

    # On purpose (SANDBOX=1), it still refuses another database and a public address, and
    # says both at once with anything else that is wrong.
    with pytest.raises(ConfigError) as refused:
        urls(
            environ={**PRODUCTION_VALUES, "SANDBOX": "1", "HOST": "0.0.0.0", "PORT": "x"},
            env_file=None,
        )
    assert [p.split()[0] for p in refused.value.problems] == ["HOST", "DATABASE_URL", "PORT"]
    assert "SANDBOX_ALLOW_PUBLIC=1" in refused.value.problems[0]
    scratch = urls(
        environ={"DATABASE_URL": "sqlite:///data/sandbox.db", "HOST": "::1"}, env_file=None
    )
    assert scratch.database_path == Path("data/sandbox.db") and scratch.host == "::1"
    public = urls(
        environ={
            **PRODUCTION_VALUES,
            "DATABASE_URL": "sqlite:///data/sandbox.db",
            "SANDBOX_ALLOW_PUBLIC": "1",
            "HOST": "0.0.0.0",
            "PUBLIC_BASE_URL": "http://sandbox.lan:8080",
        },
        env_file=None,
    )
    assert (public.host, public.public_base_url) == ("0.0.0.0", "http://sandbox.lan:8080")
    assert public.admin_ids == {ADMIN.user_id} and public.stripe_secret_key.startswith("sk_test_")


async def test_python_m_bot_with_nothing_configured_starts_the_sandbox(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env={**env, "PORT": str(port)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        assert line.decode().strip() == banner(port)
        assert banner(port) == (
            "SANDBOX — nothing here talks to Telegram or Stripe; "
            f"open http://localhost:{port}/sandbox"
        )
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://localhost:{port}/healthz") as health:
                assert health.status == 200
            async with http.get(f"http://localhost:{port}/sandbox") as page:
                assert page.status == 200 and "Sandbox" in await page.text()
        assert (tmp_path / "data" / "sandbox.db").exists()
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_a_fresh_shop_each_start_and_never_another_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    scratch = tmp_path / "data" / "sandbox.db"

    async def titles(environ: dict[str, str], add: str | None = None) -> list[str]:
        running = await started_sandbox(scratch, environ)
        try:
            assert running.app is not None and running.app.db is not None
            db = running.app.db
            if add is not None:
                async with db.transaction() as tx:
                    await products.add(tx, title=add, price_minor=500, currency="usd")
            listed = await products.list_all(db.reader, offset=0, limit=50)
            assert await stock.available(db.reader, GAME_KEY) == len(DEMO_KEYS)
            return [p.title for p in listed]
        finally:
            await running.stop()

    seeded = await titles({}, add="Extra")
    assert len(seeded) == 5 and "Sandbox mug" in seeded
    assert await titles({}) == seeded[:4]  # the scratch database started over

    # SANDBOX=1 on a production configuration: the credentials are ignored, loudly, and the
    # production database is neither opened nor created.
    production = {**PRODUCTION_VALUES, "DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}"}
    with pytest.raises(ConfigError, match="DATABASE_URL is set, but the sandbox runs only"):
        await started_sandbox(scratch, {**production, "SANDBOX": "1"})
    assert not (tmp_path / "shop.db").exists()
    with caplog.at_level("WARNING", logger="sandbox"):
        own = {"DATABASE_URL": f"sqlite:///{scratch}"}
        assert await titles({**production, **own, "SANDBOX": "1"}) == seeded[:4]
    assert any("SANDBOX=1" in r.message and "NOT used" in r.message for r in caplog.records)


async def test_a_second_start_on_a_busy_port_leaves_the_running_sandbox_alone(
    tmp_path: Path,
) -> None:
    """`make run` twice: the second one stops before it touches the first one's database."""
    port = free_port()
    environ = bot_environ(PORT=str(port))
    first = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=environ,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert first.stdout is not None
        line = await asyncio.wait_for(first.stdout.readline(), 30)
        assert line.decode().strip() == banner(port)
        database = tmp_path / "data" / "sandbox.db"
        before = database.stat().st_ino
        status, output = await run_bot(tmp_path, environ)
        assert database.stat().st_ino == before  # the very same file, not a fresh one
        assert status == 2 and "Stop it, or set PORT to a free port" in output, output
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/healthz") as health,
        ):
            assert health.status == 200
    finally:
        first.kill()
        await first.wait()


# --- the page's API ------------------------------------------------------------------------------


async def read_items(stream: aiohttp.ClientResponse) -> dict[str, Any]:
    """The next `items` event of the page's event stream."""
    while True:
        line = (await asyncio.wait_for(stream.content.readline(), 10)).decode()
        if line.startswith("data: "):
            return dict(json.loads(line.removeprefix("data: ")))


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
                        ("/skip", "Send the price"), ("12", "Send a photo")]:  # fmt: skip
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


async def test_checkout_buttons_drive_the_stand_in_and_the_real_webhook(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    base = f"{site(sandbox)}/sandbox/stripe/c/pay"

    async def press(session_id: str, action: str, **form: str) -> tuple[int, str]:
        async with http.post(
            f"{base}/{session_id}/{action}", data=form, allow_redirects=False
        ) as answer:
            return answer.status, answer.headers.get("Location", "")

    # Cancel: back to the bot's cancel page, and Stripe sends nothing.
    cancelled = await session_for(sandbox, ALICE.user_id, GAME_KEY)
    status, location = await press(cancelled, "cancel")
    assert status == 303 and location.startswith(f"{site(sandbox)}/cancel?order=")
    assert sandbox.webhooks.deliveries() == []
    await back_to_the_bot_stays_in_the_sandbox(sandbox, http, location)

    # Let it expire: checkout.session.expired reaches the bot, which answers 200.
    assert await press(cancelled, "expire") == (303, f"/sandbox/stripe/c/pay/{cancelled}")
    [expired] = sandbox.webhooks.deliveries()
    assert (expired.event_type, expired.status) == ("checkout.session.expired", 200)
    assert (await press(cancelled, "pay"))[0] == 409  # an expired session takes no payment
    async with http.get(f"{base}/{cancelled}") as page:
        shown = await page.text()
    assert "has expired" in shown and "Expired ·" in shown
    assert "Expires" not in shown and "min)" not in shown  # no time left on a dead link
    assert 'href="/sandbox"' in shown  # and a way back to the chat

    # A delayed method: the success page now, then Fail from the events panel.
    delayed = await session_for(sandbox, BOB.user_id, MUG)
    status, location = await press(
        delayed, "pay_delayed", email="bob@example.com", name="Bob", line1="2 Main St",
        city="Berlin", postal_code="10115", country="DE",
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
    assert types[1:] == [
        ("checkout.session.completed", 200),
        ("checkout.session.async_payment_failed", 200),
    ]
    assert sandbox.app is not None and sandbox.app.db is not None
    order = await orders.by_session(sandbox.app.db.reader, delayed)
    assert order is not None and order.status.value == "failed"

    # The same, but Settle: the payment clears and the goods go out.
    cleared = await session_for(sandbox, ALICE.user_id, MUG)
    status, _ = await press(
        cleared, "pay_delayed", email="alice@example.com", name="Alice", line1="1 High St",
        city="London", postal_code="N1", country="GB",
    )  # fmt: skip
    assert status == 303
    async with http.post(f"{site(sandbox)}/sandbox/api/sessions/{cleared}/settle") as settle:
        assert settle.status == 200
    types = [(d.event_type, d.status) for d in sandbox.webhooks.deliveries()]
    assert types[3:] == [
        ("checkout.session.completed", 200),
        ("checkout.session.async_payment_succeeded", 200),
    ]
    await settled(sandbox.app)
    order = await orders.by_session(sandbox.app.db.reader, cleared)
    assert order is not None and order.status.value == "fulfilled"


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
    order = await orders.by_session(sandbox.app.shop.db.reader, session_id)
    assert order is not None
    await refund_order(sandbox.app.shop, order.id, None, "sandbox-test")
    await eventually(
        lambda: any(d.event_type == "charge.refunded" for d in sandbox.webhooks.deliveries()),
        "Stripe's charge.refunded after the bot's refund",
    )
    assert sandbox.webhooks.deliveries()[-1].status == 200
