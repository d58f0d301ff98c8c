"""How configuration problems are collected and reported: one message that lists them all.

An operator who starts the shop with a half-filled configuration should see every mistake in
one message and fix them in one go, never a traceback and never one problem per restart. So each
setting's parser records its problem on the `Reader` and carries on with the default, and only
the end of the reading raises `ConfigError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TypeVar

__all__ = ["BOT_TOKEN_SHAPE", "PLACEHOLDER", "ConfigError", "Reader", "shown"]

# The marker .env.example puts in each value that must be filled in, so an unedited copy fails
# loudly instead of starting a bot that cannot work.
PLACEHOLDER = "replace-with"
BOT_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")
"""What a token from @BotFather looks like: checked on TELEGRAM_BOT_TOKEN, and hidden anywhere
else it turns up in a message."""

_T = TypeVar("_T")


class ConfigError(Exception):
    """The configuration cannot start the shop; `problems` holds one sentence per mistake."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        lines = ["Configuration is incomplete or invalid:"]
        lines += [f"  - {problem}" for problem in self.problems]
        lines.append("See .env.example for every variable, its default and what it means.")
        return "\n".join(lines)


def _looks_secret(value: str) -> bool:
    return bool(
        BOT_TOKEN_SHAPE.match(value)
        or value.startswith(("sk_", "rk_", "pk_", "whsec_"))
        or re.search(r"//[^/@\s]*:[^/@\s]*@", value)
    )


def shown(value: str) -> str:
    """Quote a bad value back to the operator, unless it might be a secret pasted in the wrong
    variable: a log of the error message must never leak a key."""
    if _looks_secret(value):
        return "(value hidden: it looks like a secret)"
    return f"“{value[:80]}{'…' if len(value) > 80 else ''}”"


class Reader:
    """Looks values up (environment first, then `.env`) and collects problems as it goes."""

    def __init__(self, environ: Mapping[str, str], file_values: Mapping[str, str]) -> None:
        self.environ = environ
        self.file_values = file_values
        self.problems: list[str] = []

    def raw(self, name: str) -> str | None:
        """The value, stripped; empty counts as unset because `FOO=` in a template means
        "not filled in yet"."""
        for source in (self.environ, self.file_values):
            value = source.get(name)
            if value is not None and value.strip():
                return value.strip()
        return None

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def required(self, name: str, hint: str) -> str | None:
        value = self.raw(name)
        if value is None:
            self.problem(f"{name} is missing: {hint}")
        return value

    def parsed(self, name: str, default: _T, parse: Callable[[str], _T | None]) -> _T:
        """`parse` returns None after recording its own problem; the default then stands in so
        that later checks still run and report."""
        value = self.raw(name)
        if value is None:
            return default
        result = parse(value)
        return default if result is None else result

    def report_placeholders(self, names: tuple[str, ...]) -> None:
        """Name each of these variables that still holds .env.example's placeholder."""
        for name in names:
            if PLACEHOLDER in (self.raw(name) or ""):
                self.problem(
                    f"{name} still holds the placeholder from .env.example; put the real one."
                )
