"""Where the shop is reached: its public address (pages, webhooks) and where it listens."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config.problems import PLACEHOLDER, Reader
from bot.config.telegram_bot import TelegramBot
from bot.config.values import url_problem, whole_number

__all__ = ["PublicAddress", "read_public_address"]


@dataclass(frozen=True)
class PublicAddress:
    """What was read; `public_base_url` is None only when it is missing (a recorded problem)."""

    public_base_url: str | None
    host: str
    port: int


def read_public_address(reader: Reader, telegram: TelegramBot) -> PublicAddress:
    """PUBLIC_BASE_URL (checked against Telegram's webhook rules), HOST and PORT."""
    public_base_url = reader.required(
        "PUBLIC_BASE_URL", "give the public https:// address where this server is reachable."
    )
    if public_base_url is not None:
        problem = url_problem("PUBLIC_BASE_URL", public_base_url)
        if problem is None and PLACEHOLDER in public_base_url:
            problem = (
                "PUBLIC_BASE_URL still holds the placeholder from .env.example; "
                "give this server's public address."
            )
        if problem is None:
            problem = telegram.webhook_url_problem(public_base_url)
        if problem:
            reader.problem(problem)
        public_base_url = public_base_url.rstrip("/")
    host = reader.raw("HOST") or "0.0.0.0"
    port = reader.parsed("PORT", 8080, whole_number(reader, "PORT", 1, 65535, ""))
    return PublicAddress(public_base_url, host, port)
