"""What the HTTP edge needs from the shop, as plain callables wired by the app factory.

The edge never imports the shop. It reports a bad request by the shop raising `ValueError`
(answered 400); any other exception from an event handler means "ours but not recorded" (5xx, so
Stripe retries).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

# The buyer-facing state the /success and /cancel pages report: "paid", "processing",
# "failed", "expired", "refunded", "unpaid", "cancelled" (only /cancel) or "unknown".
PaymentState = str


@dataclass(frozen=True)
class Health:
    """Each part's readiness (database, bot) and, when one is not ready, why — for the operator
    reading /healthz."""

    checks: dict[str, bool]
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class ShopPorts:
    handle_stripe_event: Callable[[Mapping[str, Any]], Awaitable[None]]  # a verified event
    fulfil_session: Callable[[str], Awaitable[PaymentState]]
    feed_telegram_update: Callable[[dict[str, Any]], Awaitable[None]]
    health: Callable[[], Awaitable[Health]]
    bot_username: Callable[[], str | None]
    cancel_checkout: Callable[[str, str], Awaitable[PaymentState]]  # (order, token) of the link
    # Where "back to the bot" links point: t.me, or the sandbox's own stand-in for it.
    telegram_link_base: str = "https://t.me/"
