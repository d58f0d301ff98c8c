"""The one place that talks to Stripe: an async `StripeClient` over an explicit aiohttp client."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast

import stripe
from stripe.params.checkout import SessionCreateParams

from storage.models import Order, Product, ProductKind

log = logging.getLogger(__name__)

# The SDK retries connection errors, 409 and 5xx under the same idempotency key; a plain 429
# is never retried by the SDK (it raises RateLimitError).
NETWORK_RETRIES = 3
REQUEST_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class CheckoutSettings:
    public_base_url: str
    allow_promotion_codes: bool
    shipping_countries: tuple[str, ...]


@dataclass(frozen=True)
class CheckoutLink:
    session_id: str
    url: str
    expires_at: int


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    amount: int
    currency: str
    status: str


class StripeGateway:
    def __init__(self, api_key: str, api_base: str) -> None:
        self._http = stripe.AIOHTTPClient(timeout=REQUEST_TIMEOUT_SECONDS)
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base},
            http_client=self._http,
            max_network_retries=NETWORK_RETRIES,
        )

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]

    async def create_checkout_session(
        self, order: Order, product: Product, settings: CheckoutSettings
    ) -> CheckoutLink:
        """One session per order; the order's random ref is the idempotency key, so a retry
        after a timeout returns the session Stripe already made instead of a second one."""
        session = await self._client.v1.checkout.sessions.create_async(
            checkout_session_params(order, product, settings),
            {"idempotency_key": f"checkout-{order.ref}"},
        )
        if not session.url:
            raise stripe.APIError("Checkout Session came back without a url")
        return CheckoutLink(session.id, session.url, session.expires_at)

    async def create_refund(
        self, payment_intent_id: str, amount: int | None, idempotency_key: str
    ) -> RefundResult:
        """Refund all (amount None) or part of a payment; the key makes a retry safe."""
        params: stripe.params.RefundCreateParams = {"payment_intent": payment_intent_id}
        if amount is not None:
            params["amount"] = amount
        refund = await self._client.v1.refunds.create_async(
            params, {"idempotency_key": idempotency_key}
        )
        return RefundResult(refund.id, refund.amount, refund.currency, refund.status or "pending")

    async def payment_intent_metadata(self, payment_intent_id: str) -> dict[str, str]:
        intent = await self._client.v1.payment_intents.retrieve_async(payment_intent_id)
        metadata = intent.to_dict().get("metadata") or {}
        return {str(key): str(value) for key, value in metadata.items()}

    async def retrieve_checkout_session(self, session_id: str) -> stripe.checkout.Session:
        return await self._client.v1.checkout.sessions.retrieve_async(session_id)


def checkout_session_params(
    order: Order, product: Product, settings: CheckoutSettings
) -> SessionCreateParams:
    """Everything from our database — never from what the client sent."""
    metadata = {"order_id": str(order.id), "order_ref": order.ref}
    product_data: stripe.params.checkout.SessionCreateParamsLineItemPriceDataProductData = {
        "name": order.product_title,
    }
    if product.description.strip():
        product_data["description"] = product.description[:500]
    base = settings.public_base_url
    params: SessionCreateParams = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": order.quantity,
                "price_data": {
                    "currency": order.currency,
                    "unit_amount": order.unit_amount,
                    "product_data": product_data,
                },
            }
        ],
        "client_reference_id": str(order.id),
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "success_url": f"{base}/success?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{base}/cancel?order={order.id}",
        "expires_at": order.expires_at,
        "allow_promotion_codes": settings.allow_promotion_codes,
    }
    if product.kind is ProductKind.PHYSICAL:
        params["shipping_address_collection"] = {
            "allowed_countries": cast(Any, list(settings.shipping_countries))
        }
    return params
