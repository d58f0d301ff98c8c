"""SIGTERM ends the process within the stop's deadline even when Telegram stops answering a
call the stop waits for, and the log names the step that was cut short (bot/shutdown.py).

Without the deadline the stop waited for Telegram's read timeout (15 s) — and behind Docker's
10 s, it was killed with nothing in the log to say why.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.shutdown import STOP_GRACE_SECONDS
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from testkit.process import shop_process
from tests.conftest import ADMIN_ID

BUYER = 770_001


@pytest.mark.sqlite_file
@pytest.mark.timeout(90)
async def test_sigterm_while_telegram_holds_a_reply_stops_in_time_and_names_the_step(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    shop, port = shop_process(
        telegram, stripe_api, tmp_path / "shop.db", tmp_path, "bot", admin_id=ADMIN_ID,
        public_base_url="https://shop.test",
    )  # fmt: skip
    await shop.start()
    try:
        await shop.wait_http(f"http://127.0.0.1:{port}/healthz")
        held = telegram.hold_next("sendMessage")
        telegram.user_sends(BUYER, "/help")  # the reply is the call Telegram keeps waiting
        await asyncio.wait_for(held.arrived.wait(), 30)
        started = time.monotonic()
        status = await shop.stop(30)
        took = time.monotonic() - started
    finally:
        held.released.set()
        await shop.stop()
    log = shop.log_path.read_text()
    assert status == 0, log[-3000:]
    assert took < STOP_GRACE_SECONDS + 3, f"the stop took {took:.1f} s\n{log[-3000:]}"
    assert "did not finish within" in log and "cut short" in log, log[-3000:]
    assert log.rstrip().endswith("stopped"), log[-3000:]
