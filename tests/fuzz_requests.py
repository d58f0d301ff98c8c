"""The webhook fuzzer's vocabulary: how many requests of each kind, the request and its outcome,
and the world (orders, sessions, users) the generated requests refer to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.fake_stripe import FakeStripe

SEED = 20261126
# How many requests of each family; the sum is the ≥ 10,000 the issue asks for.
STRIPE_UNSIGNED = 4300
TELEGRAM_UNSIGNED = 1900
STRIPE_SIGNED = 3000
TELEGRAM_SIGNED = 1000
CONCURRENCY = 12
TG_SECRET = "Fuzz_secret-token_0123456789"
TG_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 256 * 1024
TABLES = (
    "products",
    "orders",
    "stripe_inbox",
    "stripe_events",
    "deliveries",
    "stock_items",
    "refunds",
)
HANDLED = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "charge.refunded",
)
SESSION_TYPES = HANDLED[:4]
UNHANDLED = ("customer.created", "payment_intent.succeeded", "invoice.paid", "x.y", "")
# Nesting beyond this makes json.loads raise RecursionError instead of ValueError.
DEEP = 5000

JSON = dict[str, Any]


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class Req:
    """One generated request and what may come back."""

    family: str  # stripe_unsigned, telegram_unsigned, stripe_signed, telegram_signed
    label: str  # what kind of input, for the statistics
    path: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    raw_headers: bytes | None = None  # header lines as raw bytes: sent over a plain socket
    expect: frozenset[int] | None = None  # the only statuses allowed; None: any non-5xx

    def describe(self) -> str:
        head = self.raw_headers if self.raw_headers is not None else list(self.headers)
        return f"{self.family}/{self.label} {self.path} headers={head!r} body={self.body[:300]!r}"


@dataclass
class Outcome:
    req: Req
    status: int | None
    error: str = ""


@dataclass
class OrderFacts:
    """A real order the signed phase may target with correct or wrong facts."""

    id: int
    ref: str
    amount_total: int
    currency: str
    session_id: str | None
    payment_intent: str | None


@dataclass
class World:
    stripe: FakeStripe
    orders: list[OrderFacts]
    product_ids: list[int]
    foreign_intent: str
    buyers: list[int]
    order_ids: set[int] = field(default_factory=set)
