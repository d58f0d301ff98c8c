"""The one place that talks to Stripe: an async `StripeClient` over an explicit aiohttp client."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, cast

import stripe
from stripe.params.checkout import SessionCreateParams

from shop.gateways.slots import LocalSchedule, SlotGranter, SlotSchedule
from shop.i18n import stripe_locale
from storage.models import Order, OrderLine, Product

log = logging.getLogger(__name__)

# The SDK retries connection errors, 409 and 5xx under the same idempotency key; a plain 429
# is never retried by the SDK (it raises RateLimitError) — `_with_backoff` does that.
NETWORK_RETRIES = 3
REQUEST_TIMEOUT_SECONDS = 30
# Stripe allows about 25 Checkout Session creations per second per account; stay just under it
# so a flash sale queues here instead of collecting 429s. With several instances they take their
# slots from one schedule in the database (bot/app.py), so together they keep this rate.
SESSION_CREATES_PER_SECOND = 24
CREATE_PRIORITY = 0  # every creation is a buyer waiting for a link: first come, first served
MAX_WAITING_CREATES = 2000
BACKOFF_ATTEMPTS = 8
BACKOFF_FIRST_SECONDS = 0.25
BACKOFF_MAX_SECONDS = 8.0
THROTTLE_MEMORY_SECONDS = 10.0


class StripeBusy(Exception):
    """Too many buyers are already waiting for a payment link; try again in a minute."""


def _transient(error: stripe.StripeError) -> bool:
    """Worth another try under the same idempotency key: throttling, outages, timeouts."""
    if isinstance(error, stripe.RateLimitError | stripe.APIConnectionError):
        return True
    return isinstance(error, stripe.APIError) and (error.http_status or 500) >= 500


@dataclass(frozen=True)
class CheckoutSettings:
    public_base_url: str
    allow_promotion_codes: bool
    shipping_countries: tuple[str, ...]
    # Signs each order's cancel link (a server secret: STRIPE_WEBHOOK_SECRET).
    cancel_key: bytes = field(default=b"", repr=False)


def budget_name(api_key: str) -> str:
    """The name of the account's session-creation budget among the shared send budgets: a
    digest of the key (never the key itself), the same for every instance using it. Stripe
    counts test and live mode apart, as their keys are."""
    return "stripe:" + hashlib.sha256(api_key.encode()).hexdigest()[:16]


def cancel_token(key: bytes, order_ref: str) -> str:
    """The secret only the buyer's own cancel link carries, so a guessed or copied
    `/cancel?order=N` cannot end someone else's order. Derived (HMAC of the order's random
    ref) rather than stored: the same for every retry of the session's creation, and nothing
    to migrate. Compare it with `hmac.compare_digest`."""
    return hmac.new(key, f"cancel-link:{order_ref}".encode(), hashlib.sha256).hexdigest()[:32]


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
        # One every 1/24 s, evenly spaced: a bucket of 24 would burst past Stripe's window.
        self._creates = SlotGranter(
            LocalSchedule(SESSION_CREATES_PER_SECOND), "stripe-session-slots"
        )
        self._throttled_until = 0.0
        self._waiting = 0
        self._http = stripe.AIOHTTPClient(timeout=REQUEST_TIMEOUT_SECONDS)
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base},
            http_client=self._http,
            max_network_retries=NETWORK_RETRIES,
        )

    def use_schedule(self, schedule: SlotSchedule) -> None:
        """Take the session creations' slots from `schedule` (the wiring, once the database is
        open: with several instances, the account's budget they share)."""
        self._creates.use(schedule)

    async def close(self) -> None:
        self._creates.shutdown()
        await self._http.close_async()  # type: ignore[no-untyped-call]

    async def create_checkout_session(
        self,
        order: Order,
        sold: Mapping[int, Product],
        countries: Sequence[str],
        settings: CheckoutSettings,
    ) -> CheckoutLink:
        """One session per order; the order's random ref is the idempotency key, so a retry
        after a timeout returns the session Stripe already made instead of a second one.

        Creations queue here at Stripe's rate (a bounded queue: StripeBusy when full), and
        429s, 5xx and timeouts are retried with backoff and jitter under the same key."""
        if self._waiting >= MAX_WAITING_CREATES:
            raise StripeBusy
        params = checkout_session_params(order, sold, countries, settings)
        options: stripe.RequestOptions = {"idempotency_key": f"checkout-{order.ref}"}
        self._waiting += 1
        try:
            session = await self._with_backoff(
                lambda: self._client.v1.checkout.sessions.create_async(params, options)
            )
        finally:
            self._waiting -= 1
        if not session.url:
            raise stripe.APIError("Checkout Session came back without a url")
        return CheckoutLink(session.id, session.url, session.expires_at)

    def estimated_wait(self) -> float:
        """Seconds a new session creation would wait in the queue right now."""
        return self._waiting / SESSION_CREATES_PER_SECOND

    def throttled(self) -> bool:
        """Whether Stripe itself answered 429 in the last few seconds."""
        return time.monotonic() < self._throttled_until

    async def _with_backoff(
        self, call: Callable[[], Awaitable[stripe.checkout.Session]]
    ) -> stripe.checkout.Session:
        for attempt in range(BACKOFF_ATTEMPTS):
            await self._creates.slot(CREATE_PRIORITY)
            try:
                return await call()
            except stripe.StripeError as error:
                delay = min(BACKOFF_FIRST_SECONDS * 2**attempt, BACKOFF_MAX_SECONDS)
                if isinstance(error, stripe.RateLimitError):
                    self._throttled_until = time.monotonic() + THROTTLE_MEMORY_SECONDS
                    # Every creation on this account (every instance's) waits, not only ours.
                    await self._creates.pause(BACKOFF_FIRST_SECONDS)
                if not _transient(error) or attempt == BACKOFF_ATTEMPTS - 1:
                    raise
                log.warning(
                    "Stripe %s; retrying session creation in %.1fs", type(error).__name__, delay
                )
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
        raise AssertionError("unreachable")

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

    async def payment_intent_status(self, payment_intent_id: str) -> str:
        """The intent's status: processing, succeeded, requires_payment_method (failed), …"""
        intent = await self._client.v1.payment_intents.retrieve_async(payment_intent_id)
        return str(intent.status)

    async def expire_checkout_session(self, session_id: str) -> stripe.checkout.Session:
        """Close an open session so it can no longer be paid. Stripe refuses (InvalidRequestError)
        a session that is not `open` any more: completed (perhaps paid) or already expired."""
        return await self._client.v1.checkout.sessions.expire_async(session_id)

    async def retrieve_checkout_session(self, session_id: str) -> stripe.checkout.Session:
        return await self._client.v1.checkout.sessions.retrieve_async(session_id)

    async def clock_offset(self) -> float | None:
        """Seconds this machine's clock runs ahead of Stripe's (negative: behind), from the
        `Date` header of the cheapest read there is; None when the answer carried no date.
        Good to a second or so: enough to catch a clock minutes off."""
        sent = time.time()
        # Sessions created from now on: an empty page, and no list of old sessions asked for.
        page = await self._client.v1.checkout.sessions.list_async(
            {"limit": 1, "created": {"gte": int(sent)}}
        )
        received = time.time()
        response = page.last_response
        headers = response.headers if response is not None else {}
        date = next((value for name, value in headers.items() if name.lower() == "date"), None)
        try:
            stripe_time = parsedate_to_datetime(date).timestamp() if date else None
        except (TypeError, ValueError):
            stripe_time = None
        # The header is whole seconds, truncated: Stripe's clock read somewhere in that second.
        return None if stripe_time is None else (sent + received) / 2 - (stripe_time + 0.5)

    async def list_checkout_sessions(
        self, created_since: int, page_size: int = 100, *, status: str | None = None
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Every Checkout Session created since `created_since` (Unix time), only those in
        `status` when given (open, complete, expired), newest first, as plain dicts, fetched
        page by page as the caller goes — so a caller that stops early (a 429) has not paid for
        pages it never used."""
        params: stripe.params.checkout.SessionListParams = {
            "created": {"gte": created_since},
            "limit": page_size,
        }
        if status is not None:
            params["status"] = cast(Any, status)
        page = await self._client.v1.checkout.sessions.list_async(params)
        async for session in page.auto_paging_iter():
            yield session.to_dict()


def checkout_session_params(
    order: Order,
    sold: Mapping[int, Product],
    countries: Sequence[str],
    settings: CheckoutSettings,
) -> SessionCreateParams:
    """Everything from our database — never from what the client sent: one line item per order
    line at the price the line was sold at, the products (`sold`, by id) for their
    descriptions, and the countries an address may be in when the order ships
    (shop.checkout decides them)."""
    metadata = {"order_id": str(order.id), "order_ref": order.ref}
    base = settings.public_base_url
    params: SessionCreateParams = {
        "mode": "payment",
        "line_items": [
            _line_item(line, order.currency, sold.get(line.product_id)) for line in order.lines
        ],
        "client_reference_id": str(order.id),
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "success_url": f"{base}/success?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": (
            f"{base}/cancel?order={order.id}&token={cancel_token(settings.cancel_key, order.ref)}"
        ),
        "expires_at": order.expires_at,
        "allow_promotion_codes": settings.allow_promotion_codes,
        "locale": cast(Any, stripe_locale(order.language)),
    }
    if order.ships:
        params["shipping_address_collection"] = {"allowed_countries": cast(Any, list(countries))}
    return params


def _line_item(
    line: OrderLine, currency: str, product: Product | None
) -> stripe.params.checkout.SessionCreateParamsLineItem:
    product_data: stripe.params.checkout.SessionCreateParamsLineItemPriceDataProductData = {
        "name": line.title,
    }
    if product is not None and product.description.strip():
        product_data["description"] = product.description[:500]
    return {
        "quantity": line.quantity,
        "price_data": {
            "currency": currency,
            "unit_amount": line.unit_amount,
            "product_data": product_data,
        },
    }
