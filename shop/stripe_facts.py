"""Stripe objects as this shop reads them: checked for shape, reduced to what we use.

Events arrive as untrusted JSON (signed, but for a schema we do not control), so every field is
type-checked here and anything that is not what we expect raises ValueError — a 400, not a crash.
Fields that moved between API versions are read in every shape Stripe has used, so an endpoint
left on an older version (or `stripe listen` without `--latest`) loses nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from shop.ids import parse_id
from storage.models import OrderStatus

_LARGEST_AMOUNT = 2**63 - 1  # SQLite's INTEGER
# Longer ids and types than this are not Stripe's (theirs are a few dozen characters).
_LONGEST_TEXT = 255


@dataclass(frozen=True)
class SessionFacts:
    """What we need from a checkout.session object, checked for shape."""

    session_id: str
    order_id: int | None
    order_ref: str | None
    status: str | None
    payment_status: str | None
    amount_total: int | None
    currency: str | None
    payment_intent: str | None
    livemode: bool
    shipping_address: str | None = None
    amount_subtotal: int | None = None
    # From `total_details`: what explains the difference between subtotal and total.
    amount_discount: int = 0
    amount_shipping: int = 0
    amount_tax: int = 0

    @property
    def ours(self) -> bool:
        """Whether the session carries our order reference at all (whether it matches one of
        our orders is for the caller to check against the order)."""
        return _carries_reference(self.order_id, self.order_ref)

    @property
    def adds_up(self) -> bool:
        """Whether Stripe's figures agree with each other: total = subtotal - discount +
        shipping + tax (Stripe's own identity for a Checkout Session)."""
        if self.amount_total is None or self.amount_subtotal is None:
            return False
        explained = (
            self.amount_subtotal - self.amount_discount + self.amount_shipping + self.amount_tax
        )
        return explained == self.amount_total


def target_status(facts: SessionFacts) -> OrderStatus | None:
    """Where a session takes its order: paid (or nothing to pay), expired, or completed with
    the payment still being confirmed (delayed methods); None when it says nothing new. The one
    rule for the webhook, the success page and the reconciliation."""
    if facts.payment_status in ("paid", "no_payment_required"):
        return OrderStatus.PAID
    if facts.status == "expired":
        return OrderStatus.EXPIRED
    if facts.status == "complete":
        return OrderStatus.PROCESSING
    return None


@dataclass(frozen=True)
class SessionReference:
    """Which session, and which of our orders it says it was made for (not checked against
    the order yet: `SessionFacts.ours`)."""

    session_id: str
    order_id: int | None
    order_ref: str | None

    @property
    def ours(self) -> bool:
        """As `SessionFacts.ours`."""
        return _carries_reference(self.order_id, self.order_ref)


def _carries_reference(order_id: int | None, order_ref: str | None) -> bool:
    """An event is ours only when it carries our own order reference (DESIGN, point 4)."""
    return order_id is not None and order_ref is not None


def session_reference(obj: Mapping[str, Any]) -> SessionReference:
    """The part of a checkout.session that can make it malformed (ValueError), read alone: the
    webhook checks this much before recording an event; `session_facts` reads the rest, which
    is never malformed (a field of the wrong type reads as missing)."""
    if obj.get("object") != "checkout.session" or not isinstance(obj.get("id"), str):
        raise ValueError("not a checkout.session object")
    metadata = obj.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        raise ValueError("metadata is not an object")
    return SessionReference(
        obj["id"], parse_id(metadata.get("order_id")), _str_or_none(metadata.get("order_ref"))
    )


def session_facts(obj: Mapping[str, Any]) -> SessionFacts:
    """Parse a checkout.session; ValueError when it is not one."""
    reference = session_reference(obj)
    intent = obj.get("payment_intent")
    if isinstance(intent, Mapping):  # expanded
        intent = intent.get("id")
    details = obj.get("total_details")
    details = details if isinstance(details, Mapping) else {}
    return SessionFacts(
        session_id=reference.session_id,
        order_id=reference.order_id,
        order_ref=reference.order_ref,
        status=_str_or_none(obj.get("status")),
        payment_status=_str_or_none(obj.get("payment_status")),
        amount_total=_amount(obj.get("amount_total")),
        currency=_str_or_none(obj.get("currency")),
        payment_intent=_str_or_none(intent),
        livemode=bool(obj.get("livemode")),
        shipping_address=_shipping_address(obj),
        amount_subtotal=_amount(obj.get("amount_subtotal")),
        amount_discount=_amount(details.get("amount_discount")) or 0,
        amount_shipping=_amount(details.get("amount_shipping")) or 0,
        amount_tax=_amount(details.get("amount_tax")) or 0,
    )


def _shipping_details(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The collected name and address in whichever shape the event's API version uses:
    `collected_information.shipping_details` (2025-02-24.acacia and later, the only one since
    2025-03-31.basil), top-level `shipping_details` (2022-08-01 to acacia) or `shipping`
    (before 2022-08-01). All three hold the same {name, address}."""
    collected = obj.get("collected_information")
    candidates = [
        collected.get("shipping_details") if isinstance(collected, Mapping) else None,
        obj.get("shipping_details"),
        obj.get("shipping"),
    ]
    return next((c for c in candidates if isinstance(c, Mapping)), None)


def _shipping_address(obj: Mapping[str, Any]) -> str | None:
    """The collected shipping address as lines for people."""
    details = _shipping_details(obj)
    if details is None:
        return None
    address = details.get("address")
    address = address if isinstance(address, Mapping) else {}
    city_line = " ".join(
        str(address[k]) for k in ("postal_code", "city") if isinstance(address.get(k), str)
    )
    parts = [
        details.get("name"),
        address.get("line1"),
        address.get("line2"),
        city_line,
        address.get("state"),
        address.get("country"),
    ]
    lines = [str(part).strip() for part in parts if isinstance(part, str) and part.strip()]
    return "\n".join(lines) or None


def _amount(value: object) -> int | None:
    """An amount in minor units: a whole number from 0 up to what a database column holds
    (JSON `true`, a negative or an absurd number is none — and so never matches an order)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value <= _LARGEST_AMOUNT else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def order_key(order_id: int) -> str:
    """The inbox's sequencing key for the events of one order (storage/inbox.py): they are
    applied one after another."""
    return f"order:{order_id}"


def storable_text(value: object) -> TypeGuard[str]:
    """A non-empty string of a sane length that a database can store: one lone surrogate
    (valid JSON, `"\\ud800"`) cannot be encoded, and would fail the whole inbox batch it is
    written with."""
    if not isinstance(value, str) or not value or len(value) > _LONGEST_TEXT:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True
