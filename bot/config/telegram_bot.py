"""The Telegram settings: the bot's token, how updates arrive, and Telegram's webhook rules."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

from bot.config.problems import BOT_TOKEN_SHAPE, PLACEHOLDER, Reader, shown
from bot.config.settings import TelegramMode
from bot.config.values import url_setting

__all__ = ["DEFAULT_TELEGRAM_API_BASE_URL", "TelegramBot", "read_telegram"]

DEFAULT_TELEGRAM_API_BASE_URL = "https://api.telegram.org/bot"
# Placeholders are looked for in every credential at once, right after the token, so that an
# unedited copy of .env.example names them first.
_CREDENTIALS = ("TELEGRAM_BOT_TOKEN", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")
_WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# Telegram's own Bot API servers deliver webhooks only over https to these ports (setWebhook);
# a self-hosted Bot API server takes any http(s) URL and port.
_TELEGRAM_WEBHOOK_PORTS = frozenset({443, 80, 88, 8443})
_TELEGRAM_CLOUD_HOST = "api.telegram.org"


@dataclass(frozen=True)
class TelegramBot:
    """What was read; `token` is None only when a problem about it was recorded."""

    token: str | None
    mode: TelegramMode
    webhook_secret: str | None
    api_base_url: str

    def webhook_url_problem(self, public_base_url: str) -> str | None:
        """Why Telegram would refuse to deliver webhooks under this public address, or None.

        Only Telegram's own Bot API servers bind us (https, four ports); a self-hosted one
        accepts plain http and any port, and polling needs no public address at all."""
        if self.mode != "webhook" or urlsplit(self.api_base_url).hostname != _TELEGRAM_CLOUD_HOST:
            return None
        parts = urlsplit(public_base_url)
        if parts.scheme != "https":
            return (
                "PUBLIC_BASE_URL must use https:// when TELEGRAM_MODE is webhook "
                "(Telegram's servers deliver webhooks only over https; a self-hosted "
                "Bot API server in TELEGRAM_API_BASE_URL also takes http://)."
            )
        if parts.port is not None and parts.port not in _TELEGRAM_WEBHOOK_PORTS:
            return (
                f"PUBLIC_BASE_URL uses port {parts.port}, but Telegram delivers webhooks "
                "only to ports 443, 80, 88 and 8443."
            )
        return None


def read_telegram(reader: Reader) -> TelegramBot:
    """TELEGRAM_BOT_TOKEN, TELEGRAM_MODE, TELEGRAM_WEBHOOK_SECRET and TELEGRAM_API_BASE_URL."""
    token = _bot_token(reader)
    polling: TelegramMode = "polling"
    mode = reader.parsed("TELEGRAM_MODE", polling, lambda value: _mode(reader, value))
    webhook_secret = reader.raw("TELEGRAM_WEBHOOK_SECRET")
    if webhook_secret is not None and not _WEBHOOK_SECRET_RE.match(webhook_secret):
        reader.problem(
            "TELEGRAM_WEBHOOK_SECRET must be 1 to 256 characters of A-Z, a-z, 0-9, _ and - "
            "(Telegram's rule for secret_token)."
        )
    if webhook_secret is None and token is not None:
        webhook_secret = _derived_webhook_secret(token)
    api_base_url = url_setting(
        reader, "TELEGRAM_API_BASE_URL", DEFAULT_TELEGRAM_API_BASE_URL, strip_slash=False
    )
    return TelegramBot(token, mode, webhook_secret, api_base_url)


def _bot_token(reader: Reader) -> str | None:
    token = reader.required(
        "TELEGRAM_BOT_TOKEN", "create a bot with @BotFather and paste its token."
    )
    reader.report_placeholders(_CREDENTIALS)
    if token is not None and PLACEHOLDER not in token and not BOT_TOKEN_SHAPE.match(token):
        reader.problem(
            "TELEGRAM_BOT_TOKEN does not look like a token from @BotFather "
            "(digits, a colon, then letters, digits, _ or -)."
        )
    return token


def _mode(reader: Reader, value: str) -> TelegramMode | None:
    lowered = value.lower()
    if lowered in ("polling", "webhook"):
        return cast(TelegramMode, lowered)
    reader.problem(f"TELEGRAM_MODE {shown(value)} must be polling or webhook.")
    return None


def _derived_webhook_secret(token: str) -> str:
    """Stable across restarts and replicas without one more variable to set, yet not the token
    itself, which must never travel in a header."""
    return hashlib.sha256(f"tg-webhook:{token}".encode()).hexdigest()[:48]
