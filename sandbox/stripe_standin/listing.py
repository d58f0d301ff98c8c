"""The list endpoints' filters and cursor pagination, as Stripe documents them."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.stripe_standin.errors import exclusive, invalid, no_such
from sandbox.stripe_standin.schema import RANGE_BOUNDS


def matches(session: dict[str, Any], params: dict[str, Any]) -> bool:
    """Whether a session passes every filter given to the list endpoint — each one, exactly
    as documented: `created` (a timestamp or gt/gte/lt/lte bounds), `status`, the ids
    (a session with none never matches one) and `customer_details[email]`."""
    created = params.get("created")
    if isinstance(created, int) and session["created"] != created:
        return False
    if isinstance(created, dict) and not all(
        RANGE_BOUNDS[name](session["created"], bound) for name, bound in created.items()
    ):
        return False
    ids = ("payment_intent", "customer", "customer_account", "payment_link", "subscription")
    for name in ("status", *ids):
        if name in params and session.get(name) != params[name]:
            return False
    email = params.get("customer_details", {}).get("email")
    details = session["customer_details"] or {}
    return email is None or details.get("email") == email


def paginate(
    objects: list[dict[str, Any]], params: dict[str, Any], url: str, kind: str
) -> dict[str, Any]:
    limit = params.get("limit", 10)
    if not 1 <= limit <= 100:
        raise invalid(
            "This value must be greater than or equal to 1 and less than or equal to 100.",
            "limit",
            "parameter_invalid_integer",
        )
    if "starting_after" in params and "ending_before" in params:
        raise exclusive("ending_before", "starting_after")
    ids = [obj["id"] for obj in objects]
    if "starting_after" in params:
        cursor = params["starting_after"]
        if cursor not in ids:
            raise no_such(kind, cursor, "starting_after")
        rest = objects[ids.index(cursor) + 1 :]
        page, has_more = rest[:limit], len(rest) > limit
    elif "ending_before" in params:
        cursor = params["ending_before"]
        if cursor not in ids:
            raise no_such(kind, cursor, "ending_before")
        before = objects[: ids.index(cursor)]
        page, has_more = before[-limit:], len(before) > limit
    else:
        page, has_more = objects[:limit], len(objects) > limit
    return {
        "object": "list",
        "data": copy.deepcopy(page),
        "has_more": has_more,
        "url": url,
    }
