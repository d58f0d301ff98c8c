"""The Stripe settings: the secret key, the webhook endpoint's signing secret, the API base."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config.problems import Reader
from bot.config.values import url_setting

__all__ = ["DEFAULT_STRIPE_API_BASE", "StripeAccount", "read_stripe"]

DEFAULT_STRIPE_API_BASE = "https://api.stripe.com"
_STRIPE_KEY_PREFIXES = ("sk_test_", "sk_live_", "rk_test_", "rk_live_")


@dataclass(frozen=True)
class StripeAccount:
    """What was read; a secret is None only when a problem about it was recorded."""

    secret_key: str | None
    webhook_secret: str | None
    api_base: str


def read_stripe(reader: Reader) -> StripeAccount:
    """STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET and STRIPE_API_BASE."""
    key = reader.required(
        "STRIPE_SECRET_KEY", "copy a secret key (sk_test_… or sk_live_…) from the Stripe Dashboard."
    )
    if key is not None and not key.startswith(_STRIPE_KEY_PREFIXES):
        hint = (
            " That is a publishable key; the server needs the secret one."
            if key.startswith("pk_")
            else ""
        )
        reader.problem(
            "STRIPE_SECRET_KEY must start with sk_test_, sk_live_, rk_test_ or rk_live_." + hint
        )
    whsec = reader.required(
        "STRIPE_WEBHOOK_SECRET",
        "copy the signing secret (whsec_…) of this server's webhook endpoint in Stripe.",
    )
    if whsec is not None and not whsec.startswith("whsec_"):
        reader.problem(
            "STRIPE_WEBHOOK_SECRET must start with whsec_ (the endpoint's signing secret)."
        )
    api_base = url_setting(reader, "STRIPE_API_BASE", DEFAULT_STRIPE_API_BASE, strip_slash=True)
    return StripeAccount(key, whsec, api_base)
