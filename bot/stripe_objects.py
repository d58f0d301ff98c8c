"""Stripe objects as this shop reads them: checked for shape, reduced to what we use.

Events arrive as untrusted JSON (signed, but for a schema we do not control), so every field is
type-checked here and anything that is not what we expect raises ValueError — a 400, not a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


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


def session_facts(obj: Mapping[str, Any]) -> SessionFacts:
    """Parse a checkout.session; ValueError when it is not one."""
    if obj.get("object") != "checkout.session" or not isinstance(obj.get("id"), str):
        raise ValueError("not a checkout.session object")
    metadata = obj.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        raise ValueError("metadata is not an object")
    raw_order = metadata.get("order_id")
    order_id = int(raw_order) if isinstance(raw_order, str) and raw_order.isdigit() else None
    intent = obj.get("payment_intent")
    if isinstance(intent, Mapping):  # expanded
        intent = intent.get("id")
    amount = obj.get("amount_total")
    return SessionFacts(
        session_id=obj["id"],
        order_id=order_id,
        order_ref=_str_or_none(metadata.get("order_ref")),
        status=_str_or_none(obj.get("status")),
        payment_status=_str_or_none(obj.get("payment_status")),
        amount_total=amount if isinstance(amount, int) else None,
        currency=_str_or_none(obj.get("currency")),
        payment_intent=_str_or_none(intent),
        livemode=bool(obj.get("livemode")),
        shipping_address=_shipping_address(obj),
    )


def _shipping_address(obj: Mapping[str, Any]) -> str | None:
    """The collected shipping address as lines for people (API 2026: collected_information)."""
    collected = obj.get("collected_information")
    details = collected.get("shipping_details") if isinstance(collected, Mapping) else None
    if not isinstance(details, Mapping):
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


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None
