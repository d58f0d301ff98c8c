"""Events and webhook signing: the events Stripe sends, signed like Stripe signs them, delivered to
the webhook URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import hmac
import json
from typing import Any

import aiohttp

from sandbox.stripe_standin.errors import (
    invalid,
)
from sandbox.stripe_standin.records import (
    FakeRequest,
    _event_types,
    new_id,
)
from sandbox.stripe_standin.reference import (
    API_VERSION,
)
from sandbox.stripe_standin.schema import (
    EXPAND_ONLY,
)
from sandbox.stripe_standin.sessions import StripeSessions


class StripeEvents(StripeSessions):
    """Events and webhook signing."""

    def expire(self, session_id: str) -> dict[str, Any]:
        """The session's expires_at passes (or it is expired in the Dashboard)."""
        session = self._session_for_control(session_id)
        if session["status"] != "open":
            raise ValueError(f"session {session_id} is {session['status']}, not open")
        self._mark_expired(session)
        return copy.deepcopy(session)

    def make_event(
        self,
        type: str,
        obj: dict[str, Any],
        *,
        livemode: bool = False,
        previous_attributes: dict[str, Any] | None = None,
        request: FakeRequest | None = None,
    ) -> dict[str, Any]:
        """A full event envelope as Stripe sends it for API version 2026-10-28.endive."""
        if type not in _event_types():
            raise ValueError(f"{type!r} is not a Stripe event type")
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous_attributes is not None:
            data["previous_attributes"] = copy.deepcopy(previous_attributes)
        event = {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(self.clock()),
            "data": data,
            "livemode": livemode,
            "pending_webhooks": 1,
            "request": {
                "id": request.request_id if request else None,
                "idempotency_key": request.idempotency_key if request else None,
            },
            "type": type,
        }
        self.events.append(event)
        return event

    def session_event(self, type: str, session_id: str) -> dict[str, Any]:
        """checkout.session.* with a snapshot of the session; refuses impossible events."""
        session = self._session_for_control(session_id)
        intent = self.payment_intents.get(str(session.get("payment_intent")))
        expected: dict[str, bool] = {
            "checkout.session.completed": session["status"] == "complete",
            "checkout.session.expired": session["status"] == "expired",
            "checkout.session.async_payment_succeeded": session_id in self._settled,
            "checkout.session.async_payment_failed": intent is not None
            and intent["status"] == "requires_payment_method",
        }
        if type not in expected:
            raise ValueError(f"{type!r} is not a checkout.session event")
        if not expected[type]:
            state = f"status={session['status']}, payment_status={session['payment_status']}"
            raise ValueError(f"Stripe would not send {type} for a session with {state}")
        return self.make_event(type, session)

    def refund_event(self, payment_intent_id: str) -> dict[str, Any]:
        """charge.refunded for the payment intent's charge, after its latest refund."""
        if payment_intent_id not in self._last_refund:
            raise ValueError(f"{payment_intent_id} has no refunds")
        refund, request = self._last_refund[payment_intent_id]
        charge = self.charges[str(refund["charge"])]
        previous: dict[str, Any] = {"amount_refunded": charge["amount_refunded"] - refund["amount"]}
        if charge["refunded"]:
            previous["refunded"] = False
        return self.make_event(
            "charge.refunded", charge, previous_attributes=previous, request=request
        )

    def sign(
        self, payload: bytes, *, secret: str | None = None, timestamp: int | None = None
    ) -> str:
        """The Stripe-Signature header: t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<payload>")>."""
        ts = int(self.clock()) if timestamp is None else timestamp
        key = (secret if secret is not None else self.webhook_secret).encode()
        digest = hmac.new(key, f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
        return f"t={ts},v1={digest}"

    async def deliver(
        self,
        event: dict[str, Any],
        *,
        secret: str | None = None,
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> tuple[int, str]:
        """POST the event to webhook_url, pretty-printed and signed like Stripe does."""
        if self.webhook_url is None:
            raise RuntimeError("set fake.webhook_url to the shop's webhook endpoint first")
        body = json.dumps(event, indent=2).encode()
        header = (
            signature
            if signature is not None
            else self.sign(body, secret=secret, timestamp=timestamp)
        )
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": header,
        }
        timeout = aiohttp.ClientTimeout(total=30)
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.post(self.webhook_url, data=body, headers=headers) as response,
        ):
            return response.status, await response.text()

    def _expire(self, record: FakeRequest, match: dict[str, str]) -> tuple[int, dict[str, Any]]:
        params = self._parse(record.params, EXPAND_ONLY)
        session = self._get_session(match["id"])
        if session["status"] != "open":
            raise invalid(
                f"This Checkout Session is {session['status']}. Only Checkout Sessions with a "
                "status of `open` can be expired.",
                "session",
            )
        self._mark_expired(session)
        self._emit(self.session_event("checkout.session.expired", session["id"]))
        return 200, self._expand_session(session, params.get("expand", []))

    def _emit(self, event: dict[str, Any]) -> None:
        """Send an event Stripe sends after an API call, once the call has been answered (a
        replayed request sends nothing again). Undeliverable: dropped, as nobody listens."""
        send = self.send_event or (self.deliver if self.webhook_url else None)
        if send is None:
            return

        async def later() -> None:
            await asyncio.sleep(0)  # the API answer first
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                await send(event)

        task = asyncio.get_running_loop().create_task(later())
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)
