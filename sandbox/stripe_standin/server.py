"""A strict, in-process stand-in for the parts of the Stripe API a Checkout shop uses.

`FakeStripe` is a small aiohttp server on 127.0.0.1 (ephemeral port) that the real stripe SDK
talks to over HTTP::

    fake = FakeStripe()
    await fake.start()
    http_client = stripe.AIOHTTPClient()
    client = stripe.StripeClient(
        fake.api_key,
        base_addresses={"api": fake.api_base},
        http_client=http_client,
        max_network_retries=2,
    )
    session = await client.v1.checkout.sessions.create_async({...})
    fake.pay(session.id)
    await fake.deliver(fake.session_event("checkout.session.completed", session.id))

It answers like Stripe does for API version 2026-10-28.endive (the version stripe-python 16.1
pins): form-encoded bracket-notation parameters, an allow-list of parameters (the tests check
every entry against the SDK's typed params), Stripe's error format and HTTP statuses (so the
SDK raises the same exception classes), idempotency keys, `Request-Id` headers and signed
webhook deliveries.

Deliberately strict: an unknown parameter, an out-of-range `expires_at`, an amount below the
currency minimum, a bad URL or an over-refund are refused the way production refuses them.
Whatever Stripe accepts but this fake does not model (most payment-method options,
subscriptions beyond the basics) is refused as `parameter_unknown` too: extend the schema
tables in schema.py when the shop starts sending it.

Notes for this API version: `payment_method_types` is no longer a create parameter (use
`allowed_payment_method_types`); `ui_mode` is `hosted_page` (default), `embedded_page`,
`elements` or `form`; a completed session's shipping address is in
`collected_information.shipping_details` (there is no top-level `shipping_details`); a promotion
code points at its coupon through `promotion.coupon`. With `allow_promotion_codes` the customer
may type a code on the hosted page (`pay(..., promotion_code=…)`): like Stripe, that lowers
`amount_total` and the line items' totals and fills `total_details.amount_discount`, while
`amount_subtotal` stays what the line items add up to. A discount is shared out over the line
items in whole minor units (shares add up to it, no line goes below zero, shipping is never
discounted); the line items list shows each line's share with `expand[]=data.discounts`.

Errors the endpoint raises are never stored under an idempotency key (Stripe does not store
validation failures), and neither are injected faults, so a retry with the same key executes.
Sessions do not expire by themselves: call `expire()`. Expiring one through the API
(`POST /v1/checkout/sessions/{id}/expire`, open sessions only) sends `checkout.session.expired`
like Stripe does (see `send_event`).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import functools
import hmac
import json
import re
from collections.abc import Callable
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from sandbox.stripe_standin.errors import (
    DOCS_URL,
    ApiError,
    invalid,
)
from sandbox.stripe_standin.params import (
    decode_params,
)
from sandbox.stripe_standin.payments import StripePayments
from sandbox.stripe_standin.records import (
    FakeRequest,
    Handler,
    _Fault,
    _Stored,
    mask_key,
    new_id,
)
from sandbox.stripe_standin.reference import (
    API_VERSION,
    format_amount,
)

Endpoint = Callable[[StripePayments, FakeRequest, dict[str, str]], tuple[int, dict[str, Any]]]
# The API paths the stand-in answers; anything else is Stripe's "Unrecognized request URL".
ROUTES: list[tuple[str, re.Pattern[str], Endpoint]] = [
    ("POST", re.compile(r"/v1/checkout/sessions"), StripePayments._create_session),
    ("GET", re.compile(r"/v1/checkout/sessions"), StripePayments._list_sessions),
    ("GET", re.compile(r"/v1/checkout/sessions/(?P<id>[^/]+)"), StripePayments._retrieve_session),
    ("POST", re.compile(r"/v1/checkout/sessions/(?P<id>[^/]+)/expire"), StripePayments._expire),
    (
        "GET",
        re.compile(r"/v1/checkout/sessions/(?P<id>[^/]+)/line_items"),
        StripePayments._list_line_items,
    ),
    ("GET", re.compile(r"/v1/payment_intents/(?P<id>[^/]+)"), StripePayments._retrieve_intent),
    ("GET", re.compile(r"/v1/charges/(?P<id>[^/]+)"), StripePayments._retrieve_charge),
    ("POST", re.compile(r"/v1/refunds"), StripePayments._create_refund),
    ("GET", re.compile(r"/v1/refunds/(?P<id>[^/]+)"), StripePayments._retrieve_refund),
]


class FakeStripe(StripePayments):
    """A strict Stripe API stand-in; see the module docstring."""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        app.on_response_prepare.append(self._stamp_date)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def _stamp_date(self, request: web.Request, response: web.StreamResponse) -> None:
        """Stripe's answers carry its clock in `Date`; this one's follows `clock`, skew and all."""
        response.headers["Date"] = formatdate(self.clock(), usegmt=True)

    async def stop(self) -> None:
        for task in list(self._sending):
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeStripe:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def requests_to(self, method: str, path_prefix: str) -> list[FakeRequest]:
        return [
            r
            for r in self.requests
            if r.method == method.upper() and r.path.startswith(path_prefix)
        ]

    def fail_next(
        self, method: str, path_prefix: str, *, times: int = 1, status: int = 429
    ) -> None:
        """Answer the next `times` matching requests with 429 (rate_limit) or a 5xx api_error.

        Injected failures happen before the endpoint runs, so they are not stored under the
        idempotency key: the SDK's retry with the same key then executes normally.
        """
        if status != 429 and not 500 <= status <= 599:
            raise ValueError("fail_next supports status 429 or 5xx")
        if times < 1:
            raise ValueError("times must be at least 1")
        self._faults.append(_Fault(method.upper(), path_prefix, times, status))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.method == "GET" and request.path.startswith("/c/pay/"):
            return self._hosted_page(request.path.removeprefix("/c/pay/"))
        body = await request.read()
        record = FakeRequest(
            method=request.method,
            path=request.path,
            params={},
            idempotency_key=request.headers.get("Idempotency-Key") or None,
            request_id=new_id("req_", 14),
            headers=dict(request.headers),
        )
        self.requests.append(record)
        headers = {"Request-Id": record.request_id, "Stripe-Version": API_VERSION}
        query = request.rel_url.raw_query_string
        raw = body.decode("utf-8", "replace") if request.method == "POST" else query
        try:
            record.params = decode_params(parse_qsl(raw, keep_blank_values=True))
            status, payload, extra = self._process(record)
            headers.update(extra)
        except ApiError as error:
            status, payload = error.status, error.body()
        except Exception as crash:  # a bug in the fake: make it loud, in Stripe's format
            self.crashes.append(crash)
            status = 500
            payload = ApiError(500, f"FakeStripe crashed: {crash!r}", type="api_error").body()
        record.status = status
        if self.after_request is not None:
            self.after_request(record, payload)
        if request.method == "POST" and record.idempotency_key:
            headers["Idempotency-Key"] = record.idempotency_key
            headers.setdefault("Original-Request", record.request_id)
        text = json.dumps(payload, indent=2, default=str)
        return web.Response(
            text=text, status=status, headers=headers, content_type="application/json"
        )

    def _process(self, record: FakeRequest) -> tuple[int, dict[str, Any], dict[str, str]]:
        if not record.path.startswith("/v1/"):
            raise self._unrecognized(record)
        self._authenticate(record)
        version = record.header("Stripe-Version")
        if version is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}(\.[a-z]+)?", version):
            raise invalid(f"Invalid Stripe API version: {version}")
        self._inject_fault(record)
        handler, match = self._route(record)
        self._rate_limit(record)
        if record.method == "POST" and record.idempotency_key:
            stored = self._replay(record)
            if stored is not None:
                record.replayed = True
                headers = {"Idempotent-Replayed": "true", "Original-Request": stored.request_id}
                return stored.status, copy.deepcopy(stored.body), headers
        status, payload = handler(record, match)
        if record.method == "POST" and record.idempotency_key:
            self._idempotency[record.idempotency_key] = _Stored(
                record.method, record.path, record.params, status, payload, record.request_id
            )
        return status, payload, {}

    def _authenticate(self, record: FakeRequest) -> None:
        header = record.header("Authorization") or ""
        scheme, _, credentials = header.partition(" ")
        key: str | None = None
        if scheme.lower() == "bearer":
            key = credentials.strip()
        elif scheme.lower() == "basic":
            try:
                key = base64.b64decode(credentials).decode().partition(":")[0]
            except (ValueError, UnicodeDecodeError):
                key = ""
        if not key:
            raise ApiError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                f"YOUR_SECRET_KEY'). See {DOCS_URL}/api#authentication for details, or we can "
                "help at https://support.stripe.com/.",
            )
        if not hmac.compare_digest(key.encode(), self.api_key.encode()):
            raise ApiError(401, f"Invalid API Key provided: {mask_key(key)}")

    def _inject_fault(self, record: FakeRequest) -> None:
        for fault in self._faults:
            if fault.method == record.method and record.path.startswith(fault.path_prefix):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                if fault.status == 429:
                    raise self._rate_limit_error()
                raise ApiError(
                    fault.status,
                    "Sorry, something went wrong. We've already been notified of the problem, "
                    "but if you need any help, you can reach out to support: "
                    "https://support.stripe.com/contact",
                    type="api_error",
                )

    def _rate_limit(self, record: FakeRequest) -> None:
        limit = self.rate_limit_per_second
        if limit is None or record.method != "POST" or record.path != "/v1/checkout/sessions":
            return
        if self._recent_creates.admit(limit) is not None:
            self.rate_limited += 1
            raise self._rate_limit_error()

    @staticmethod
    def _rate_limit_error() -> ApiError:
        return ApiError(
            429,
            "Request rate limit exceeded. You can learn more about rate limits here "
            f"{DOCS_URL}/rate-limits.",
            code="rate_limit",
        )

    def _route(self, record: FakeRequest) -> tuple[Handler, dict[str, str]]:
        for method, pattern, endpoint in ROUTES:
            match = pattern.fullmatch(record.path)
            if match and method == record.method:
                return functools.partial(endpoint, self), match.groupdict()
        raise self._unrecognized(record)

    @staticmethod
    def _unrecognized(record: FakeRequest) -> ApiError:
        where = f"({record.method}: {record.path})"
        if record.path.endswith("/"):
            hint = (
                " If you are trying to list objects, remove the trailing slash. If you are "
                "trying to retrieve an object, make sure you passed a valid (non-empty) "
                "identifier in your code."
            )
        else:
            hint = ""
        return ApiError(
            404,
            f"Unrecognized request URL {where}.{hint} Please see {DOCS_URL} or we can help "
            "at https://support.stripe.com/.",
        )

    def _replay(self, record: FakeRequest) -> _Stored | None:
        key = str(record.idempotency_key)
        if len(key) > 255:
            raise invalid("Idempotency keys can be at most 255 characters long.")
        stored = self._idempotency.get(key)
        if stored is None:
            return None
        if (stored.method, stored.path) != (record.method, record.path):
            raise ApiError(
                400,
                "Keys for idempotent requests can only be used for the same endpoint they were "
                f"first used for ('{stored.method} {stored.path}' vs '{record.method} "
                f"{record.path}'). Try using a key other than '{key}' if you meant to execute "
                "a different request.",
                type="idempotency_error",
            )
        if stored.params != record.params:
            raise ApiError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                type="idempotency_error",
            )
        return stored

    def _hosted_page(self, session_id: str) -> web.Response:
        session = self.sessions.get(session_id)
        if session is None:
            return web.Response(status=404, text="<h1>Not found</h1>", content_type="text/html")
        if session["status"] == "expired":
            state = "This Checkout Session has expired."
        elif session["status"] == "complete":
            state = "This Checkout Session is complete."
        elif session["currency"] is None:
            state = "Set up a payment method"
        else:
            state = f"Pay {format_amount(session['amount_total'] or 0, session['currency'])}"
        html = f"<!doctype html><title>Checkout</title><h1>{state}</h1><p>{session_id}</p>"
        return web.Response(text=html, content_type="text/html")
