"""The settings the sandbox runs the real shop with, and what it refuses to run on.

Whether the sandbox starts at all is bot.launch's decision. Once it does, it runs on its own
scratch database (wiped at every start: the stand-ins keep their state in memory, so an older
order would point at a Checkout Session nobody knows) and never opens another one, and it
listens on a loopback address unless SANDBOX_ALLOW_PUBLIC=1 (its page lets anyone play the
admin). Everything else goes through `load_settings`, so the sandbox runs on exactly the
settings type and checks production uses.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import (
    ConfigError,
    Settings,
    configured_values,
    database_target,
    load_settings,
    parse_bool,
)
from sandbox.personas import ADMIN
from storage.db import SqliteFile

__all__ = ["SCRATCH_DATABASE", "Credentials", "is_loopback", "sandbox_settings"]

SCRATCH_DATABASE = Path("data/sandbox.db")
SANDBOX_HOST = "127.0.0.1"
# What a visitor may still tune; credentials, URLs, mode and admins are the sandbox's own.
_PASSTHROUGH = (
    "HOST",
    "PORT",
    "DEFAULT_CURRENCY",
    "LOG_LEVEL",
    "ALLOW_PROMOTION_CODES",
    "SHIPPING_COUNTRIES",
    "CHECKOUT_EXPIRES_MINUTES",
    "NOTIFY_EXPIRED",
)


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


def is_loopback(host: str) -> bool:
    """Whether HOST keeps the server on this machine (0.0.0.0 and :: are every interface)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _values(environ: Mapping[str, str] | None, env_file: Path | None) -> dict[str, str]:
    values, problems = configured_values(environ, env_file)
    if problems:
        raise ConfigError(problems)
    return values


def _refusals(given: Mapping[str, str], scratch: Path) -> tuple[list[str], bool]:
    """What the sandbox will not run on, and whether SANDBOX_ALLOW_PUBLIC is on."""
    problems: list[str] = []
    allow_public = parse_bool(given.get("SANDBOX_ALLOW_PUBLIC", "false"))
    if allow_public is None:
        problems.append("SANDBOX_ALLOW_PUBLIC is not a yes/no value: use true or false.")
    host = given.get("HOST", SANDBOX_HOST)
    if not allow_public and not is_loopback(host):
        problems.append(
            f"HOST {host[:60]} would let anyone who reaches this machine play the sandbox's "
            "admin and its buyers: the sandbox listens on 127.0.0.1, ::1 or localhost unless "
            "SANDBOX_ALLOW_PUBLIC=1 (then also set PUBLIC_BASE_URL to the address visitors use)."
        )
    url = given.get("DATABASE_URL")
    if url is not None and not _names_scratch(url, scratch):
        problems.append(
            "DATABASE_URL is set, but the sandbox runs only on its own scratch database "
            f"(sqlite:///{scratch}, wiped at every start) and never opens another one; "
            "unset DATABASE_URL (in the environment and in .env) to start the sandbox."
        )
    return problems, bool(allow_public)


def _names_scratch(url: str, scratch: Path) -> bool:
    try:
        target = database_target(url)
    except ConfigError:
        return False
    return isinstance(target, SqliteFile) and target.path.resolve() == scratch.resolve()


def sandbox_settings(
    credentials: Credentials,
    *,
    telegram_api_base_url: str,
    stripe_api_base: str,
    environ: Mapping[str, str] | None = None,
    env_file: Path | None = Path(".env"),
    scratch: Path = SCRATCH_DATABASE,
) -> Settings:
    """Settings for the real shop, pointed at the stand-ins and the scratch database;
    ConfigError lists bad values and what the sandbox refuses to run on."""
    given = _values(environ, env_file)
    refusals, allow_public = _refusals(given, scratch)
    chosen = {name: given[name] for name in _PASSTHROUGH if name in given}
    port = chosen.get("PORT", "8080")
    # A bad PORT is reported once, as PORT, not again through PUBLIC_BASE_URL.
    shown_port = port if re.fullmatch(r"[0-9]{1,5}", port) and int(port) > 0 else "8080"
    public = given.get("PUBLIC_BASE_URL") if allow_public else None
    try:
        settings = load_settings(
            {
                **chosen,
                "HOST": chosen.get("HOST", SANDBOX_HOST),
                "DATABASE_URL": f"sqlite:///{scratch}",
                "TELEGRAM_BOT_TOKEN": credentials.bot_token,
                "TELEGRAM_API_BASE_URL": telegram_api_base_url,
                "TELEGRAM_MODE": "polling",
                "STRIPE_SECRET_KEY": credentials.stripe_key,
                "STRIPE_WEBHOOK_SECRET": credentials.webhook_secret,
                "STRIPE_API_BASE": stripe_api_base,
                "PUBLIC_BASE_URL": public or f"http://localhost:{shown_port}",
                "ADMIN_IDS": str(ADMIN.user_id),
            },
            env_file=None,
        )
    except ConfigError as error:
        raise ConfigError([*refusals, *error.problems]) from None
    if refusals:
        raise ConfigError(refusals)
    return settings
