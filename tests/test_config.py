"""Configuration: defaults, `.env` handling, and one message listing every problem."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from stripe.params.checkout import SessionCreateParamsShippingAddressCollection

from bot.config import (
    SHIPPABLE_COUNTRIES,
    ConfigError,
    Settings,
    load_settings,
    read_env_file,
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
    assert s.database_path == Path("data/shop.db")
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
    assert s.database_path == Path("/var/lib/shop/shop.db")
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
        "database_path",
        "default_currency",
        "log_level",
        "allow_promotion_codes",
        "shipping_countries",
        "checkout_expires_minutes",
        "notify_expired",
        "max_reserved_per_buyer",
        "support_contact",
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
    assert settings(DATABASE_URL=url).database_path == path


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///:memory:",
        "sqlite://",
        "sqlite:///",
        "postgres://user:pw@db/shop",
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


# --- .env.example and the sandbox ----------------------------------------------------------


@pytest.mark.parametrize("units", ["0", "-1", "ten", "100001"])
def test_max_reserved_per_buyer_bounds(units: str) -> None:
    (problem,) = problems_with(MAX_RESERVED_PER_BUYER=units)
    assert problem.startswith("MAX_RESERVED_PER_BUYER") and "whole number" in problem


def test_max_reserved_per_buyer_default_and_value() -> None:
    assert settings().max_reserved_per_buyer == 10
    assert settings(MAX_RESERVED_PER_BUYER="3").max_reserved_per_buyer == 3


def test_env_example_documents_every_variable() -> None:
    documented = read_env_file(ENV_EXAMPLE)
    assert set(documented) == ALL_VARIABLES
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    assert "sandbox" in text.split("TELEGRAM_BOT_TOKEN=")[0]


def test_env_example_defaults_match_the_code() -> None:
    documented = read_env_file(ENV_EXAMPLE)
    optional = {k: v for k, v in documented.items() if k not in REQUIRED}
    defaults = load_settings(REQUIRED, env_file=None).redacted()
    with_example = load_settings({**REQUIRED, **optional}, env_file=None).redacted()
    assert with_example == defaults


def test_an_unedited_copy_of_env_example_does_not_start() -> None:
    found = problems({}, ENV_EXAMPLE)
    assert {p.split()[0] for p in found} == {
        "TELEGRAM_BOT_TOKEN",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "PUBLIC_BASE_URL",
    }
    assert all("placeholder" in p for p in found)
