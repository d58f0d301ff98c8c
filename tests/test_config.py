"""Configuration: defaults and derived values, and `.env` handling beside the environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import (
    ConfigError,
    load_settings,
    read_env_file,
)
from storage.db import SqliteFile
from tests.config_env import REQUIRED, STRIPE_KEY, TOKEN, WHSEC, problems, settings

# --- defaults and derived values -----------------------------------------------------------


def test_defaults() -> None:
    s = settings()
    assert s.telegram_bot_token == TOKEN
    assert s.telegram_api_base_url == "https://api.telegram.org/bot"
    assert s.telegram_mode == "polling"
    assert s.stripe_secret_key == STRIPE_KEY
    assert s.stripe_webhook_secret == WHSEC
    assert s.stripe_api_base == "https://api.stripe.com"
    assert s.public_base_url == "https://shop.test"
    assert s.host == "0.0.0.0"
    assert s.port == 8080
    assert s.admin_ids == frozenset({42})
    assert s.database == SqliteFile(Path("data/shop.db"))
    assert s.default_currency == "usd"
    assert s.log_level == "INFO"
    assert s.allow_promotion_codes is False
    assert s.shipping_countries == ("US", "CA", "GB", "DE", "FR")
    assert s.checkout_expires_minutes == 60
    assert s.notify_expired is True


def test_every_variable_is_read() -> None:
    s = settings(
        TELEGRAM_API_BASE_URL="http://127.0.0.1:8081/bot",
        TELEGRAM_MODE="WebHook",
        TELEGRAM_WEBHOOK_SECRET="my_secret-1",
        STRIPE_API_BASE="http://localhost:12111/",
        PUBLIC_BASE_URL="https://shop.test:8443/base/",
        HOST="127.0.0.1",
        PORT="9000",
        ADMIN_IDS=" 1, 22 ,333, ",
        DATABASE_URL="sqlite:////var/lib/shop/shop.db",
        DEFAULT_CURRENCY="EUR",
        LOG_LEVEL="debug",
        ALLOW_PROMOTION_CODES="yes",
        SHIPPING_COUNTRIES="de, at,DE",
        CHECKOUT_EXPIRES_MINUTES="1440",
        NOTIFY_EXPIRED="off",
    )
    assert s.telegram_api_base_url == "http://127.0.0.1:8081/bot"
    assert s.telegram_mode == "webhook"
    assert s.telegram_webhook_secret == "my_secret-1"
    assert s.stripe_api_base == "http://localhost:12111"
    assert s.public_base_url == "https://shop.test:8443/base"
    assert s.telegram_webhook_url == "https://shop.test:8443/base/telegram/webhook"
    assert s.host == "127.0.0.1"
    assert s.port == 9000
    assert s.admin_ids == frozenset({1, 22, 333})
    assert s.database == SqliteFile(Path("/var/lib/shop/shop.db"))
    assert s.default_currency == "eur"
    assert s.log_level == "DEBUG"
    assert s.allow_promotion_codes is True
    assert s.shipping_countries == ("DE", "AT")
    assert s.checkout_expires_minutes == 1440
    assert s.notify_expired is False


def test_derived_webhook_secret_is_stable_and_acceptable_to_telegram() -> None:
    first, again = settings().telegram_webhook_secret, settings().telegram_webhook_secret
    other = settings(TELEGRAM_BOT_TOKEN="987654321:" + "y" * 35).telegram_webhook_secret
    assert first == again
    assert first != other
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,256}", first)
    assert TOKEN not in first and TOKEN.split(":")[1] not in first


@pytest.mark.parametrize(
    ("key", "live"),
    [(STRIPE_KEY, False), ("sk_live_" + "a" * 30, True), ("rk_live_" + "a" * 30, True)],
)
def test_stripe_livemode(key: str, live: bool) -> None:
    assert settings(STRIPE_SECRET_KEY=key).stripe_livemode is live


def test_telegram_webhook_url() -> None:
    assert settings().telegram_webhook_url == "https://shop.test/telegram/webhook"


def test_redacted_lists_every_field_and_hides_secrets() -> None:
    s = settings(TELEGRAM_WEBHOOK_SECRET="W" * 40)
    shown = s.redacted()
    assert set(shown) == {
        "telegram_bot_token",
        "telegram_api_base_url",
        "telegram_mode",
        "telegram_webhook_secret",
        "stripe_secret_key",
        "stripe_webhook_secret",
        "stripe_api_base",
        "public_base_url",
        "host",
        "port",
        "admin_ids",
        "database",
        "default_currency",
        "log_level",
        "allow_promotion_codes",
        "shipping_countries",
        "checkout_expires_minutes",
        "notify_expired",
        "max_reserved_per_buyer",
        "support_contact",
        "paysupport_text",
        "default_language",
        "languages",
        "catalog_dir",
    }
    text = " ".join(shown.values())
    for secret in (TOKEN.split(":")[1], STRIPE_KEY[8:], WHSEC[6:], "W" * 40):
        assert secret[:-4] not in text
    assert shown["stripe_secret_key"] == "sk_test_…wxyz"
    assert shown["stripe_webhook_secret"] == "whsec_…9876"
    assert shown["telegram_bot_token"].startswith("123456789:…")
    assert shown["port"] == "8080"
    assert shown["shipping_countries"] == "US,CA,GB,DE,FR"
    assert shown["notify_expired"] == "true"


def test_repr_leaks_no_secret() -> None:
    text = repr(settings())
    for secret in (TOKEN, STRIPE_KEY, WHSEC):
        assert secret not in text


# --- environment and .env ------------------------------------------------------------------


def test_environment_wins_over_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=1111\nHOST=10.0.0.1\nLOG_LEVEL=ERROR\n")
    s = load_settings({**REQUIRED, "PORT": "2222", "LOG_LEVEL": ""}, env_file=env_file)
    assert s.port == 2222  # the environment wins
    assert s.host == "10.0.0.1"  # the file fills what the environment lacks
    assert s.log_level == "ERROR"  # an empty environment value counts as unset


def test_required_values_may_come_from_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in REQUIRED.items()))
    assert load_settings({}, env_file=env_file).admin_ids == frozenset({42})


def test_empty_values_count_as_unset(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=\nDEFAULT_CURRENCY=   \n")
    s = load_settings({**REQUIRED, "HOST": ""}, env_file=env_file)
    assert (s.port, s.default_currency, s.host) == (8080, "usd", "0.0.0.0")


def test_missing_env_file_is_fine(tmp_path: Path) -> None:
    assert read_env_file(tmp_path / "absent.env") == {}
    assert load_settings(REQUIRED, env_file=tmp_path / "absent.env").port == 8080


def test_env_file_is_ignored_when_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("PORT=1234\n")
    assert load_settings(REQUIRED, env_file=None).port == 8080
    assert load_settings(REQUIRED).port == 1234  # the default env_file is ./.env


def test_os_environ_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in REQUIRED.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PORT", "4321")
    assert load_settings(env_file=None).port == 4321


def test_read_env_file_syntax(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "\ufeff# a comment\n"
        "\n"
        "PLAIN=value\n"
        "export EXPORTED=yes\n"
        "  SPACED  =  padded value  \n"
        'DOUBLE="line1\\nline2 \\"q\\" # not a comment"\n'
        "SINGLE='raw \\n # kept'\n"
        "INLINE=abc # a comment\n"
        "HASH=abc#def\n"
        'QUOTED_COMMENT="x" # trailing comment\n'
        "EMPTY=\n"
        "EQUALS=a=b=c\n"
        "DUP=first\n"
        "DUP=second\n",
        encoding="utf-8",
    )
    assert read_env_file(env_file) == {
        "PLAIN": "value",
        "EXPORTED": "yes",
        "SPACED": "padded value",
        "DOUBLE": 'line1\nline2 "q" # not a comment',
        "SINGLE": "raw \\n # kept",
        "INLINE": "abc",
        "HASH": "abc#def",
        "QUOTED_COMMENT": "x",
        "EMPTY": "",
        "EQUALS": "a=b=c",
        "DUP": "second",
    }


def test_malformed_env_lines_are_problems_with_line_numbers(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "GOOD=1\n"
        "this line has no equals sign sk_test_SHOULDNOTLEAK\n"
        'OPEN="never closed\n'
        "TRAIL='x' junk\n"
        "1BAD=x\n"
    )
    with pytest.raises(ConfigError) as caught:
        read_env_file(env_file)
    found = caught.value.problems
    assert len(found) == 4
    for number, problem in zip((2, 3, 4, 5), found, strict=True):
        assert f"line {number}" in problem
    assert "SHOULDNOTLEAK" not in str(caught.value)


def test_malformed_env_file_is_reported_with_everything_else(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=1\nnonsense\n")
    found = problems({}, env_file)
    assert any("line 2" in p for p in found)
    assert any(p.startswith("TELEGRAM_BOT_TOKEN is missing") for p in found)
