"""Wiring the shop to the stand-ins, spelled once for tests, bench and tools."""

from __future__ import annotations

import socket

from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram


def standin_environ(telegram: FakeTelegram, stripe_api: FakeStripe) -> dict[str, str]:
    """Token, keys and base URLs of the two stand-ins, as `python -m bot` reads them."""
    return {
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_API_BASE_URL": telegram.base_url,
        "STRIPE_SECRET_KEY": stripe_api.api_key,
        "STRIPE_WEBHOOK_SECRET": stripe_api.webhook_secret,
        "STRIPE_API_BASE": stripe_api.api_base,
    }


def free_port() -> int:
    """A port free right now on 127.0.0.1, for a server whose URL must be known in advance."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
