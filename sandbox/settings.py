"""When to start the sandbox, and the settings it runs the real shop with.

The contract: no TELEGRAM_BOT_TOKEN and no STRIPE_SECRET_KEY at all means sandbox; one without
the other is a half-done configuration and stays an error. SANDBOX=1 forces the sandbox (real
credentials are then ignored) and SANDBOX=0 forbids it. Everything else goes through
`load_settings`, so the sandbox runs on exactly the settings type and checks production uses.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings, read_env_file, sandbox_requested
from sandbox.personas import ADMIN

__all__ = ["SCRATCH_DATABASE", "Credentials", "sandbox_settings", "sandbox_wanted"]

SANDBOX_DATABASE_URL = "sqlite:///data/sandbox.db"
# The stand-ins keep their state in memory, so their default database starts afresh with them:
# an order from an earlier start would point at a Checkout Session nobody knows any more.
SCRATCH_DATABASE = Path("data/sandbox.db")
SANDBOX_HOST = "127.0.0.1"  # the page lets anyone play the admin: keep it on this machine
# What a visitor may still tune; credentials, URLs, mode and admins are the sandbox's own.
_PASSTHROUGH = (
    "HOST",
    "PORT",
    "DATABASE_URL",
    "DEFAULT_CURRENCY",
    "LOG_LEVEL",
    "ALLOW_PROMOTION_CODES",
    "SHIPPING_COUNTRIES",
    "CHECKOUT_EXPIRES_MINUTES",
    "NOTIFY_EXPIRED",
)
_YES = frozenset({"1", "true", "yes", "on"})
_NO = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True)
class Credentials:
    """Fresh credentials per start, shaped like real ones so every config check still runs."""

    bot_id: int = field(default_factory=lambda: 6_000_000_000 + secrets.randbelow(10**9))
    token_secret: str = field(default_factory=lambda: secrets.token_urlsafe(27), repr=False)
    stripe_key: str = field(
        default_factory=lambda: f"sk_test_sandbox_{secrets.token_hex(12)}", repr=False
    )
    webhook_secret: str = field(
        default_factory=lambda: f"whsec_sandbox_{secrets.token_hex(16)}", repr=False
    )

    @property
    def bot_token(self) -> str:
        return f"{self.bot_id}:{self.token_secret}"


def _values(environ: Mapping[str, str] | None, env_file: Path | None) -> dict[str, str]:
    """The environment over `.env`, empty values dropped (they count as unset)."""
    merged = dict(read_env_file(env_file)) if env_file is not None else {}
    merged.update(os.environ if environ is None else environ)
    return {key: value.strip() for key, value in merged.items() if value.strip()}


def sandbox_wanted(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> bool:
    """Whether `python -m bot` should start the sandbox rather than the configured shop."""
    flag = _values(environ, env_file).get("SANDBOX")
    if flag is None:
        return sandbox_requested(environ, env_file)
    if flag.lower() in _YES:
        return True
    if flag.lower() in _NO:
        return False
    raise ConfigError(
        [
            f"SANDBOX “{flag[:20]}” is not a yes/no value: 1 starts the sandbox, "
            "0 never starts it, unset decides by whether credentials are set."
        ]
    )


def sandbox_settings(
    credentials: Credentials,
    *,
    telegram_api_base_url: str,
    stripe_api_base: str,
    environ: Mapping[str, str] | None = None,
    env_file: Path | None = Path(".env"),
) -> Settings:
    """Settings for the real shop, pointed at the stand-ins; ConfigError lists bad values."""
    given = _values(environ, env_file)
    chosen = {name: given[name] for name in _PASSTHROUGH if name in given}
    port = chosen.get("PORT", "8080")
    # A bad PORT is reported once, as PORT, not again through PUBLIC_BASE_URL.
    shown_port = port if re.fullmatch(r"[0-9]{1,5}", port) and int(port) > 0 else "8080"
    return load_settings(
        {
            **chosen,
            "HOST": chosen.get("HOST", SANDBOX_HOST),
            "DATABASE_URL": chosen.get("DATABASE_URL", SANDBOX_DATABASE_URL),
            "TELEGRAM_BOT_TOKEN": credentials.bot_token,
            "TELEGRAM_API_BASE_URL": telegram_api_base_url,
            "TELEGRAM_MODE": "polling",
            "STRIPE_SECRET_KEY": credentials.stripe_key,
            "STRIPE_WEBHOOK_SECRET": credentials.webhook_secret,
            "STRIPE_API_BASE": stripe_api_base,
            "PUBLIC_BASE_URL": f"http://localhost:{shown_port}",
            "ADMIN_IDS": str(ADMIN.user_id),
        },
        env_file=None,
    )
