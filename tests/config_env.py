"""What the configuration tests share: valid values for the required variables, every variable
the shop reads, and short ways to load Settings (or its problems) from a plain dict."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import (
    ConfigError,
    Settings,
    load_settings,
)

TOKEN = "123456789:AAH" + "x" * 32
STRIPE_KEY = "sk_test_51Abc" + "K" * 30 + "wxyz"
WHSEC = "whsec_" + "S" * 32 + "9876"
REQUIRED = {
    "TELEGRAM_BOT_TOKEN": TOKEN,
    "STRIPE_SECRET_KEY": STRIPE_KEY,
    "STRIPE_WEBHOOK_SECRET": WHSEC,
    "PUBLIC_BASE_URL": "https://shop.test",
    "ADMIN_IDS": "42",
}
ALL_VARIABLES = {
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_BASE_URL",
    "TELEGRAM_MODE",
    "TELEGRAM_WEBHOOK_SECRET",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "PUBLIC_BASE_URL",
    "HOST",
    "PORT",
    "ADMIN_IDS",
    "DATABASE_URL",
    "DEFAULT_CURRENCY",
    "LOG_LEVEL",
    "ALLOW_PROMOTION_CODES",
    "SHIPPING_COUNTRIES",
    "CHECKOUT_EXPIRES_MINUTES",
    "NOTIFY_EXPIRED",
    "MAX_RESERVED_PER_BUYER",
    "SANDBOX",
    "SANDBOX_ALLOW_PUBLIC",
    "SUPPORT_CONTACT",
    "PAYSUPPORT_TEXT",
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
}
ENV_EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"


def settings(**overrides: str) -> Settings:
    return load_settings({**REQUIRED, **overrides}, env_file=None)


def problems(environ: dict[str, str], env_file: Path | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ, env_file=env_file)
    return caught.value.problems


def problems_with(**overrides: str) -> list[str]:
    return problems({**REQUIRED, **overrides})
