"""Start, restart, webhook mode and configuration: the process-level stories."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from sandbox.standins import free_port, standin_environ
from storage import deliveries
from storage.models import OrderStatus
from tests.conftest import ADMIN_ID, BUYER_ID, settings_for, start_app
from tests.story import (
    add_product,
    buy,
    open_card,
    order_of,
    pay_and_notify,
    session_of,
    settled,
)

REPO = Path(__file__).resolve().parent.parent


async def test_restart_delivers_a_leftover_delivery_once(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    settings = settings_for(tmp_path, telegram, stripe_api)
    app = await start_app(settings, telegram, stripe_api)
    try:
        product_id = await add_product(app)
        pay_message = await buy(telegram, BUYER_ID, await open_card(telegram, BUYER_ID, product_id))
        session_id = session_of(stripe_api, pay_message)
        telegram.fail_next("editMessageText", times=1000, status=502)
        assert await pay_and_notify(stripe_api, session_id) == 200
        for _ in range(100):
            if telegram.calls_of("editMessageText"):
                break
            await asyncio.sleep(0.05)
    finally:
        await app.stop()
    assert telegram.calls_of("editMessageText"), "the worker tried while Telegram failed"
    telegram.fail_next("editMessageText", times=0)

    app = await start_app(settings, telegram, stripe_api)
    try:
        await telegram.wait_for(BUYER_ID, lambda m: "Payment received" in (m.text or ""))
        await settled(app)
        order = await order_of(app, session_id)
        assert order.status is OrderStatus.FULFILLED
        assert app.db is not None
        assert await deliveries.count_pending(app.db.reader) == 0
    finally:
        await app.stop()
    receipts = [m for m in telegram.messages(BUYER_ID) if "Your purchase" in (m.text or "")]
    assert len(receipts) == 1
    notices = [m for m in telegram.messages(BUYER_ID) if "Payment received" in (m.text or "")]
    assert len(notices) == 1
    assert len([m for m in telegram.messages(ADMIN_ID) if "New sale" in (m.text or "")]) == 1


async def test_webhook_mode_checks_the_secret_token(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    settings = settings_for(
        tmp_path, telegram, stripe_api, TELEGRAM_MODE="webhook", TELEGRAM_WEBHOOK_SECRET="s3cret_T"
    )
    app = await start_app(settings, telegram, stripe_api)
    try:
        assert telegram.webhook is not None
        assert telegram.webhook["url"] == "https://shop.test/telegram/webhook"
        assert telegram.webhook["secret_token"] == "s3cret_T"
        assert "callback_query" in telegram.webhook["allowed_updates"]
        assert "pre_checkout_query" in telegram.webhook["allowed_updates"]  # Stars payments
        assert not telegram.calls_of("getUpdates")
        update = telegram.user_sends(BUYER_ID, "/help", queue=False)
        url = f"http://127.0.0.1:{app.port}/telegram/webhook"
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with http.post(url, json=update, headers=headers) as r:
                    assert r.status == 403
            ok = {"X-Telegram-Bot-Api-Secret-Token": "s3cret_T"}
            async with http.post(url, data=b"{not json", headers=ok) as r:
                assert r.status == 400
            async with http.post(url, json=update, headers=ok) as r:
                assert r.status == 200
        await telegram.wait_for(BUYER_ID, lambda m: "How it works" in (m.text or ""))
        assert len(telegram.messages(BUYER_ID)) == 1
    finally:
        await app.stop()


async def test_healthz_is_503_before_ready_and_200_after(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    settings = settings_for(tmp_path, telegram, stripe_api)
    app = ShopApp(settings)
    telegram.down = True  # the bot cannot connect: the server is up, the shop is not ready
    starting = asyncio.create_task(app.start())
    try:
        for _ in range(100):
            if app.port is not None:
                break
            await asyncio.sleep(0.05)
        url = f"http://127.0.0.1:{app.port}/healthz"
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as r:
                assert r.status == 503
            telegram.down = False
            await asyncio.wait_for(starting, timeout=10)
            async with http.get(url) as r:
                assert r.status == 200
                assert await r.json() == {"status": "ok", "database": True, "bot": True}
    finally:
        starting.cancel()
        await app.stop()


def test_bad_configuration_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "TELEGRAM_BOT_TOKEN": "not-a-token",
        "STRIPE_SECRET_KEY": "pk_test_wrongkind",
        "PORT": "99999",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "PUBLIC_BASE_URL",
        "ADMIN_IDS",
        "PORT",
    ):
        assert name in result.stderr
    assert "Traceback" not in result.stderr
    assert "pk_test_wrongkind" not in result.stderr


async def test_sigterm_stops_the_process_cleanly(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """`python -m bot` as a process: ready on /healthz, then SIGTERM → exit 0."""
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        **standin_environ(telegram, stripe_api),
        "PUBLIC_BASE_URL": "https://shop.test",
        "ADMIN_IDS": str(ADMIN_ID),
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("never became healthy")
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=20)
        assert process.returncode == 0, output.decode()
        text = output.decode()
        assert "stopped" in text
        assert telegram.token not in text and stripe_api.api_key not in text
        assert (tmp_path / "data" / "shop.db").exists()
    finally:
        if process.returncode is None:
            process.kill()


async def test_commands_are_registered_for_buyers_and_admins(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    buyer = {c["command"] for c in telegram.commands["default"]}
    admin = {c["command"] for c in telegram.commands[f"chat:{ADMIN_ID}"]}
    assert buyer == {"start", "catalog", "cart", "orders", "language", "help", "paysupport"}
    assert {"addproduct", "products", "stock", "orders", "sales", "refund", "ship"} <= admin
    assert "language" in admin
