"""Authentication, idempotency, faults, rate limits and the wire format, as Stripe answers them."""

from __future__ import annotations

import asyncio
import base64

import aiohttp
import pytest
import stripe

from sandbox.fake_stripe import FakeStripe, decode_params
from tests.stripe_standin.sdk import create, error_type, sdk_client, shop_params

# --------------------------------------------------------------------------------------------
# authentication, idempotency, faults, rate limits
# --------------------------------------------------------------------------------------------


async def test_wrong_key_is_an_authentication_error(fake: FakeStripe) -> None:
    wrong = "sk_test_this_is_not_the_key_9876"
    async with sdk_client(fake, api_key=wrong) as client:
        with pytest.raises(stripe.AuthenticationError) as raised:
            await create(client, shop_params())
    assert raised.value.http_status == 401
    message = str(raised.value.user_message)
    assert message.startswith("Invalid API Key provided: sk_test_")
    assert message.endswith("9876") and wrong not in message
    assert fake.sessions == {}


async def test_missing_key_and_basic_auth(fake: FakeStripe) -> None:
    url = f"{fake.api_base}/v1/checkout/sessions"
    basic = base64.b64encode(f"{fake.api_key}:".encode()).decode()
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as response:
            assert response.status == 401
            body = await response.json()
            assert "You did not provide an API key" in body["error"]["message"]
        async with http.get(url, headers={"Authorization": f"Basic {basic}"}) as response:
            assert response.status == 200
            assert (await response.json())["object"] == "list"


async def test_idempotent_replay_returns_the_same_session(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    params = shop_params()
    first = await create(client, params, "order-42")
    again = await create(client, params, "order-42")

    assert again.id == first.id
    assert len(fake.sessions) == 1
    assert again.last_response is not None
    assert again.last_response.headers.get("idempotent-replayed") == "true"
    assert [r.replayed for r in fake.requests_to("POST", "/v1/checkout/sessions")] == [
        False,
        True,
    ]


async def test_same_key_with_different_params_is_an_idempotency_error(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    await create(client, shop_params(), "order-42")
    with pytest.raises(stripe.IdempotencyError) as raised:
        await create(client, shop_params(client_reference_id="order-43"), "order-42")
    assert raised.value.http_status == 400
    assert "Try using a key other than 'order-42'" in str(raised.value.user_message)
    assert error_type(raised.value) == "idempotency_error"
    assert len(fake.sessions) == 1

    with pytest.raises(stripe.IdempotencyError, match="same endpoint"):
        await client.v1.refunds.create_async(
            {"payment_intent": "pi_x"}, options={"idempotency_key": "order-42"}
        )


async def test_a_failed_validation_does_not_burn_the_key(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        await create(client, shop_params(mode="bogus"), "order-42")
    session = await create(client, shop_params(), "order-42")
    assert list(fake.sessions) == [session.id]


async def test_429_is_a_rate_limit_error_and_is_not_retried(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    fake.fail_next("POST", "/v1/checkout/sessions", status=429)
    with pytest.raises(stripe.RateLimitError) as raised:
        await create(client, shop_params())
    assert raised.value.http_status == 429
    assert raised.value.error is not None and raised.value.error.code == "rate_limit"
    assert len(fake.requests_to("POST", "/v1/checkout/sessions")) == 1  # no SDK retry
    assert fake.sessions == {}

    await create(client, shop_params())  # the fault was used up
    assert len(fake.sessions) == 1


async def test_500_is_retried_with_the_same_idempotency_key(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    fake.fail_next("POST", "/v1/checkout/sessions", times=2, status=500)
    session = await create(client, shop_params())  # no explicit key: the SDK makes one

    attempts = fake.requests_to("POST", "/v1/checkout/sessions")
    assert [r.status for r in attempts] == [500, 500, 200]
    assert len({r.idempotency_key for r in attempts}) == 1
    assert attempts[0].idempotency_key is not None
    assert list(fake.sessions) == [session.id]


async def test_500_without_retries_is_an_api_error(fake: FakeStripe) -> None:
    fake.fail_next("GET", "/v1/checkout/sessions", status=503)
    async with sdk_client(fake, retries=0) as client:
        with pytest.raises(stripe.APIError) as raised:
            await client.v1.checkout.sessions.list_async()
    assert raised.value.http_status == 503
    assert len(fake.requests) == 1


async def test_optional_rate_limit() -> None:
    async with FakeStripe(rate_limit_per_second=2) as fake, sdk_client(fake) as client:
        await create(client, shop_params())
        await create(client, shop_params())
        with pytest.raises(stripe.RateLimitError, match="Request rate limit exceeded"):
            await create(client, shop_params())
        assert fake.rate_limited == 1
        assert len(fake.sessions) == 2
        await client.v1.checkout.sessions.list_async()  # reads are not limited
        await asyncio.sleep(1.05)
        await create(client, shop_params())
        assert len(fake.sessions) == 3


# --------------------------------------------------------------------------------------------
# transport, events, and the schema itself
# --------------------------------------------------------------------------------------------


def test_decode_bracket_notation() -> None:
    pairs = [
        ("line_items[0][price_data][currency]", "usd"),
        ("line_items[0][quantity]", "2"),
        ("line_items[1][price]", "price_1"),
        ("metadata[order_id]", "12"),
        ("metadata[0]", "zero"),
        ("shipping_address_collection[allowed_countries][0]", "US"),
        ("shipping_address_collection[allowed_countries][1]", "GB"),
        ("expand[]", "line_items"),
        ("expand[]", "payment_intent"),
        ("created[gte]", "1700000000"),
    ]
    assert decode_params(pairs) == {
        "line_items": [{"price_data": {"currency": "usd"}, "quantity": "2"}, {"price": "price_1"}],
        "metadata": {"order_id": "12", "0": "zero"},
        "shipping_address_collection": {"allowed_countries": ["US", "GB"]},
        "expand": ["line_items", "payment_intent"],
        "created": {"gte": "1700000000"},
    }
    assert decode_params([("a[2]", "x"), ("a[5]", "y")]) == {"a": {"2": "x", "5": "y"}}


async def test_every_response_has_a_request_id(fake: FakeStripe) -> None:
    auth = {"Authorization": f"Bearer {fake.api_key}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{fake.api_base}/v1/foo", headers=auth) as response:
            assert response.status == 404
            assert response.headers["Request-Id"].startswith("req_")
            error = (await response.json())["error"]
            assert error["type"] == "invalid_request_error"
            assert error["message"].startswith("Unrecognized request URL (GET: /v1/foo).")
        async with http.get(f"{fake.api_base}/v1/checkout/sessions") as response:
            assert response.status == 401
            assert response.headers["Request-Id"].startswith("req_")
        body = "mode=payment&line_items[0][price_data][currency]=usd&expand[]=line_items"
        headers = {**auth, "Content-Type": "application/x-www-form-urlencoded"}
        post = http.post(f"{fake.api_base}/v1/checkout/sessions", data=body, headers=headers)
        async with post as response:
            assert response.status == 400
            assert response.headers["Request-Id"].startswith("req_")
            assert (await response.json())["error"]["code"] == "parameter_missing"
