"""What the HTTP edge needs from the shop, as plain callables wired by the app factory.

The edge never imports the shop, save shop/i18n.py: the languages its pages speak. It reports
a bad request by the shop raising `ValueError` (answered 400); any other exception from an event
handler means "ours but not recorded" (5xx, so Stripe retries).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shop.i18n import Languages

# The buyer-facing state the /success and /cancel pages report: "paid", "processing",
# "failed", "expired", "cancelled", "refunded" or "unpaid".
PaymentState = str


@dataclass(frozen=True)
class OrderPage:
    """What the buyer's page says about one of our orders, as plain values: its state, the
    language the buyer ordered in (None: the shop's default) and its money."""

    state: PaymentState
    language: str | None
    currency: str
    paid: int  # minor units: what the buyer paid (or is paying), discounts taken off
    refunded: int


@dataclass(frozen=True)
class Health:
    """Each part's readiness (database, bot) and, when one is not ready, why — for the operator
    reading /healthz. `warnings` are worth a look but do not make the shop unready (Stripe
    events waiting long to be applied: they are recorded, and still retried)."""

    checks: dict[str, bool]
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ShopPorts:
    # A verified event and the body it was read from: returns once it is durably recorded (or
    # knowingly ignored).
    record_stripe_event: Callable[[Mapping[str, Any], bytes], Awaitable[None]]
    fulfil_session: Callable[[str], Awaitable[OrderPage | None]]  # None: not our session
    feed_telegram_update: Callable[[dict[str, Any]], Awaitable[None]]
    health: Callable[[], Awaitable[Health]]
    bot_username: Callable[[], str | None]
    # (order, token) of the link; None: no such order, or not its token
    cancel_checkout: Callable[[str, str], Awaitable[OrderPage | None]]
    # The shop's languages, for the pages: the order's, else one the browser asks for.
    languages: Languages
    # Where "back to the bot" links point: t.me, or the sandbox's own stand-in for it.
    telegram_link_base: str = "https://t.me/"
