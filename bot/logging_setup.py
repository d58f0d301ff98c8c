"""Logging that never prints a secret (tokens and keys are masked in every record) and that
shows the shop's own story: our loggers at LOG_LEVEL, third-party libraries at WARNING."""

from __future__ import annotations

import logging
from collections.abc import Iterable


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
OWN_LOGGERS = ("bot", "webhooks", "storage", "sandbox", "bench")
# Libraries speak up only for trouble: at INFO, apscheduler logs every job added and removed,
# the Stripe SDK and httpx every request (httpx's URLs even carry the bot token), aiohttp every
# access. A stricter LOG_LEVEL (ERROR, CRITICAL) applies to them too.
THIRD_PARTY_LEVEL = logging.WARNING


def configure(level: str, secrets: Iterable[str]) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    ours = logging.getLevelName(level)
    root.setLevel(max(ours, THIRD_PARTY_LEVEL))
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(ours)
