"""Events rendered for an older Stripe API version than the SDK pins lose nothing, and say so
in the log (issue 10, item 7): the shipping address has lived in three places over the years."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import stripe

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from shop import payments
from storage.models import ProductKind
from tests.conftest import ADMIN_ID, BUYER_ID
from tests.story import checkout, order_of, settled

ADDRESS = {
    "name": "Ada Lovelace",
    "address": {"line1": "12 St James's Sq", "city": "London", "country": "GB"},
}


@pytest.fixture(autouse=True)
def no_version_warned_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts as a fresh process would: no API version warned about yet."""
    monkeypatch.setattr(payments, "_OTHER_VERSIONS_SEEN", set())


def in_older_shape(event: dict[str, Any], field: str, version: str) -> dict[str, Any]:
    """The event as Stripe renders it for an endpoint on `version`: the collected address at
    the top-level `field` instead of `collected_information.shipping_details`."""
    session = event["data"]["object"]
    details = session["collected_information"]["shipping_details"]
    session.pop("collected_information")
    session[field] = details
    return event | {"api_version": version}


@pytest.mark.parametrize(
    ("field", "version"),
    [("shipping_details", "2024-06-20"), ("shipping", "2020-08-27")],
)
async def test_an_address_in_an_older_shape_reaches_the_admin(
    app: ShopApp,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    caplog: pytest.LogCaptureFixture,
    field: str,
    version: str,
) -> None:
    caplog.set_level(logging.WARNING, logger="shop.payments")
    _, session_id = await checkout(
        app, telegram, stripe_api, BUYER_ID, title="Mug", kind=ProductKind.PHYSICAL
    )
    stripe_api.pay(session_id, shipping=ADDRESS)
    event = stripe_api.session_event("checkout.session.completed", session_id)
    assert (await stripe_api.deliver(in_older_shape(event, field, version)))[0] == 200

    alert = await telegram.wait_for(ADMIN_ID, lambda m: "New sale" in (m.text or ""))
    assert "Ada Lovelace\n12 St James's Sq\nLondon\nGB" in (alert.text or "")
    assert "not collected" not in (alert.text or "")
    await settled(app)
    order = await order_of(app, session_id)
    assert order.shipping_address == "Ada Lovelace\n12 St James's Sq\nLondon\nGB"
    warnings = [r.getMessage() for r in caplog.records if version in r.getMessage()]
    assert len(warnings) == 1 and stripe.api_version in warnings[0]

    # The same version again is not warned about twice.
    _, second = await checkout(
        app, telegram, stripe_api, BUYER_ID, title="Cup", kind=ProductKind.PHYSICAL
    )
    stripe_api.pay(second, shipping=ADDRESS)
    event = stripe_api.session_event("checkout.session.completed", second)
    assert (await stripe_api.deliver(in_older_shape(event, field, version)))[0] == 200
    await settled(app)
    assert (await order_of(app, second)).shipping_address == order.shipping_address
    assert len([r for r in caplog.records if version in r.getMessage()]) == 1


async def test_an_event_in_the_pinned_version_is_not_warned_about(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="shop.payments")
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID)
    stripe_api.pay(session_id)
    event = stripe_api.session_event("checkout.session.completed", session_id)
    assert event["api_version"] == stripe.api_version
    assert (await stripe_api.deliver(event))[0] == 200
    await settled(app)
    assert not [r for r in caplog.records if "API version" in r.getMessage()]
