"""What a customer does on a Checkout page, and the webhooks Stripe then sends.

Both the Checkout page and the events panel's Settle / Fail buttons come here, so each action
changes the Stripe stand-in's state exactly as paying would and sends the same signed event
Stripe sends for it (awaited, so the events panel shows the bot's answer before the redirect).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.fake_stripe import FakeStripe
from sandbox.webhook_log import WebhookLog


class CheckoutRefused(Exception):
    """The action does not fit the session's state (already paid, expired, …)."""


@dataclass(frozen=True)
class Shipping:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str

    def as_stripe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "address": {
                "line1": self.line1,
                "city": self.city,
                "postal_code": self.postal_code,
                "country": self.country,
            },
        }


class Customer:
    def __init__(self, stripe: FakeStripe, webhooks: WebhookLog) -> None:
        self._stripe = stripe
        self._webhooks = webhooks

    def session(self, session_id: str) -> dict[str, Any] | None:
        return self._stripe.sessions.get(session_id)

    def line_items(self, session_id: str) -> list[dict[str, Any]]:
        return self._stripe.line_items(session_id)

    def _open(self, session_id: str) -> dict[str, Any]:
        session = self.session(session_id)
        if session is None:
            raise CheckoutRefused("There is no such Checkout Session.")
        if session["status"] != "open":
            raise CheckoutRefused(f"This Checkout Session is {session['status']}.")
        return session

    async def pay(
        self,
        session_id: str,
        *,
        delayed: bool,
        email: str | None = None,
        shipping: Shipping | None = None,
        promotion_code: str | None = None,
    ) -> str:
        """Complete the session (a card, or a delayed method that settles later), with the
        promotion code the customer typed, if any; returns the success URL the customer is sent
        to. A code Checkout would not take is refused, and nothing is paid."""
        session = self._open(session_id)
        try:
            self._stripe.pay(
                session_id,
                payment_status="unpaid" if delayed else "paid",
                email=email or None,
                shipping=shipping.as_stripe() if shipping else None,
                promotion_code=promotion_code or None,
            )
        except ValueError as error:
            raise CheckoutRefused(str(error)) from error
        await self._send("checkout.session.completed", session_id)
        return str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session_id)

    async def settle(self, session_id: str, *, succeeded: bool) -> None:
        """The delayed payment clears (async_payment_succeeded) or fails (…_failed)."""
        if self.session(session_id) is None:
            raise CheckoutRefused("There is no such Checkout Session.")
        try:
            self._stripe.settle(session_id, succeeded=succeeded)
        except ValueError as error:
            raise CheckoutRefused(str(error)) from error
        outcome = "succeeded" if succeeded else "failed"
        await self._send(f"checkout.session.async_payment_{outcome}", session_id)

    async def let_expire(self, session_id: str) -> None:
        """Time runs out on the open session (Stripe would wait for its expires_at)."""
        self._open(session_id)
        self._stripe.expire(session_id)
        await self._send("checkout.session.expired", session_id)

    def cancel_url(self, session_id: str) -> str:
        """Where "back" on Checkout leads; Stripe sends no event for it."""
        session = self._open(session_id)
        return str(session["cancel_url"])

    def awaiting_settlement(self) -> list[dict[str, Any]]:
        """Sessions paid with a delayed method whose payment has neither cleared nor failed."""
        waiting = []
        for session in self._stripe.sessions.values():
            if session["status"] != "complete" or session["payment_status"] != "unpaid":
                continue
            intent = self._stripe.payment_intents.get(str(session["payment_intent"]))
            if intent is not None and intent["status"] == "processing":
                waiting.append(session)
        return waiting

    async def _send(self, event_type: str, session_id: str) -> None:
        await self._webhooks.send(self._stripe.session_event(event_type, session_id))
