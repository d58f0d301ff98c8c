"""Paying, events and their signatures, webhooks, promotion codes and refunds."""

from __future__ import annotations

import json
import re
import time
from typing import Any, cast

import pytest
import stripe
from aiohttp import web

from sandbox.fake_stripe import FakeStripe
from tests.stripe_standin.sdk import Params, create, shop_params

# --------------------------------------------------------------------------------------------
# paying, webhooks, refunds
# --------------------------------------------------------------------------------------------


async def test_paid_session_event_verifies_with_the_sdk(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    session = await create(client, shop_params())
    with pytest.raises(ValueError, match="would not send"):
        fake.session_event("checkout.session.completed", session.id)
    paid = fake.pay(session.id)
    assert (paid["status"], paid["payment_status"]) == ("complete", "paid")

    event = fake.session_event("checkout.session.completed", session.id)
    assert event["api_version"] == "2026-10-28.endive"
    body = json.dumps(event, indent=2).encode()
    header = fake.sign(body)
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)

    verified = stripe.Webhook.construct_event(body, header, fake.webhook_secret, tolerance=300)
    assert verified.type == "checkout.session.completed"
    completed = verified.data.object
    assert completed["id"] == session.id and completed["payment_status"] == "paid"
    assert completed["payment_intent"] == paid["payment_intent"]
    assert completed["collected_information"]["shipping_details"] is None

    tampered = body.replace(b'"paid"', b'"unpaid"')
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(tampered, header, fake.webhook_secret, tolerance=300)
    stale = fake.sign(body, timestamp=int(time.time()) - 301)
    with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
        stripe.Webhook.construct_event(body, stale, fake.webhook_secret, tolerance=300)
    forged = fake.sign(body, secret="whsec_someone_else")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, forged, fake.webhook_secret, tolerance=300)


async def test_payment_intent_carries_payment_intent_data_metadata(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    session = await create(client, shop_params())
    paid = fake.pay(session.id)
    intent = await client.v1.payment_intents.retrieve_async(
        paid["payment_intent"], {"expand": ["latest_charge"]}
    )
    assert intent.status == "succeeded" and intent.amount == 3000
    # payment_intent_data.metadata, not the session's metadata
    assert intent.metadata.to_dict() == {"order_id": "42", "source": "telegram"}
    assert isinstance(intent.latest_charge, stripe.Charge)
    assert intent.latest_charge.metadata.to_dict() == {"order_id": "42", "source": "telegram"}

    with pytest.raises(stripe.InvalidRequestError) as raised:
        await client.v1.payment_intents.retrieve_async("pi_unknown")
    assert (raised.value.http_status, raised.value.param) == (404, "intent")


async def test_deliver_posts_a_signed_event_to_the_webhook(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    received: list[stripe.Event] = []

    async def webhook(request: web.Request) -> web.Response:
        assert request.content_type == "application/json"
        body = await request.read()
        try:
            event = stripe.Webhook.construct_event(
                body, request.headers.get("Stripe-Signature"), fake.webhook_secret
            )
        except stripe.SignatureVerificationError:
            return web.Response(status=400, text="bad signature")
        received.append(event)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/stripe/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        fake.webhook_url = f"http://127.0.0.1:{runner.addresses[0][1]}/stripe/webhook"
        session = await create(client, shop_params())
        fake.pay(session.id)
        event = fake.session_event("checkout.session.completed", session.id)

        assert await fake.deliver(event) == (200, "ok")
        assert await fake.deliver(event, secret="whsec_wrong") == (400, "bad signature")
        assert await fake.deliver(event, signature="t=1,v1=deadbeef") == (400, "bad signature")
        old = int(time.time()) - 3600
        assert await fake.deliver(event, timestamp=old) == (400, "bad signature")
        assert [e.id for e in received] == [event["id"]]
    finally:
        await runner.cleanup()


async def test_delayed_payment_settles_later(fake: FakeStripe, client: stripe.StripeClient) -> None:
    good = await create(client, shop_params())
    bad = await create(client, shop_params())
    for session in (good, bad):
        pending = fake.pay(session.id, payment_status="unpaid")
        assert (pending["status"], pending["payment_status"]) == ("complete", "unpaid")
        assert fake.payment_intents[pending["payment_intent"]]["status"] == "processing"
    with pytest.raises(ValueError, match="would not send"):
        fake.session_event("checkout.session.async_payment_succeeded", good.id)

    assert fake.settle(good.id, succeeded=True)["payment_status"] == "paid"
    fake.session_event("checkout.session.async_payment_succeeded", good.id)

    assert fake.settle(bad.id, succeeded=False)["payment_status"] == "unpaid"
    fake.session_event("checkout.session.async_payment_failed", bad.id)
    with pytest.raises(stripe.InvalidRequestError, match="does not have a successful charge"):
        await client.v1.refunds.create_async(
            {"payment_intent": str(fake.sessions[bad.id]["payment_intent"])}
        )


async def test_refunds_partial_then_full_then_too_much(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    session = await create(client, shop_params())
    intent_id = str(fake.pay(session.id)["payment_intent"])

    partial = await client.v1.refunds.create_async(
        {"payment_intent": intent_id, "amount": 1000, "reason": "requested_by_customer"}
    )
    assert partial.id.startswith("re_")
    assert (partial.amount, partial.status, partial.currency) == (1000, "succeeded", "usd")
    assert partial.payment_intent == intent_id and partial.charge is not None

    event = fake.refund_event(intent_id)
    assert event["type"] == "charge.refunded"
    assert event["data"]["object"]["amount_refunded"] == 1000
    assert event["data"]["object"]["refunded"] is False
    assert event["data"]["previous_attributes"] == {"amount_refunded": 0}

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        await client.v1.refunds.create_async({"payment_intent": intent_id, "amount": 2001})
    assert (too_much.value.code, too_much.value.param) == ("amount_too_large", "amount")
    assert "greater than unrefunded amount on charge ($20.00)" in str(too_much.value.user_message)

    rest = await client.v1.refunds.create_async({"payment_intent": intent_id})
    assert rest.amount == 2000  # no amount: whatever is left
    full = fake.refund_event(intent_id)["data"]
    assert (full["object"]["amount_refunded"], full["object"]["refunded"]) == (3000, True)
    assert full["previous_attributes"] == {"amount_refunded": 1000, "refunded": False}

    with pytest.raises(stripe.InvalidRequestError) as again:
        await client.v1.refunds.create_async({"payment_intent": intent_id})
    assert again.value.code == "charge_already_refunded"
    charge = await client.v1.charges.retrieve_async(str(partial.charge))
    assert (charge.amount_refunded, charge.refunded) == (3000, True)


async def test_refund_parameters_are_validated(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    session = await create(client, shop_params())
    intent_id = str(fake.pay(session.id)["payment_intent"])
    charge_id = str(fake.payment_intents[intent_id]["latest_charge"])
    cases: list[tuple[Params, str | None, str | None]] = [
        ({"payment_intent": intent_id, "reason": "changed_mind"}, "reason", None),
        ({"payment_intent": intent_id, "amount": 0}, "amount", "parameter_invalid_integer"),
        ({"payment_intent": intent_id, "charge": charge_id}, "charge", "parameters_exclusive"),
        ({"payment_intent": "pi_nope"}, "payment_intent", "resource_missing"),
        ({"amount": 100}, None, "parameter_missing"),
        ({"payment_intent": intent_id, "amount": 3001}, "amount", "amount_too_large"),
    ]
    for params, param, code in cases:
        with pytest.raises(stripe.InvalidRequestError) as raised:
            await client.v1.refunds.create_async(cast(Any, params))
        assert (raised.value.param, raised.value.code) == (param, code), params
    assert fake.refunds == {}


def test_make_event_envelope(fake: FakeStripe) -> None:
    event = fake.make_event("charge.refunded", {"id": "ch_1", "object": "charge"})
    assert event["id"].startswith("evt_") and event["object"] == "event"
    assert event["api_version"] == "2026-10-28.endive"
    assert event["data"] == {"object": {"id": "ch_1", "object": "charge"}}
    assert event["livemode"] is False and event["pending_webhooks"] == 1
    assert event["request"] == {"id": None, "idempotency_key": None}
    with pytest.raises(ValueError, match="not a Stripe event type"):
        fake.make_event("checkout.session.paid", {})


async def test_a_promotion_code_typed_on_the_page_discounts_the_payment(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    """With allow_promotion_codes the buyer types a code: Checkout lowers the line items' and
    the session's totals, reports the discount in total_details, and charges the new total."""
    quarter = fake.add_promotion_code(fake.add_coupon(percent_off=25), "SPRING25")
    fake.add_promotion_code(fake.add_coupon(percent_off=100), "FREE")
    session = await create(client, shop_params(allow_promotion_codes=True))
    with pytest.raises(ValueError, match="not a valid promotion code"):
        fake.pay(session.id, promotion_code="WINTER")
    paid = fake.pay(session.id, promotion_code="spring25")  # Stripe ignores the case

    assert (paid["amount_subtotal"], paid["amount_total"]) == (3000, 2250)
    assert paid["total_details"] == {"amount_discount": 750, "amount_shipping": 0, "amount_tax": 0}
    assert paid["discounts"] == [{"coupon": None, "promotion_code": quarter}]
    items = await client.v1.checkout.sessions.line_items.list_async(session.id)
    assert [(li.amount_subtotal, li.amount_discount, li.amount_total) for li in items.data] == [
        (3000, 750, 2250)
    ]
    intent = fake.payment_intents[paid["payment_intent"]]
    assert intent["amount"] == 2250 and fake.charges[intent["latest_charge"]]["amount"] == 2250

    without = await create(client, shop_params())
    with pytest.raises(ValueError, match="does not offer a promotion code"):
        fake.pay(without.id, promotion_code="SPRING25")
    free = fake.pay(
        (await create(client, shop_params(allow_promotion_codes=True))).id, promotion_code="FREE"
    )
    assert (free["amount_total"], free["payment_status"], free["payment_intent"]) == (
        0,
        "no_payment_required",
        None,
    )
