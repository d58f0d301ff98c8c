"""At start: is this machine's clock close to Stripe's? A skewed clock fails silently otherwise.

Stripe signs each webhook with its own time and the SDK refuses a signature older than five
minutes by our clock, so a clock 6 minutes fast answers every event 400; Stripe checks a
session's `expires_at` against its clock, so a slow clock makes short links too short for it
(checkout keeps some room for that, see `CLOCK_SKEW_ALLOWANCE_SECONDS`). Nothing else would
say why; this check says it once, loudly, at start.
"""

from __future__ import annotations

import logging

import stripe

from shop.checkout import CLOCK_SKEW_ALLOWANCE_SECONDS
from shop.gateways.stripe_gateway import StripeGateway

log = logging.getLogger(__name__)

WARN_BEYOND_SECONDS = 60.0
WEBHOOK_TOLERANCE_SECONDS = stripe.Webhook.DEFAULT_TOLERANCE


async def warn_if_skewed(gateway: StripeGateway) -> float | None:
    """Compare our clock with Stripe's and log a warning (an error when it already breaks
    something) beyond a minute. The offset, or None when Stripe could not be asked."""
    try:
        offset = await gateway.clock_offset()
    except stripe.StripeError as error:
        log.info("clock check skipped: Stripe did not answer (%s)", type(error).__name__)
        return None
    if offset is None:
        log.info("clock check skipped: Stripe's answer carried no Date header")
        return None
    if abs(offset) > WARN_BEYOND_SECONDS:
        level, consequence = _consequence(offset)
        log.log(
            level,
            "CLOCK SKEW: this machine's clock is %.0f s %s Stripe's. %s Fix the clock "
            "(enable NTP, e.g. `timedatectl set-ntp true`).",
            abs(offset),
            "ahead of" if offset > 0 else "behind",
            consequence,
        )
    return offset


def _consequence(offset: float) -> tuple[int, str]:
    """What the skew breaks, and whether it breaks it already (ERROR) or soon (WARNING)."""
    if offset > 0:
        broken = offset > WEBHOOK_TOLERANCE_SECONDS
        return (
            logging.ERROR if broken else logging.WARNING,
            f"Stripe's webhooks are refused once they look older than "
            f"{WEBHOOK_TOLERANCE_SECONDS} s{' — that is every one of them now' if broken else ''}.",
        )
    broken = -offset > CLOCK_SKEW_ALLOWANCE_SECONDS
    return (
        logging.ERROR if broken else logging.WARNING,
        f"Payment links end early by that much, and beyond {CLOCK_SKEW_ALLOWANCE_SECONDS} s "
        "Stripe refuses links near its 30-minute minimum (CHECKOUT_EXPIRES_MINUTES).",
    )
