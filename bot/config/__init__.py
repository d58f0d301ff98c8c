"""Settings from the environment and an optional `.env` file, checked all at once.

An operator who starts the shop with a half-filled configuration should see every mistake in
one message and fix them in one go, never a traceback and never one problem per restart. The
variables and defaults are the public contract (see CONTRACT.md and `.env.example`).

This package's front door; import from here. Inside, one module per job:
- `settings`: the immutable `Settings` record, safe to log;
- `problems`: `ConfigError` and the `Reader` that collects every problem before raising;
- `env_file`: the environment over `.env`, and `configured_values` for bot.launch and the sandbox;
- `values`: yes/no, bounded numbers and URLs, worded alike for every variable;
- `telegram_bot`, `stripe_account`, `public_address`, `database`, `shop_rules`: one parser per
  group of settings;
- `load`: `load_settings`, which reads the groups in turn.
"""

from __future__ import annotations

from bot.config.database import DEFAULT_DATABASE, configured_database, database_target
from bot.config.env_file import configured_values, read_env_file
from bot.config.load import load_settings
from bot.config.problems import ConfigError
from bot.config.settings import Settings, TelegramMode
from bot.config.shop_rules import (
    DEFAULT_SHIPPING_COUNTRIES,
    MAX_SUPPORT_CONTACT,
    SHIPPABLE_COUNTRIES,
)
from bot.config.stripe_account import DEFAULT_STRIPE_API_BASE
from bot.config.telegram_bot import DEFAULT_TELEGRAM_API_BASE_URL
from bot.config.values import parse_bool

__all__ = [
    "DEFAULT_DATABASE",
    "DEFAULT_SHIPPING_COUNTRIES",
    "DEFAULT_STRIPE_API_BASE",
    "DEFAULT_TELEGRAM_API_BASE_URL",
    "MAX_SUPPORT_CONTACT",
    "SHIPPABLE_COUNTRIES",
    "ConfigError",
    "Settings",
    "TelegramMode",
    "configured_database",
    "configured_values",
    "database_target",
    "load_settings",
    "parse_bool",
    "read_env_file",
]
