"""Configuration: one message listing every problem, and what each variable refuses."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
from stripe.params.checkout import SessionCreateParamsShippingAddressCollection

from bot.config import (
    SHIPPABLE_COUNTRIES,
    ConfigError,
    load_settings,
)
from storage.db import PostgresServer, SqliteFile
from tests.config_env import REQUIRED, STRIPE_KEY, TOKEN, WHSEC, problems, problems_with, settings

# --- one message, every problem ------------------------------------------------------------


def test_empty_environment_names_the_five_required_variables() -> None:
    found = problems({})
    assert len(found) == 5
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "PUBLIC_BASE_URL",
        "ADMIN_IDS",
    ):
        assert sum(p.startswith(f"{name} is missing") for p in found) == 1


def test_error_message_lists_every_problem_and_points_at_env_example() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({}, env_file=None)
    text = str(caught.value)
    lines = text.splitlines()
    assert lines[0] == "Configuration is incomplete or invalid:"
    assert sum(line.startswith("  - ") for line in lines) == 5
    assert "  - TELEGRAM_BOT_TOKEN is missing: " in text
    assert ".env.example" in lines[-1]


def test_many_problems_are_collected_at_once() -> None:
    found = problems_with(
        TELEGRAM_MODE="push",
        PORT="0",
        ADMIN_IDS="me",
        CHECKOUT_EXPIRES_MINUTES="10",
        LOG_LEVEL="loud",
        NOTIFY_EXPIRED="maybe",
    )
    assert len(found) == 6
    for name in (
        "TELEGRAM_MODE",
        "PORT",
        "ADMIN_IDS",
        "CHECKOUT_EXPIRES_MINUTES",
        "LOG_LEVEL",
        "NOTIFY_EXPIRED",
    ):
        assert any(p.startswith(name) for p in found), name


@pytest.mark.parametrize(
    "token", ["123456", "abc:" + "x" * 35, "123456:short", "123456:" + "x" * 30 + "!"]
)
def test_bad_token_shape(token: str) -> None:
    (problem,) = problems_with(TELEGRAM_BOT_TOKEN=token)
    assert problem.startswith("TELEGRAM_BOT_TOKEN")


@pytest.mark.parametrize("key", ["pk_test_" + "a" * 30, "sk_" + "a" * 30, "whsec_abc"])
def test_bad_stripe_key(key: str) -> None:
    (problem,) = problems_with(STRIPE_SECRET_KEY=key)
    assert problem.startswith("STRIPE_SECRET_KEY")


def test_publishable_key_gets_a_hint() -> None:
    (problem,) = problems_with(STRIPE_SECRET_KEY="pk_live_" + "a" * 30)
    assert "publishable" in problem


def test_bad_webhook_signing_secret() -> None:
    (problem,) = problems_with(STRIPE_WEBHOOK_SECRET="sk_test_" + "a" * 30)
    assert problem.startswith("STRIPE_WEBHOOK_SECRET")


@pytest.mark.parametrize("value", ["abc", "1;2", "-5", "1.5", "0", ",", "１２"])
def test_bad_admin_ids(value: str) -> None:
    (problem,) = problems_with(ADMIN_IDS=value)
    assert problem.startswith("ADMIN_IDS")


@pytest.mark.parametrize("mode", ["push", "poll", "webhooks"])
def test_bad_mode(mode: str) -> None:
    (problem,) = problems_with(TELEGRAM_MODE=mode)
    assert problem.startswith("TELEGRAM_MODE")


def test_webhook_mode_needs_https() -> None:
    (problem,) = problems_with(TELEGRAM_MODE="webhook", PUBLIC_BASE_URL="http://shop.test")
    assert problem.startswith("PUBLIC_BASE_URL") and "https" in problem


@pytest.mark.parametrize("port", [443, 80, 88, 8443])
def test_webhook_mode_accepts_telegram_ports(port: int) -> None:
    s = settings(TELEGRAM_MODE="webhook", PUBLIC_BASE_URL=f"https://shop.test:{port}")
    assert s.telegram_webhook_url == f"https://shop.test:{port}/telegram/webhook"


def test_webhook_mode_refuses_other_ports() -> None:
    (problem,) = problems_with(TELEGRAM_MODE="webhook", PUBLIC_BASE_URL="https://shop.test:8080")
    assert "8443" in problem


@pytest.mark.parametrize(
    "api", ["http://127.0.0.1:8081/bot", "https://botapi.internal/bot", "http://tg-bot-api/bot"]
)
def test_webhook_mode_on_a_self_hosted_bot_api_takes_http_and_any_port(api: str) -> None:
    """A self-hosted Bot API server delivers webhooks over plain http to any port; only
    Telegram's own servers insist on https and ports 443/80/88/8443."""
    s = settings(
        TELEGRAM_MODE="webhook",
        TELEGRAM_API_BASE_URL=api,
        PUBLIC_BASE_URL="http://shop.internal:8080",
    )
    assert s.telegram_webhook_url == "http://shop.internal:8080/telegram/webhook"


def test_webhook_mode_on_telegrams_own_api_still_needs_https_and_its_ports() -> None:
    cloud = {"TELEGRAM_MODE": "webhook", "TELEGRAM_API_BASE_URL": "https://api.telegram.org/bot"}
    (http,) = problems_with(**cloud, PUBLIC_BASE_URL="http://shop.test")
    assert "https" in http and "self-hosted" in http
    (port,) = problems_with(**cloud, PUBLIC_BASE_URL="https://shop.test:8080")
    assert "8443" in port


def test_polling_mode_allows_plain_http_for_local_runs() -> None:
    assert settings(PUBLIC_BASE_URL="http://localhost:8080").public_base_url == (
        "http://localhost:8080"
    )


@pytest.mark.parametrize(
    "url",
    [
        "shop.test",
        "ftp://shop.test",
        "https://",
        "https://shop.test/?a=1",
        "https://shop.test/#top",
        "https://shop.test:99999",
        "https://user:pw@shop.test",
    ],
)
def test_bad_public_base_url(url: str) -> None:
    (problem,) = problems_with(PUBLIC_BASE_URL=url)
    assert problem.startswith("PUBLIC_BASE_URL")


@pytest.mark.parametrize("name", ["TELEGRAM_API_BASE_URL", "STRIPE_API_BASE"])
@pytest.mark.parametrize("url", ["localhost:8081", "ws://x", "http://x/?q=1"])
def test_bad_api_base_urls(name: str, url: str) -> None:
    (problem,) = problems_with(**{name: url})
    assert problem.startswith(name)


@pytest.mark.parametrize("port", ["0", "65536", "abc", "-1", "80.5"])
def test_port_out_of_range(port: str) -> None:
    (problem,) = problems_with(PORT=port)
    assert problem.startswith("PORT")


@pytest.mark.parametrize("port", ["1", "65535"])
def test_port_bounds(port: str) -> None:
    assert settings(PORT=port).port == int(port)


@pytest.mark.parametrize("minutes", ["29", "1441", "0", "sixty", "60.5"])
def test_bad_expires_minutes(minutes: str) -> None:
    (problem,) = problems_with(CHECKOUT_EXPIRES_MINUTES=minutes)
    assert problem.startswith("CHECKOUT_EXPIRES_MINUTES") and "Stripe" in problem


@pytest.mark.parametrize("minutes", ["30", "1440"])
def test_expires_minutes_bounds(minutes: str) -> None:
    assert settings(CHECKOUT_EXPIRES_MINUTES=minutes).checkout_expires_minutes == int(minutes)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("yes", True),
        ("On", True),
        ("false", False),
        ("0", False),
        ("No", False),
        ("off", False),
    ],
)
def test_booleans(text: str, value: bool) -> None:
    s = settings(ALLOW_PROMOTION_CODES=text, NOTIFY_EXPIRED=text)
    assert s.allow_promotion_codes is value
    assert s.notify_expired is value


@pytest.mark.parametrize("text", ["y", "2", "enabled"])
def test_bad_boolean(text: str) -> None:
    (problem,) = problems_with(ALLOW_PROMOTION_CODES=text)
    assert problem.startswith("ALLOW_PROMOTION_CODES")


@pytest.mark.parametrize("value", ["WARN", "verbose"])
def test_bad_log_level(value: str) -> None:
    (problem,) = problems_with(LOG_LEVEL=value)
    assert problem.startswith("LOG_LEVEL")


@pytest.mark.parametrize("value", ["xyz", "euro", "$"])
def test_bad_default_currency(value: str) -> None:
    (problem,) = problems_with(DEFAULT_CURRENCY=value)
    assert problem.startswith("DEFAULT_CURRENCY")


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///data/shop.db", Path("data/shop.db")),
        ("sqlite:///shop.db", Path("shop.db")),
        ("sqlite:////abs/path.db", Path("/abs/path.db")),
    ],
)
def test_database_url(url: str, path: Path) -> None:
    assert settings(DATABASE_URL=url).database == SqliteFile(path)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://shop:s3cret@db.internal:5432/shop",
        "postgres://shop@10.0.0.5/shop?sslmode=require",
        "postgresql://shop:p%40ss@[::1]:6432/shop?application_name=bot",
    ],
)
def test_postgresql_database_url(url: str) -> None:
    target = settings(DATABASE_URL=url).database
    assert target == PostgresServer(url)
    assert "s3cret" not in str(target) and "p%40ss" not in str(target)  # shown without it


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///:memory:",
        "sqlite://",
        "sqlite:///",
        "mysql://user:pw@db/shop",
        "postgresql://user:pw@db",  # no database named
        "postgresql://user:pw@db:notaport/shop",
        "data/shop.db",
        "sqlite:///x.db?mode=ro",
    ],
)
def test_bad_database_url(url: str) -> None:
    (problem,) = problems_with(DATABASE_URL=url)
    assert problem.startswith("DATABASE_URL")
    assert "pw" not in problem


@pytest.mark.parametrize("value", ["bad secret", "x" * 257, "sécret"])
def test_bad_telegram_webhook_secret(value: str) -> None:
    (problem,) = problems_with(TELEGRAM_WEBHOOK_SECRET=value)
    assert problem.startswith("TELEGRAM_WEBHOOK_SECRET")
    assert value not in problem


def test_shipping_countries_are_checked_against_iso_and_stripe() -> None:
    found = problems_with(SHIPPING_COUNTRIES="US,XX,USA,CU,KP")
    assert len(found) == 2
    assert any("XX" in p and "USA" in p for p in found)
    assert any("CU" in p and "KP" in p and "Stripe" in p for p in found)


def test_shipping_countries_cannot_be_only_commas() -> None:
    (problem,) = problems_with(SHIPPING_COUNTRIES=", ,")
    assert problem.startswith("SHIPPING_COUNTRIES")


def test_shippable_countries_match_what_the_stripe_sdk_accepts() -> None:
    hints = typing.get_type_hints(SessionCreateParamsShippingAddressCollection)
    (union,) = typing.get_args(hints["allowed_countries"])
    (literal,) = [a for a in typing.get_args(union) if typing.get_origin(a) is typing.Literal]
    stripe_codes = set(typing.get_args(literal)) - {"ZZ"}  # ZZ means "unknown region"
    assert stripe_codes == SHIPPABLE_COUNTRIES


def test_no_secret_value_appears_in_the_error() -> None:
    bad_token = "123456:LEAKMETOKEN!"
    bad_key = "pk_test_LEAKMEKEYVALUE1234567890"
    bad_whsec = "wh_LEAKMESIGNING1234567890"
    bad_hook = "LEAKME HOOK VALUE"
    with pytest.raises(ConfigError) as caught:
        load_settings(
            {
                **REQUIRED,
                "TELEGRAM_BOT_TOKEN": bad_token,
                "STRIPE_SECRET_KEY": bad_key,
                "STRIPE_WEBHOOK_SECRET": bad_whsec,
                "TELEGRAM_WEBHOOK_SECRET": bad_hook,
                # A secret pasted into the wrong variable must not be echoed either.
                "ADMIN_IDS": STRIPE_KEY,
                "PORT": WHSEC,
                "DEFAULT_CURRENCY": TOKEN,
            },
            env_file=None,
        )
    text = str(caught.value) + repr(caught.value) + " ".join(caught.value.problems)
    assert len(caught.value.problems) == 7
    for secret in (bad_token, bad_key, bad_whsec, bad_hook, STRIPE_KEY, WHSEC, TOKEN):
        assert secret not in text
    assert "LEAKME" not in text
