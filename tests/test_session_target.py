"""The one rule for where a Checkout Session takes its order, shared by the webhook, the success
page and reconciliation (they used to keep two copies of it)."""

from __future__ import annotations

import pytest

from bot.stripe_objects import session_facts
from storage.models import OrderStatus


@pytest.mark.parametrize(
    ("status", "payment_status", "target"),
    [
        ("open", "unpaid", None),
        ("complete", "paid", OrderStatus.PAID),
        ("complete", "no_payment_required", OrderStatus.PAID),  # a 100 % promotion code
        ("complete", "unpaid", OrderStatus.PROCESSING),  # a delayed method being confirmed
        ("expired", "unpaid", OrderStatus.EXPIRED),
    ],
)
def test_where_a_session_takes_its_order(
    status: str, payment_status: str, target: OrderStatus | None
) -> None:
    facts = session_facts(
        {
            "object": "checkout.session",
            "id": "cs_test_1",
            "status": status,
            "payment_status": payment_status,
            "metadata": {"order_id": "7", "order_ref": "abc"},
        }
    )
    assert facts.target_status is target
