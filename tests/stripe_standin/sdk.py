"""Helpers for driving the Stripe stand-in through the real stripe SDK, as the shop does."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import stripe
from stripe.checkout import Session

from sandbox.fake_stripe import FakeStripe

Params = dict[str, Any]


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
