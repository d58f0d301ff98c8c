"""`load_settings`: every group of settings read in turn, then one Settings or one ConfigError."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bot.config.database import read_database
from bot.config.env_file import reader_for
from bot.config.languages import read_languages
from bot.config.problems import ConfigError
from bot.config.public_address import read_public_address
from bot.config.settings import Settings
from bot.config.shop_rules import (
    read_admin_ids,
    read_checkout_expiry,
    read_default_currency,
    read_log_level,
    read_max_reserved,
    read_notify_expired,
    read_paysupport_text,
    read_promotion_codes,
    read_shipping_countries,
    read_support_contact,
)
from bot.config.stripe_account import read_stripe
from bot.config.telegram_bot import read_telegram

__all__ = ["load_settings"]


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Settings:
    """Build Settings, or raise one ConfigError that lists every problem found.

    The environment wins over `.env`, so a deployment can override a developer's file; empty
    values count as unset because `FOO=` in a template means "not filled in yet". The groups
    are read in this order, which is the order their problems are listed in.
    """
    reader = reader_for(environ, env_file)
    telegram = read_telegram(reader)
    stripe = read_stripe(reader)
    address = read_public_address(reader, telegram)
    admin_ids = read_admin_ids(reader)
    database = read_database(reader)
    default_currency = read_default_currency(reader)
    log_level = read_log_level(reader)
    promotion_codes = read_promotion_codes(reader)
    shipping_countries = read_shipping_countries(reader)
    checkout_expiry = read_checkout_expiry(reader)
    notify_expired = read_notify_expired(reader)
    max_reserved = read_max_reserved(reader)
    support_contact = read_support_contact(reader)
    paysupport_text = read_paysupport_text(reader)
    languages = read_languages(reader)
    if reader.problems:
        raise ConfigError(reader.problems)
    assert telegram.token is not None and telegram.webhook_secret is not None
    assert stripe.secret_key is not None and stripe.webhook_secret is not None
    assert address.public_base_url is not None
    return Settings(
        telegram_bot_token=telegram.token,
        telegram_api_base_url=telegram.api_base_url,
        telegram_mode=telegram.mode,
        telegram_webhook_secret=telegram.webhook_secret,
        stripe_secret_key=stripe.secret_key,
        stripe_webhook_secret=stripe.webhook_secret,
        stripe_api_base=stripe.api_base,
        public_base_url=address.public_base_url,
        host=address.host,
        port=address.port,
        admin_ids=admin_ids,
        database=database,
        default_currency=default_currency,
        log_level=log_level,
        allow_promotion_codes=promotion_codes,
        shipping_countries=shipping_countries,
        checkout_expires_minutes=checkout_expiry,
        notify_expired=notify_expired,
        max_reserved_per_buyer=max_reserved,
        support_contact=support_contact,
        paysupport_text=paysupport_text,
        default_language=languages.default,
        languages=languages.offered,
    )
