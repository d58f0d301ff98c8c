"""The Stripe stand-in's public names, where tests, the bench and the sandbox import them from.

The stand-in itself lives in sandbox/stripe_standin/ (one module per concern); see
sandbox/stripe_standin/server.py for what it does and how strict it is.
"""

from __future__ import annotations

from sandbox.stripe_standin.errors import ApiError
from sandbox.stripe_standin.params import decode_params
from sandbox.stripe_standin.records import FakeRequest
from sandbox.stripe_standin.reference import (
    API_VERSION,
    COUNTRIES,
    CURRENCIES,
    MAX_AMOUNT,
    MAX_LINE_ITEMS,
    MAX_SESSION_LIFE_SECONDS,
    MIN_SESSION_LIFE_SECONDS,
    MINIMUM_AMOUNTS,
    THREE_DECIMAL,
    ZERO_DECIMAL,
    format_amount,
)
from sandbox.stripe_standin.schema import (
    BOOLEAN,
    CHECKOUT_SESSION_CREATE,
    CHECKOUT_SESSION_LIST,
    EXPAND_ONLY,
    INTEGER,
    PAGINATION,
    PAYMENT_INTENT_RETRIEVE,
    REFUND_CREATE,
    Required,
    Schema,
)
from sandbox.stripe_standin.server import FakeStripe

__all__ = [
    "API_VERSION",
    "BOOLEAN",
    "CHECKOUT_SESSION_CREATE",
    "CHECKOUT_SESSION_LIST",
    "COUNTRIES",
    "CURRENCIES",
    "EXPAND_ONLY",
    "INTEGER",
    "MAX_AMOUNT",
    "MAX_LINE_ITEMS",
    "MAX_SESSION_LIFE_SECONDS",
    "MINIMUM_AMOUNTS",
    "MIN_SESSION_LIFE_SECONDS",
    "PAGINATION",
    "PAYMENT_INTENT_RETRIEVE",
    "REFUND_CREATE",
    "THREE_DECIMAL",
    "ZERO_DECIMAL",
    "ApiError",
    "FakeRequest",
    "FakeStripe",
    "Required",
    "Schema",
    "decode_params",
    "format_amount",
]
