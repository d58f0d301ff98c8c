"""The fake Stripe is strict where Stripe is strict — proven through the real stripe SDK."""

from __future__ import annotations

import asyncio
import base64
import copy
import functools
import json
import re
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

import aiohttp
import pytest
import stripe
from aiohttp import web
from stripe.checkout import Session
from stripe.params import _payment_intent_retrieve_params, _refund_create_params
from stripe.params.checkout import (
    _session_create_params,
    _session_list_line_items_params,
    _session_list_params,
    _session_retrieve_params,
)

from sandbox.fake_stripe import (
    BOOLEAN,
    CHECKOUT_SESSION_CREATE,
    CHECKOUT_SESSION_LIST,
    EXPAND_ONLY,
    INTEGER,
    PAGINATION,
    PAYMENT_INTENT_RETRIEVE,
    REFUND_CREATE,
    FakeStripe,
    Required,
    Schema,
    decode_params,
)

Params = dict[str, Any]


# --------------------------------------------------------------------------------------------
# fixtures and helpers
# --------------------------------------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeStripe]:
    async with FakeStripe() as fake:
        yield fake


@asynccontextmanager
async def sdk_client(
    fake: FakeStripe, *, api_key: str | None = None, retries: int = 2
) -> AsyncIterator[stripe.StripeClient]:
    http_client = stripe.AIOHTTPClient()
    try:
        yield stripe.StripeClient(
            api_key or fake.api_key,
            base_addresses={"api": fake.api_base},
            http_client=http_client,
            max_network_retries=retries,
        )
    finally:
        await http_client.close_async()  # type: ignore[no-untyped-call]  # untyped in the SDK


@pytest.fixture
async def client(fake: FakeStripe) -> AsyncIterator[stripe.StripeClient]:
    async with sdk_client(fake) as client:
        yield client


def shop_params(**overrides: Any) -> Params:
    """What the shop sends to create a Checkout Session."""
    params: Params = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 1500,
                    "product_data": {"name": "Green tea", "description": "100 g tin"},
                },
                "quantity": 2,
            }
        ],
        "client_reference_id": "order-42",
        "metadata": {"order_id": "42", "telegram_user_id": "1001"},
        "payment_intent_data": {"metadata": {"order_id": "42", "source": "telegram"}},
        "success_url": "https://shop.example/paid?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.example/cancelled",
        "expires_at": int(time.time()) + 3600,
    }
    params.update(overrides)
    return params


async def create(
    client: stripe.StripeClient, params: Params, idempotency_key: str | None = None
) -> Session:
    options: Any = {"idempotency_key": idempotency_key} if idempotency_key else {}
    sessions = client.v1.checkout.sessions
    return await sessions.create_async(cast(Any, params), options=options)


def error_type(error: stripe.StripeError) -> str:
    body = cast(dict[str, Any], error.json_body)
    return str(body["error"]["type"])


def item(params: Params, index: int = 0) -> Params:
    return cast(Params, params["line_items"][index])


def price_data(params: Params) -> Params:
    return cast(Params, item(params)["price_data"])


def product_data(params: Params) -> Params:
    return cast(Params, price_data(params)["product_data"])


# --------------------------------------------------------------------------------------------
# creating sessions
# --------------------------------------------------------------------------------------------


async def test_create_session_like_a_shop(fake: FakeStripe, client: stripe.StripeClient) -> None:
    params = shop_params()
    session = await create(client, params, "order-42-checkout")

    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert session.url == f"{fake.api_base}/c/pay/{session.id}"
    assert (session.amount_subtotal, session.amount_total, session.currency) == (3000, 3000, "usd")
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "payment")
    assert session.client_reference_id == "order-42"
    assert session.metadata is not None
    assert session.metadata.to_dict() == {"order_id": "42", "telegram_user_id": "1001"}
    assert session.success_url == params["success_url"]  # the template is kept verbatim
    assert session.expires_at == params["expires_at"]
    assert session.payment_intent is None and session.customer_details is None
    assert session.livemode is False
    assert session.last_response is not None
    assert str(session.last_response.request_id).startswith("req_")
    assert fake.sessions[session.id]["amount_total"] == 3000

    [request] = fake.requests_to("POST", "/v1/checkout/sessions")
    assert request.status == 200 and request.idempotency_key == "order-42-checkout"
    assert request.params["line_items"][0]["quantity"] == "2"  # integers travel as strings
    assert request.params["line_items"][0]["price_data"]["product_data"]["name"] == "Green tea"

    async with aiohttp.ClientSession() as http, http.get(str(session.url)) as page:
        assert page.status == 200
        assert "$30.00 usd" in await page.text()


async def test_default_expiry_is_24_hours(client: stripe.StripeClient) -> None:
    params = shop_params()
    del params["expires_at"]
    session = await create(client, params)
    assert session.expires_at - session.created == 24 * 3600


async def test_line_items_and_expansions(fake: FakeStripe, client: stripe.StripeClient) -> None:
    params = shop_params()
    params["line_items"].append(
        {
            "price_data": {"currency": "usd", "unit_amount": 250, "product_data": {"name": "Cup"}},
            "quantity": 3,
        }
    )
    session = await create(client, params)
    assert session.amount_total == 3000 + 750

    line_items = await client.v1.checkout.sessions.line_items.list_async(session.id)
    assert [li.description for li in line_items.data] == ["Green tea", "Cup"]
    assert [li.amount_total for li in line_items.data] == [3000, 750]
    assert line_items.data[1].price is not None
    assert (line_items.data[1].price.unit_amount, line_items.data[1].quantity) == (250, 3)

    expanded = await client.v1.checkout.sessions.retrieve_async(
        session.id, {"expand": ["line_items"]}
    )
    assert expanded.line_items is not None and len(expanded.line_items.data) == 2
    with pytest.raises(stripe.InvalidRequestError, match="cannot be expanded"):
        await client.v1.checkout.sessions.retrieve_async(session.id, {"expand": ["bogus"]})


async def test_minimums_follow_the_currency(client: stripe.StripeClient) -> None:
    gbp = shop_params()
    price_data(gbp).update(currency="gbp", unit_amount=30)
    item(gbp)["quantity"] = 1
    assert (await create(client, gbp)).amount_total == 30  # £0.30 is Stripe's GBP minimum

    jpy = shop_params()
    price_data(jpy).update(currency="jpy", unit_amount=50)  # zero-decimal: ¥50
    item(jpy)["quantity"] = 1
    assert (await create(client, jpy)).amount_total == 50


async def test_coupon_and_shipping_change_the_total(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    coupon = fake.add_coupon(percent_off=10)
    params = shop_params(
        discounts=[{"coupon": coupon}],
        shipping_address_collection={"allowed_countries": ["US", "GB"]},
        shipping_options=[
            {
                "shipping_rate_data": {
                    "display_name": "Post",
                    "type": "fixed_amount",
                    "fixed_amount": {"amount": 500, "currency": "usd"},
                }
            }
        ],
    )
    session = await create(client, params)
    assert session.amount_subtotal == 3000
    assert session.total_details is not None
    assert session.total_details.amount_discount == 300
    assert session.total_details.amount_shipping == 500
    assert session.amount_total == 3000 - 300 + 500


async def test_a_price_must_exist(fake: FakeStripe, client: stripe.StripeClient) -> None:
    price = fake.add_price(900, "eur", product_name="Matcha")
    session = await create(client, shop_params(line_items=[{"price": price, "quantity": 1}]))
    assert (session.amount_total, session.currency) == (900, "eur")

    with pytest.raises(stripe.InvalidRequestError) as raised:
        await create(client, shop_params(line_items=[{"price": "price_missing", "quantity": 1}]))
    assert raised.value.code == "resource_missing"
    assert raised.value.param == "line_items[0][price]"


# --------------------------------------------------------------------------------------------
# strict validation: each case is refused with Stripe's code and param, and creates nothing
# --------------------------------------------------------------------------------------------

Mutation = Callable[[Params], None]
NOW = int(time.time())


def _set(path: Callable[[Params], Params], **values: Any) -> Mutation:
    return lambda params: path(params).update(values)


def _drop(path: Callable[[Params], Params], key: str) -> Mutation:
    return lambda params: path(params).pop(key)


def _top(params: Params) -> Params:
    return params


INVALID_CASES: list[tuple[str, Mutation, str | None, str | None, str]] = [
    (
        "unknown top-level parameter (gone in this API version)",
        _set(_top, payment_method_types=["card"]),
        "payment_method_types",
        "parameter_unknown",
        "Received unknown parameter: payment_method_types",
    ),
    (
        "unknown nested parameter",
        _set(price_data, foo="bar"),
        "line_items[0][price_data][foo]",
        "parameter_unknown",
        "Received unknown parameter: line_items[0][price_data][foo]",
    ),
    (
        "expires_at too soon",
        _set(_top, expires_at=NOW + 600),
        "expires_at",
        None,
        "must be at least 30 minutes from Checkout Session creation",
    ),
    (
        "expires_at exactly 30 minutes, as computed on the client",
        lambda params: params.update(expires_at=int(time.time()) + 1800),
        "expires_at",
        None,
        "at least 30 minutes",
    ),
    (
        "expires_at too late",
        _set(_top, expires_at=NOW + 25 * 3600),
        "expires_at",
        None,
        "must be less than 24 hours",
    ),
    (
        "missing product name",
        _drop(product_data, "name"),
        "line_items[0][price_data][product_data][name]",
        "parameter_missing",
        "Missing required param: line_items[0][price_data][product_data][name].",
    ),
    (
        "empty product description",
        _set(product_data, description=""),
        "line_items[0][price_data][product_data][description]",
        "parameter_invalid_empty",
        "You passed an empty string",
    ),
    (
        "quantity 0",
        _set(item, quantity=0),
        "line_items[0][quantity]",
        "parameter_invalid_integer",
        "greater than or equal to 1",
    ),
    (
        "fractional quantity",
        _set(item, quantity=1.5),
        "line_items[0][quantity]",
        "parameter_invalid_integer",
        "Invalid integer: 1.5",
    ),
    (
        "negative unit_amount",
        _set(price_data, unit_amount=-1),
        "line_items[0][price_data][unit_amount]",
        "parameter_invalid_integer",
        "Invalid non-negative integer",
    ),
    (
        "upper-case currency",
        _set(price_data, currency="USD"),
        "line_items[0][price_data][currency]",
        None,
        "Invalid currency: USD",
    ),
    (
        "below the USD minimum",
        _set(price_data, unit_amount=20),
        "line_items",
        "amount_too_small",
        "must add up to at least $0.50 usd",
    ),
    (
        "below the GBP minimum",
        _set(price_data, unit_amount=14, currency="gbp"),
        "line_items",
        "amount_too_small",
        "£0.30 gbp",
    ),
    (
        "above the maximum",
        _set(price_data, unit_amount=60_000_000),
        "line_items",
        "amount_too_large",
        "no more than",
    ),
    (
        "success_url without a scheme",
        _set(_top, success_url="shop.example/paid"),
        "success_url",
        "url_invalid",
        "Not a valid URL",
    ),
    (
        "success_url over 5000 characters",
        _set(_top, success_url="https://shop.example/?" + "a" * 5000),
        "success_url",
        "url_invalid",
        "5000 characters or less",
    ),
    (
        "missing success_url",
        _drop(_top, "success_url"),
        "success_url",
        "parameter_missing",
        "Missing required param: success_url.",
    ),
    (
        "missing mode",
        _drop(_top, "mode"),
        "mode",
        "parameter_missing",
        "Missing required param: mode.",
    ),
    (
        "unknown mode",
        _set(_top, mode="subscriptions"),
        "mode",
        None,
        "Invalid mode: must be one of payment, setup, or subscription",
    ),
    (
        "ui_mode 'hosted' (it is 'hosted_page' in this API version)",
        _set(_top, ui_mode="hosted"),
        "ui_mode",
        None,
        "Invalid ui_mode",
    ),
    (
        "unsupported locale",
        _set(_top, locale="uk"),
        "locale",
        None,
        "Invalid locale",
    ),
    (
        "metadata key over 40 characters",
        _set(_top, metadata={"k" * 41: "v"}),
        "metadata[" + "k" * 41 + "]",
        None,
        "up to 40 characters",
    ),
    (
        "metadata value over 500 characters",
        _set(_top, metadata={"note": "v" * 501}),
        "metadata[note]",
        None,
        "up to 500 characters",
    ),
    (
        "51 metadata keys",
        _set(_top, metadata={f"k{i}": "v" for i in range(51)}),
        "metadata",
        None,
        "up to 50 keys",
    ),
    (
        "client_reference_id over 200 characters",
        _set(_top, client_reference_id="x" * 201),
        "client_reference_id",
        None,
        "at most 200 characters",
    ),
    (
        "promotion codes together with discounts",
        _set(_top, allow_promotion_codes=True, discounts=[{"coupon": "SPRING"}]),
        "allow_promotion_codes",
        "parameters_exclusive",
        "You may only specify one of these parameters: allow_promotion_codes, discounts.",
    ),
    (
        "'UK' is not a country code",
        _set(_top, shipping_address_collection={"allowed_countries": ["GB", "UK"]}),
        "shipping_address_collection[allowed_countries][1]",
        None,
        "country code",
    ),
    (
        "price and price_data together",
        _set(item, price="price_123"),
        "line_items[0][price]",
        "parameters_exclusive",
        "price, price_data",
    ),
    (
        "more than 100 line items",
        lambda params: params.update(line_items=params["line_items"] * 101),
        "line_items",
        None,
        "up to 100 line items",
    ),
    (
        "nine product images",
        _set(product_data, images=["https://shop.example/i.png"] * 9),
        "line_items[0][price_data][product_data][images]",
        None,
        "8 images",
    ),
    (
        "boolean sent as 'yes'",
        _set(_top, phone_number_collection={"enabled": "yes"}),
        "phone_number_collection[enabled]",
        None,
        "Invalid boolean: yes",
    ),
    (
        "invalid customer_email",
        _set(_top, customer_email="not-an-email"),
        "customer_email",
        "email_invalid",
        "Invalid email address",
    ),
    (
        "recurring price in payment mode",
        _set(price_data, recurring={"interval": "month"}),
        "line_items",
        None,
        "recurring price",
    ),
    (
        "payment_intent_data in setup mode",
        lambda params: params.update(mode="setup", currency="usd", line_items=None),
        "payment_intent_data",
        None,
        "only be used in `payment` mode",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "param", "code", "message"),
    [pytest.param(*case[1:], id=case[0]) for case in INVALID_CASES],
)
async def test_invalid_session_is_refused_like_stripe(
    fake: FakeStripe,
    client: stripe.StripeClient,
    mutate: Mutation,
    param: str | None,
    code: str | None,
    message: str,
) -> None:
    params = shop_params()
    mutate(params)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        await create(client, params)
    error = raised.value
    assert error.http_status == 400
    assert error.param == param
    assert error.code == code
    assert message in str(error.user_message)
    assert error_type(error) == "invalid_request_error"
    assert fake.sessions == {}


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
# reading: retrieve and list
# --------------------------------------------------------------------------------------------


async def test_retrieving_an_unknown_session(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        await client.v1.checkout.sessions.retrieve_async("cs_test_nope")
    assert raised.value.http_status == 404
    assert (raised.value.code, raised.value.param) == ("resource_missing", "session")
    assert raised.value.user_message == "No such checkout.session: 'cs_test_nope'"

    with pytest.raises(stripe.InvalidRequestError, match="Invalid checkout.session id"):
        await client.v1.checkout.sessions.retrieve_async("{CHECKOUT_SESSION_ID}")


async def test_list_is_newest_first_and_paginates(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    ids = [(await create(client, shop_params(client_reference_id=f"o{i}"))).id for i in range(3)]
    oldest, middle, newest = ids

    page = await client.v1.checkout.sessions.list_async({"limit": 2})
    assert [s.id for s in page.data] == [newest, middle]
    assert page.has_more is True and page.url == "/v1/checkout/sessions"

    rest = await client.v1.checkout.sessions.list_async({"limit": 2, "starting_after": middle})
    assert [s.id for s in rest.data] == [oldest] and rest.has_more is False

    before = await client.v1.checkout.sessions.list_async({"ending_before": oldest})
    assert [s.id for s in before.data] == [newest, middle]

    fake.expire(middle)
    open_only = await client.v1.checkout.sessions.list_async({"status": "open"})
    assert [s.id for s in open_only.data] == [newest, oldest]

    recent = await client.v1.checkout.sessions.list_async({"created": {"gte": int(time.time())}})
    assert len(recent.data) <= 3

    with pytest.raises(stripe.InvalidRequestError) as raised:
        await client.v1.checkout.sessions.list_async({"limit": 101})
    assert raised.value.param == "limit"


async def test_expire(fake: FakeStripe, client: stripe.StripeClient) -> None:
    session = await create(client, shop_params())
    expired = await client.v1.checkout.sessions.expire_async(session.id)
    assert (expired.status, expired.url) == ("expired", None)
    with pytest.raises(stripe.InvalidRequestError, match="status of `open`"):
        await client.v1.checkout.sessions.expire_async(session.id)
    with pytest.raises(ValueError, match="not open"):
        fake.pay(session.id)
    assert fake.session_event("checkout.session.expired", session.id)["data"]["object"][
        "status"
    ] == ("expired")


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


def test_make_event_envelope(fake: FakeStripe) -> None:
    event = fake.make_event("charge.refunded", {"id": "ch_1", "object": "charge"})
    assert event["id"].startswith("evt_") and event["object"] == "event"
    assert event["api_version"] == "2026-10-28.endive"
    assert event["data"] == {"object": {"id": "ch_1", "object": "charge"}}
    assert event["livemode"] is False and event["pending_webhooks"] == 1
    assert event["request"] == {"id": None, "idempotency_key": None}
    with pytest.raises(ValueError, match="not a Stripe event type"):
        fake.make_event("checkout.session.paid", {})


def _unwrap(schema: Schema) -> Schema:
    while isinstance(schema, (Required, list)):
        schema = schema.schema if isinstance(schema, Required) else schema[0]
    return schema


def assert_in_sdk(schema: dict[str, Schema], typed_dict: type[Any], path: str = "") -> None:
    """Every parameter (and enum value) the fake accepts exists in stripe-python's params."""
    module = sys.modules[typed_dict.__module__]
    hints: dict[str, Any] = typed_dict.__annotations__
    for name, sub in schema.items():
        where = f"{path}[{name}]" if path else name
        assert name in hints, f"{where} is not a Stripe parameter ({typed_dict.__name__})"
        annotation = str(hints[name])
        leaf = _unwrap(sub)
        if isinstance(leaf, tuple):
            for value in leaf:
                assert f"'{value}'" in annotation, f"{where}={value!r} is not a Stripe value"
        elif isinstance(leaf, dict):
            match = re.search(r"([A-Z]\w*Params\w+)", annotation)
            assert match, f"{where}: no nested params class in {annotation}"
            assert_in_sdk(leaf, getattr(module, match.group(1)), where)
        elif leaf in (INTEGER, BOOLEAN):
            expected = "int" if leaf == INTEGER else "bool"
            assert expected in annotation, f"{where} is not {expected} in the SDK: {annotation}"


@pytest.mark.parametrize(
    ("schema", "typed_dict"),
    [
        (CHECKOUT_SESSION_CREATE, _session_create_params.SessionCreateParams),
        (CHECKOUT_SESSION_LIST, _session_list_params.SessionListParams),
        (PAGINATION, _session_list_line_items_params.SessionListLineItemsParams),
        (EXPAND_ONLY, _session_retrieve_params.SessionRetrieveParams),
        (PAYMENT_INTENT_RETRIEVE, _payment_intent_retrieve_params.PaymentIntentRetrieveParams),
        (REFUND_CREATE, _refund_create_params.RefundCreateParams),
    ],
)
def test_schema_tables_only_accept_real_stripe_parameters(
    schema: dict[str, Schema], typed_dict: type[Any]
) -> None:
    assert_in_sdk(schema, typed_dict)


def test_schema_check_would_catch_a_made_up_parameter() -> None:
    made_up: dict[str, Schema] = copy.deepcopy(CHECKOUT_SESSION_CREATE)
    made_up["payment_method_types"] = ["string"]
    with pytest.raises(AssertionError, match="payment_method_types is not a Stripe parameter"):
        assert_in_sdk(made_up, _session_create_params.SessionCreateParams)


async def test_list_filters_are_each_applied_exactly(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    """Reconciliation trusts `status` and `created` to leave nothing out and let nothing extra
    in: each bound is applied as documented, a bound Stripe does not know is refused, and a
    filter on an id no session carries matches none."""
    start = 1_900_000_000
    ids = []
    for offset in range(4):
        fake.clock = functools.partial(float, start + offset * 60)
        ids.append((await create(client, shop_params(expires_at=start + 7200))).id)
    fake.pay(ids[1])
    fake.pay(ids[3])
    sessions = client.v1.checkout.sessions

    async def listed(params: Params) -> list[str]:
        return [s.id for s in (await sessions.list_async(cast(Any, params))).data]

    assert await listed({"status": "complete"}) == [ids[3], ids[1]]
    assert await listed({"status": "complete", "created": {"gte": start + 60}}) == [
        ids[3],
        ids[1],
    ]
    assert await listed({"status": "complete", "created": {"gt": start + 60}}) == [ids[3]]
    assert await listed({"created": {"gte": start + 60, "lt": start + 180}}) == [ids[2], ids[1]]
    assert await listed({"created": {"lte": start}}) == [ids[0]]
    assert await listed({"created": start + 120}) == [ids[2]]
    assert await listed({"customer_account": "acct_1"}) == []
    with pytest.raises(stripe.InvalidRequestError) as raised:
        await sessions.list_async(cast(Any, {"created": {"after": start}}))
    assert raised.value.param == "created[after]" and raised.value.code == "parameter_unknown"


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
