"""Logging that never prints a secret or a buyer's personal data.

Tokens and keys are masked in every record. Buyers' names, e-mail and postal addresses reach the
libraries' DEBUG lines (the Stripe SDK's request and response bodies, python-telegram-bot's
updates and API parameters, aiosqlite's SQL parameters), so at DEBUG those lines keep their
wording and lose their data; the shop's own lines carry ids, never a buyer's details.
The shop's own story stays readable: our loggers at LOG_LEVEL, third-party libraries at WARNING.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from typing import IO, Any


class RedactSecrets(logging.Filter):
    """Replace each secret's text in the final message (the bot token sits in API URLs)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = message
        for secret in self._secrets:
            redacted = redacted.replace(secret, f"{secret[:4]}…[redacted]")
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            for secret in self._secrets:
                text = text.replace(secret, f"{secret[:4]}…[redacted]")
            record.exc_text, record.exc_info = text, None
        return True


# The project's own top-level packages: their loggers follow LOG_LEVEL.
OWN_LOGGERS = ("bot", "shop", "webhooks", "storage", "sandbox", "bench")
# Libraries speak up only for trouble: at INFO, apscheduler logs every job added and removed,
# the Stripe SDK and httpx every request (httpx's URLs even carry the bot token), aiohttp every
# access. A stricter LOG_LEVEL (ERROR, CRITICAL) applies to them too.
THIRD_PARTY_LEVEL = logging.WARNING


# Libraries whose DEBUG lines carry the data they send and receive (a second line of defence:
# they are held at THIRD_PARTY_LEVEL anyway).
THIRD_PARTY = ("telegram", "stripe", "aiosqlite", "aiohttp", "httpx", "httpcore", "apscheduler")
_KEPT_ARG = re.compile(r"[a-z][A-Za-z0-9_.]{0,63}")  # API method and module names, not data
_STRIPE_MESSAGE = re.compile(r"(?:^| )message=('[^']*'|\"[^\"]*\"|\S+)")


class KeepPersonalDataOut(logging.Filter):
    """A third-party DEBUG line keeps its wording; its data (bodies, parameters, updates,
    SQL arguments) becomes "…". Numbers and lower-case identifiers such as `sendMessage` stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.INFO and record.name.split(".")[0] in THIRD_PARTY:
            record.msg, record.args = _outline(record), None
            record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def _outline(record: logging.LogRecord) -> str:
    text = str(record.msg)
    if record.name.split(".")[0] == "stripe":  # `key=value` text, bodies included
        found = _STRIPE_MESSAGE.search(text)
        return f"message={found.group(1)} …" if found else "…"
    if not record.args:
        return text  # the libraries' own wording (they pass data as arguments)
    args = record.args if isinstance(record.args, tuple) else (record.args,)
    try:
        return text % tuple(_shown(arg) for arg in args)
    except (TypeError, ValueError):  # a mapping format or a mismatch: keep the wording only
        return text.split("%", 1)[0] + "…"


def _shown(arg: Any) -> Any:
    if isinstance(arg, bool | int | float):
        return arg
    if isinstance(arg, str) and _KEPT_ARG.fullmatch(arg):
        return arg
    return "…"


def configure(level: str, secrets: Iterable[str], stream: IO[str] | None = None) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(KeepPersonalDataOut())
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    ours = logging.getLevelName(level)
    root.setLevel(max(ours, THIRD_PARTY_LEVEL))
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(ours)
    if os.environ.pop("STRIPE_LOG", None):  # the SDK would print raw bodies to stderr itself
        logging.getLogger(__name__).warning("STRIPE_LOG is ignored: it prints buyers' data")
