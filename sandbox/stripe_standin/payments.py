"""What the customer does on the hosted page (pay, a delayed method settling), payment intents,
charges and refunds.
"""

from __future__ import annotations

import copy
from typing import Any

from sandbox.stripe_standin.errors import (
    integer_error,
    invalid,
    no_such,
)
from sandbox.stripe_standin.events import StripeEvents
from sandbox.stripe_standin.records import (
    FakeRequest,
    new_id,
)
from sandbox.stripe_standin.reference import (
    MINIMUM_AMOUNTS,
    format_amount,
)
from sandbox.stripe_standin.schema import (
    EXPAND_ONLY,
    PAYMENT_INTENT_RETRIEVE,
    REFUND_CREATE,
)


class StripePayments(StripeEvents):
    """Payments and refunds, and the customer's side of them."""

    def pay(
        self,
        session_id: str,
        *,
        payment_status: str = "paid",
        shipping: dict[str, Any] | None = None,
        email: str | None = None,
        promotion_code: str | None = None,
    ) -> dict[str, Any]:
        """Complete the session as the customer would.

        payment_status "paid" (card) or "unpaid" (a delayed method such as a bank debit: call
        settle() later). `promotion_code` is a code the customer types on the page (only offered
        when the session allows promotion codes): it lowers the line items' and the session's
        totals and fills `total_details.amount_discount`, as Stripe does. Creates the
        PaymentIntent for the total (metadata from payment_intent_data.metadata, not the
        session's metadata — as Stripe does) and, when paid, its Charge.
        """
        session = self._session_for_control(session_id)
        if session["status"] != "open":
            raise ValueError(f"session {session_id} is {session['status']}, not open")
        if session["mode"] != "payment":
            raise ValueError("the fake only completes payment-mode sessions")
        if payment_status not in ("paid", "unpaid"):
            raise ValueError("payment_status must be 'paid' or 'unpaid'")
        if promotion_code is not None:
            self._redeem(session, promotion_code)
        shipping_details = self._collected_shipping(session, shipping)
        intent_id = None
        if session["payment_status"] == "no_payment_required":  # a 100% code: nothing to pay
            payment_status = "no_payment_required"
        else:
            intent = self._new_payment_intent(session, shipping_details)
            intent_id = intent["id"]
            if payment_status == "paid":
                self._succeed(intent)
        session.update(
            status="complete",
            payment_status=payment_status,
            payment_intent=intent_id,
            customer_details=self._customer_details(session, email),
            collected_information={
                "business_name": None,
                "individual_name": None,
                "shipping_details": shipping_details,
            },
        )
        return copy.deepcopy(session)

    def settle(self, session_id: str, *, succeeded: bool) -> dict[str, Any]:
        """A delayed payment method finishes: unpaid → paid, or the payment fails."""
        session = self._session_for_control(session_id)
        intent = self.payment_intents.get(str(session["payment_intent"]))
        if session["status"] != "complete" or session["payment_status"] != "unpaid" or not intent:
            raise ValueError("only a completed, unpaid session can settle")
        if intent["status"] != "processing":
            raise ValueError(f"payment intent {intent['id']} is {intent['status']}")
        if succeeded:
            self._succeed(intent)
            session["payment_status"] = "paid"
            self._settled.add(session_id)
        else:
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = {
                "type": "card_error",
                "code": "payment_method_provider_decline",
                "message": "The payment was declined.",
            }
        return copy.deepcopy(session)

    def _retrieve_intent(
        self, record: FakeRequest, match: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        params = self._parse(record.params, PAYMENT_INTENT_RETRIEVE)
        intent = self.payment_intents.get(match["id"])
        if intent is None:
            raise no_such("payment_intent", match["id"], "intent", 404)
        result = copy.deepcopy(intent)
        for path in params.get("expand", []):
            if path != "latest_charge":
                raise invalid(f"This property cannot be expanded ({path}).", "expand")
            if intent["latest_charge"]:
                result["latest_charge"] = copy.deepcopy(self.charges[intent["latest_charge"]])
        return 200, result

    def _retrieve_charge(
        self, record: FakeRequest, match: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        self._parse(record.params, EXPAND_ONLY)
        charge = self.charges.get(match["id"])
        if charge is None:
            raise no_such("charge", match["id"], "charge", 404)
        return 200, copy.deepcopy(charge)

    def _retrieve_refund(
        self, record: FakeRequest, match: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        self._parse(record.params, EXPAND_ONLY)
        refund = self.refunds.get(match["id"])
        if refund is None:
            raise no_such("refund", match["id"], "refund", 404)
        return 200, copy.deepcopy(refund)

    def _create_refund(self, record: FakeRequest, _: dict[str, str]) -> tuple[int, dict[str, Any]]:
        params = self._parse(record.params, REFUND_CREATE)
        self._check_exclusive(params, ("charge", "payment_intent"))
        charge = self._refundable_charge(params)
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining == 0:
            raise invalid(
                f"Charge {charge['id']} has already been refunded.",
                "charge",
                "charge_already_refunded",
            )
        amount = params.get("amount", remaining)
        if amount < 1:
            raise integer_error("Invalid positive integer", "amount")
        if amount > remaining:
            currency = charge["currency"]
            limit, what = (
                (remaining, "unrefunded amount on charge")
                if charge["amount_refunded"]
                else (charge["amount"], "charge amount")
            )
            raise invalid(
                f"Refund amount ({format_amount(amount, currency).rsplit(' ', 1)[0]}) is "
                f"greater than {what} ({format_amount(limit, currency).rsplit(' ', 1)[0]})",
                "amount",
                "amount_too_large",
            )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        refund = {
            "id": new_id("re_"),
            "object": "refund",
            "amount": amount,
            "balance_transaction": new_id("txn_"),
            "charge": charge["id"],
            "created": int(self.clock()),
            "currency": charge["currency"],
            "destination_details": {"card": {"type": "refund"}, "type": "card"},
            "metadata": params.get("metadata", {}),
            "payment_intent": charge["payment_intent"],
            "reason": params.get("reason"),
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "succeeded",
            "transfer_reversal": None,
        }
        self.refunds[refund["id"]] = refund
        self._last_refund[charge["payment_intent"]] = (refund, record)
        return 200, copy.deepcopy(refund)

    def _refundable_charge(self, params: dict[str, Any]) -> dict[str, Any]:
        if "charge" in params:
            charge = self.charges.get(params["charge"])
            if charge is None:
                raise no_such("charge", params["charge"], "charge")
            return charge
        if "payment_intent" not in params:
            raise invalid(
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
                code="parameter_missing",
            )
        intent = self.payment_intents.get(params["payment_intent"])
        if intent is None:
            raise no_such("payment_intent", params["payment_intent"], "payment_intent")
        charge_id = intent["latest_charge"]
        if intent["status"] != "succeeded" or charge_id is None:
            raise invalid(
                f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                "payment_intent",
            )
        return self.charges[charge_id]

    def _redeem(self, session: dict[str, Any], code: str) -> None:
        """The customer enters a promotion code on the hosted page: Checkout applies its coupon
        to the subtotal, spreads it over the line items and lowers the total; it refuses a code
        it does not know, one on a session that does not allow codes, one in another currency
        and one that would leave less than the currency's minimum charge (but not nothing)."""
        if not session["allow_promotion_codes"]:
            raise ValueError("this session does not offer a promotion code field")
        promo = self._promotion_code_named(code)
        if promo is None:
            raise ValueError(f"Checkout says: {code!r} is not a valid promotion code")
        coupon = self._lookup("coupon", self._coupon_of(promo), "promotion_code")
        subtotal, currency = int(session["amount_subtotal"]), str(session["currency"])
        discount = self._coupon_amount(coupon, subtotal, currency, "promotion_code")
        details = session["total_details"]
        total = subtotal - discount + details["amount_shipping"] + details["amount_tax"]
        if total != 0 and total < MINIMUM_AMOUNTS.get(currency, 1):
            raise ValueError("Checkout says: this code cannot be applied to this purchase")
        self._spread_discount(self._line_items[session["id"]], discount)
        details["amount_discount"] = discount
        session.update(
            amount_total=total,
            discounts=[{"coupon": None, "promotion_code": promo["id"]}],
            payment_status="no_payment_required" if total == 0 else session["payment_status"],
        )

    def _collected_shipping(
        self, session: dict[str, Any], shipping: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        collection = session["shipping_address_collection"]
        if collection is None:
            if shipping is not None:
                raise ValueError("the session does not collect a shipping address")
            return None
        allowed = collection["allowed_countries"]
        shipping = shipping or {
            "name": "Jenny Rosen",
            "address": {"line1": "1 Test Street", "city": "Testville", "country": allowed[0]},
        }
        address_keys = ("city", "country", "line1", "line2", "postal_code", "state")
        address = {key: shipping.get("address", {}).get(key) for key in address_keys}
        if address["country"] not in allowed:
            raise ValueError(f"Checkout only accepts shipping to {allowed}")
        return {"address": address, "name": shipping.get("name", "Jenny Rosen")}

    @staticmethod
    def _customer_details(session: dict[str, Any], email: str | None) -> dict[str, Any]:
        phone_enabled = session["phone_number_collection"]["enabled"]
        return {
            "address": {
                "city": None,
                "country": "US",
                "line1": None,
                "line2": None,
                "postal_code": "94103",
                "state": None,
            },
            "business_name": None,
            "email": email or session["customer_email"] or "customer@example.com",
            "individual_name": None,
            "name": "Jenny Rosen",
            "phone": "+15555550123" if phone_enabled else None,
            "tax_exempt": "none",
            "tax_ids": [],
        }

    def _new_payment_intent(
        self, session: dict[str, Any], shipping: dict[str, Any] | None
    ) -> dict[str, Any]:
        data = self._payment_intent_data[session["id"]]
        intent_id = new_id("pi_")
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": session["amount_total"],
            "amount_capturable": 0,
            "amount_received": 0,
            "capture_method": data.get("capture_method", "automatic_async"),
            "client_secret": f"{intent_id}_secret_{new_id('', 24)}",
            "created": int(self.clock()),
            "currency": session["currency"],
            "customer": session["customer"],
            "description": data.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": copy.deepcopy(data.get("metadata", {})),
            "payment_method": new_id("pm_"),
            "payment_method_types": ["card"],
            "receipt_email": data.get("receipt_email"),
            "setup_future_usage": data.get("setup_future_usage"),
            "shipping": data.get("shipping") or shipping,
            "statement_descriptor_suffix": data.get("statement_descriptor_suffix"),
            "status": "processing",
        }
        self.payment_intents[intent_id] = intent
        return intent

    def _succeed(self, intent: dict[str, Any]) -> None:
        captured = intent["capture_method"] != "manual"
        amount = intent["amount"]
        charge = {
            "id": new_id("ch_"),
            "object": "charge",
            "amount": amount,
            "amount_captured": amount if captured else 0,
            "amount_refunded": 0,
            "balance_transaction": new_id("txn_") if captured else None,
            "captured": captured,
            "created": int(self.clock()),
            "currency": intent["currency"],
            "customer": intent["customer"],
            "description": intent["description"],
            "livemode": False,
            "metadata": copy.deepcopy(intent["metadata"]),
            "paid": True,
            "payment_intent": intent["id"],
            "payment_method": intent["payment_method"],
            "receipt_email": intent["receipt_email"],
            "refunded": False,
            "shipping": intent["shipping"],
            "status": "succeeded",
        }
        self.charges[charge["id"]] = charge
        intent.update(
            latest_charge=charge["id"],
            status="succeeded" if captured else "requires_capture",
            amount_received=amount if captured else 0,
            amount_capturable=0 if captured else amount,
        )
