"""The stand-in's state (Stripe's objects by id, what it was asked, the test hooks) and the lookups
every endpoint uses.
"""

from __future__ import annotations

import asyncio
import time
import typing
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sandbox.sliding_window import SlidingWindow
from sandbox.stripe_standin.errors import (
    ApiError,
    exclusive,
    no_such,
)
from sandbox.stripe_standin.params import (
    coerce,
    find_unknown,
)
from sandbox.stripe_standin.records import (
    FakeRequest,
    _Fault,
    _Stored,
)
from sandbox.stripe_standin.schema import (
    Schema,
)


class StripeState:
    """The stand-in's state."""

    def __init__(
        self,
        api_key: str = "sk_test_fake_key_123",
        webhook_secret: str = "whsec_fake_secret",
        *,
        rate_limit_per_second: float | None = None,
    ) -> None:
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.rate_limit_per_second = rate_limit_per_second
        self.webhook_url: str | None = None
        # Where sessions' `url` points (default: this server's tiny /c/pay page); the sandbox
        # serves its fuller Checkout page on the browser's origin instead.
        self.hosted_base_url: str | None = None
        # Called with each API request and its answer, so the sandbox can send the webhooks
        # Stripe sends after API calls (a refund, an expired session).
        self.after_request: Callable[[FakeRequest, dict[str, Any]], None] | None = None
        # How the events Stripe sends on its own after an API call go out (checkout.session.
        # expired after POST …/expire): None posts them, signed, to webhook_url when it is set;
        # the sandbox passes its webhook log's `send` so its events panel shows them.
        self.send_event: Callable[[dict[str, Any]], Awaitable[object]] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self.clock: Callable[[], float] = time.time  # replace to move time in tests
        # Stripe's objects, by id, as the API shows them.
        self.sessions: dict[str, dict[str, Any]] = {}
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        # Objects a session can refer to (price, product, coupon, promotion_code, customer,
        # shipping_rate); add_price/add_coupon/add_customer fill it, or put objects in directly.
        self.objects: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.requests: list[FakeRequest] = []
        self.rate_limited = 0
        self.crashes: list[Exception] = []  # exceptions raised inside the fake's handlers
        self._line_items: dict[str, list[dict[str, Any]]] = {}
        self._payment_intent_data: dict[str, dict[str, Any]] = {}
        self._last_refund: dict[str, tuple[dict[str, Any], FakeRequest | None]] = {}
        self._settled: set[str] = set()  # sessions paid late by a delayed method
        self._idempotency: dict[str, _Stored] = {}
        self._faults: list[_Fault] = []
        self._recent_creates = SlidingWindow()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    @property
    def api_base(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeStripe is not started: await fake.start() first")
        return f"http://127.0.0.1:{self._port}"

    @staticmethod
    def _parse(raw: dict[str, Any], schema: dict[str, Schema]) -> dict[str, Any]:
        find_unknown(raw, schema)
        return typing.cast(dict[str, Any], coerce(raw, schema))

    @staticmethod
    def _check_exclusive(params: dict[str, Any], names: tuple[str, ...]) -> None:
        given = [name for name in names if name in params]
        if len(given) > 1:
            raise exclusive(*given)

    def _lookup(self, kind: str, object_id: str, param: str) -> dict[str, Any]:
        obj = self.objects.get(object_id)
        if obj is None or obj.get("object") != kind:
            raise no_such(kind, object_id, param)
        return obj

    @staticmethod
    def _check_exclusive_nested(data: dict[str, Any], param: str, *names: str) -> None:
        given = [f"{param}[{name}]" for name in names if name in data]
        if len(given) > 1:
            raise exclusive(*given)

    def _get_session(self, session_id: str) -> dict[str, Any]:
        session = self.sessions.get(session_id)
        if session is None:
            message = (
                f"No such checkout.session: '{session_id}'"
                if session_id.startswith("cs_")
                else f"Invalid checkout.session id: {session_id}"
            )
            raise ApiError(404, message, code="resource_missing", param="session")
        return session

    def _session_for_control(self, session_id: str) -> dict[str, Any]:
        if session_id not in self.sessions:
            raise KeyError(f"no checkout session {session_id!r} in the fake")
        return self.sessions[session_id]

    def _mark_expired(self, session: dict[str, Any]) -> None:
        session["status"] = "expired"
        session["url"] = None
