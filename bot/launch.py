"""Whether `python -m bot` starts the shop or the sandbox: decided here and nowhere else.

The sandbox plays the whole shop against local stand-ins and lets anyone who reaches its page
play the admin. Started on what is really a production configuration with one secret missing
(a failed secret injection), it would drain the real outbox into a stand-in, show real orders
and report healthy. So (CONTRACT.md, "Running"): it starts by itself only when not one
production setting is present; with any of them present the shop starts, and a missing
credential is the usual list of problems. SANDBOX=1 starts the sandbox on purpose (which then
refuses a foreign database and a public address, see sandbox/settings.py), SANDBOX=0 never.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.config import ConfigError, configured_values, parse_bool

__all__ = ["PRODUCTION_SETTINGS", "Launch", "choose_launch"]

# Any one of these means someone meant to run the real shop here.
PRODUCTION_SETTINGS = (
    "TELEGRAM_BOT_TOKEN",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "PUBLIC_BASE_URL",
    "ADMIN_IDS",
    "DATABASE_URL",
)


@dataclass(frozen=True)
class Launch:
    """What to start, and why: `on_purpose` is SANDBOX=1, `forbidden` SANDBOX=0, `present`
    the production settings that were found."""

    sandbox: bool
    on_purpose: bool
    forbidden: bool
    present: tuple[str, ...]

    @property
    def sandbox_hint(self) -> str | None:
        """The line under a configuration error that says how to get the sandbox instead."""
        if self.forbidden:
            return None
        return (
            "To play the shop with local stand-ins for Telegram and Stripe instead, start the "
            "sandbox on purpose: SANDBOX=1 make run (it ignores these settings and runs on its "
            "own scratch database, so it refuses to start while DATABASE_URL is set)."
        )


def choose_launch(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Launch:
    """Read SANDBOX and the production settings (the environment over `.env`); ConfigError
    when SANDBOX is not a yes/no value. A malformed `.env` is left for whichever start follows
    to report with everything else."""
    values, _ = configured_values(environ, env_file)
    present = tuple(name for name in PRODUCTION_SETTINGS if name in values)
    flag = values.get("SANDBOX")
    if flag is None:
        return Launch(sandbox=not present, on_purpose=False, forbidden=False, present=present)
    wanted = parse_bool(flag)
    if wanted is not None:
        return Launch(sandbox=wanted, on_purpose=wanted, forbidden=not wanted, present=present)
    raise ConfigError(
        [
            f"SANDBOX “{flag[:20]}” is not a yes/no value: 1 starts the sandbox, 0 never "
            "starts it, unset starts it only when no production setting is present."
        ]
    )
