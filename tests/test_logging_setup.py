"""The log at INFO tells the shop's story: our own lines, and libraries only when in trouble."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot import logging_setup
from bot.config import Settings
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from tests.conftest import BUYER_ID, start_app
from tests.story import checkout, settled


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """configure() rewires the root logger; put it back for the tests that follow."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    own = {name: logging.getLogger(name).level for name in logging_setup.OWN_LOGGERS}
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, old in own.items():
            logging.getLogger(name).setLevel(old)


def lines_by_logger(text: str, level: str) -> set[str]:
    """Top-level logger names of the lines at `level` in the configured format."""
    names = set()
    for line in text.splitlines():
        parts = line.split(" ", 4)
        if len(parts) == 5 and parts[2] == level:
            names.add(parts[3].rstrip(":").split(".")[0])
    return names


@pytest.mark.usefixtures("restored_logging")
async def test_at_info_the_log_holds_our_lines_and_no_library_chatter(
    settings: Settings,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    capsys: pytest.CaptureFixture[str],
) -> None:
    logging_setup.configure("INFO", [settings.telegram_bot_token])
    app = await start_app(settings, telegram, stripe_api)
    try:
        # A purchase: the Stripe SDK logs each request at INFO, the scheduler its jobs.
        await checkout(app, telegram, stripe_api, BUYER_ID)
        await settled(app)
    finally:
        await app.stop()
    logged = capsys.readouterr().err
    assert "is ready" in logged and "HTTP server listening" in logged
    assert lines_by_logger(logged, "INFO") <= {"bot", "shop", "webhooks", "storage"}


@pytest.mark.usefixtures("restored_logging")
def test_debug_is_for_our_own_loggers_and_error_silences_everyone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logging_setup.configure("DEBUG", [])
    logging.getLogger("shop.checkout").debug("ours in detail")
    logging.getLogger("apscheduler.scheduler").info('Added job "x"')
    logging.getLogger("stripe").warning("a library in trouble")
    logging_setup.configure("ERROR", [])
    logging.getLogger("stripe").warning("quiet now")
    logging.getLogger("storage.db").warning("and ours too")
    logged = capsys.readouterr().err
    assert "ours in detail" in logged and "a library in trouble" in logged
    assert "Added job" not in logged and "quiet now" not in logged and "and ours" not in logged
