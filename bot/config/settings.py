"""The settings the process runs on, as one immutable record that is safe to log."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal

from shop.i18n import SHIPPED_CATALOGS, SOURCE_LANGUAGE
from storage.db import DatabaseTarget

__all__ = ["Settings", "TelegramMode"]

TelegramMode = Literal["polling", "webhook"]

_SECRET_FIELDS = frozenset(
    {"telegram_bot_token", "telegram_webhook_secret", "stripe_secret_key", "stripe_webhook_secret"}
)


@dataclass(frozen=True)
class Settings:
    """Everything the process needs to know at start; immutable so nobody tweaks it mid-run.

    Secrets are left out of repr() so that logging the object by accident leaks nothing.
    """

    telegram_bot_token: str = field(repr=False)
    telegram_api_base_url: str
    telegram_mode: TelegramMode
    telegram_webhook_secret: str = field(repr=False)
    stripe_secret_key: str = field(repr=False)
    stripe_webhook_secret: str = field(repr=False)
    stripe_api_base: str
    public_base_url: str
    host: str
    port: int
    admin_ids: frozenset[int]
    database: DatabaseTarget
    default_currency: str
    log_level: str
    allow_promotion_codes: bool
    shipping_countries: tuple[str, ...]
    checkout_expires_minutes: int
    notify_expired: bool
    max_reserved_per_buyer: int = 10
    support_contact: str | None = None  # how buyers reach the merchant; None: relay to admins
    paysupport_text: str | None = None  # the merchant's payment-support terms; None: the default
    default_language: str = SOURCE_LANGUAGE  # for buyers whose language is not offered
    languages: tuple[str, ...] | None = None  # the ones offered; None: every shipped one
    # Where the compiled catalogs are: the shipped ones (tests add a pseudo-locale of their own).
    catalog_dir: Path = SHIPPED_CATALOGS

    @property
    def stripe_livemode(self) -> bool:
        """Live keys move real money, so callers can warn or refuse test-only behaviour."""
        return self.stripe_secret_key.startswith(("sk_live_", "rk_live_"))

    @property
    def telegram_webhook_url(self) -> str:
        """The one place that spells the webhook route, shared by setWebhook and the router."""
        return f"{self.public_base_url}/telegram/webhook"

    def redacted(self) -> dict[str, str]:
        """Every setting as text safe for a log line: secrets keep only a recognisable hint."""
        shown: dict[str, str] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name in _SECRET_FIELDS:
                shown[item.name] = _mask(str(value))
            elif isinstance(value, bool):
                shown[item.name] = "true" if value else "false"
            elif isinstance(value, frozenset):
                shown[item.name] = ",".join(str(v) for v in sorted(value))
            elif isinstance(value, tuple):
                shown[item.name] = ",".join(str(v) for v in value)
            else:
                shown[item.name] = str(value)
        return shown


def _mask(secret: str) -> str:
    """Keep the kind of secret visible (test or live key, which bot) but never enough to use."""
    if not secret:
        return ""
    prefix = ""
    match = re.match(r"^(?:(?:sk|rk|pk)_(?:test|live)_|whsec_|\d+:)", secret)
    if match:
        prefix = match.group()
    tail = secret[-4:] if len(secret) - len(prefix) >= 16 else ""
    return f"{prefix}…{tail}"
