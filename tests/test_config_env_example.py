"""Configuration: the reservation cap's bounds, and `.env.example` agreeing with the code."""

from __future__ import annotations

import pytest

from bot.config import (
    load_settings,
    read_env_file,
)
from tests.config_env import ALL_VARIABLES, ENV_EXAMPLE, REQUIRED, problems, problems_with, settings

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
