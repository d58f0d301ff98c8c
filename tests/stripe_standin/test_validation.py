"""Strict validation: a bad session is refused with Stripe's code and param and creates nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import stripe

from sandbox.fake_stripe import FakeStripe
from tests.stripe_standin.sdk import (
    Params,
    create,
    error_type,
    item,
    price_data,
    product_data,
    shop_params,
)

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
