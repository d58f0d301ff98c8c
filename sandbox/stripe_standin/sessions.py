"""Checkout Sessions: create (every rule Stripe checks), retrieve, list, line items, expansion."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.stripe_standin.catalog import StripeCatalog
from sandbox.stripe_standin.errors import (
    invalid,
    missing,
)
from sandbox.stripe_standin.listing import matches, paginate
from sandbox.stripe_standin.records import (
    FakeRequest,
    new_id,
)
from sandbox.stripe_standin.reference import (
    MAX_AMOUNT,
    MAX_LINE_ITEMS,
    MAX_SESSION_LIFE_SECONDS,
    MIN_SESSION_LIFE_SECONDS,
    MINIMUM_AMOUNTS,
    format_amount,
)
from sandbox.stripe_standin.schema import (
    CHECKOUT_SESSION_CREATE,
    CHECKOUT_SESSION_LIST,
    EXPAND_ONLY,
    PAGINATION,
)


class StripeSessions(StripeCatalog):
    """Checkout Sessions."""

    def line_items(self, session_id: str) -> list[dict[str, Any]]:
        """The session's line items as the API lists them (for a hosted page to show)."""
        self._session_for_control(session_id)
        return copy.deepcopy(self._line_items[session_id])

    def _create_session(self, record: FakeRequest, _: dict[str, str]) -> tuple[int, dict[str, Any]]:
        params = self._parse(record.params, CHECKOUT_SESSION_CREATE)
        mode, ui_mode = params["mode"], params.get("ui_mode", "hosted_page")
        self._check_urls(params, ui_mode)
        self._check_mode_rules(params, mode)
        self._check_exclusive(params, ("allow_promotion_codes", "discounts"))
        self._check_exclusive(params, ("customer", "customer_email"))
        self._check_expires_at(params.get("expires_at"))
        self._check_strings(params)
        if "customer" in params:
            self._lookup("customer", params["customer"], "customer")
        now = int(self.clock())
        items = self._build_line_items(params.get("line_items", []), mode)
        currency = self._session_currency(items, params)
        subtotal = sum(item["amount_subtotal"] for item in items) if items else None
        discount = self._discount(params.get("discounts", []), subtotal or 0, currency)
        self._spread_discount(items, discount)
        shipping_options, shipping_cost = self._shipping(params, currency)
        shipping = shipping_cost["amount_total"] if shipping_cost else 0
        total = None
        if subtotal is not None:
            total = subtotal - discount + shipping
            self._check_total(total, str(currency), discounted=discount > 0)
        session_id = new_id("cs_test_", 58)
        amounts = {"subtotal": subtotal, "total": total, "discount": discount, "shipping": shipping}
        session = self._session_object(session_id, params, now, currency, amounts)
        session["shipping_cost"] = shipping_cost
        session["shipping_options"] = shipping_options
        self.sessions[session_id] = session
        self._line_items[session_id] = items
        self._payment_intent_data[session_id] = params.get("payment_intent_data", {})
        return 200, self._expand_session(session, params.get("expand", []))

    def _retrieve_session(
        self, record: FakeRequest, match: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        params = self._parse(record.params, EXPAND_ONLY)
        session = self._get_session(match["id"])
        return 200, self._expand_session(session, params.get("expand", []))

    def _list_sessions(self, record: FakeRequest, _: dict[str, str]) -> tuple[int, dict[str, Any]]:
        params = self._parse(record.params, CHECKOUT_SESSION_LIST)
        sessions = [s for s in reversed(self.sessions.values()) if matches(s, params)]
        page = paginate(sessions, params, "/v1/checkout/sessions", "checkout.session")
        expand = [e.removeprefix("data.") for e in params.get("expand", [])]
        for path in params.get("expand", []):
            if not path.startswith("data."):
                raise invalid(f"This property cannot be expanded ({path}).", "expand")
        page["data"] = [self._expand_session(s, expand) for s in page["data"]]
        return 200, page

    def _list_line_items(
        self, record: FakeRequest, match: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        params = self._parse(record.params, PAGINATION)
        session = self._get_session(match["id"])
        url = f"/v1/checkout/sessions/{session['id']}/line_items"
        expand = params.get("expand", [])
        for path in expand:
            if path not in ("data.price.product", "data.discounts", "data.taxes"):
                raise invalid(f"This property cannot be expanded ({path}).", "expand")
        page = paginate(self._line_items[session["id"]], params, url, "item")
        for item in page["data"]:
            if "data.price.product" in expand:
                product_id = item["price"]["product"]
                item["price"]["product"] = copy.deepcopy(self.objects.get(product_id, product_id))
            if "data.discounts" in expand:
                item["discounts"] = self._line_discounts(session, item)
            if "data.taxes" in expand:
                item["taxes"] = []  # no tax rates or automatic tax are modelled
        return 200, page

    def _line_discounts(self, session: dict[str, Any], item: dict[str, Any]) -> list[Any]:
        """A line item's includable `discounts`: its share of the session's one discount (the
        coupon or promotion code it came from), or nothing when the line got no share."""
        if not item["amount_discount"] or not session["discounts"]:
            return []
        applied = session["discounts"][0]
        promo_id = applied.get("promotion_code")
        coupon_id = applied.get("coupon") or self._coupon_of(self.objects[promo_id])
        discount = {
            "id": "di_" + session["id"].removeprefix("cs_test_")[:24],
            "object": "discount",
            "checkout_session": session["id"],
            "customer": session["customer"],
            "end": None,
            "invoice": None,
            "invoice_item": None,
            "promotion_code": promo_id,
            "source": {"coupon": coupon_id, "type": "coupon"},
            "start": session["created"],
            "subscription": None,
            "subscription_item": None,
        }
        return [{"amount": item["amount_discount"], "discount": discount}]

    @staticmethod
    def _check_urls(params: dict[str, Any], ui_mode: str) -> None:
        if ui_mode == "hosted_page":
            if "success_url" not in params:
                raise missing("success_url")
            if "return_url" in params:
                raise invalid(
                    "`return_url` can only be used when `ui_mode` is `embedded_page`, "
                    "`elements` or `form`.",
                    "return_url",
                )
            return
        for name in ("success_url", "cancel_url"):
            if name in params:
                raise invalid(f"`{name}` is not allowed when `ui_mode` is `{ui_mode}`.", name)
        if "return_url" not in params and params.get("redirect_on_completion") != "never":
            raise missing("return_url")

    @staticmethod
    def _check_mode_rules(params: dict[str, Any], mode: str) -> None:
        only_in = {
            "payment_intent_data": ("payment",),
            "invoice_creation": ("payment",),
            "subscription_data": ("subscription",),
            "setup_intent_data": ("setup",),
            "customer_creation": ("payment", "setup"),
            "submit_type": ("payment", "subscription"),
            "phone_number_collection": ("payment", "subscription"),
            "shipping_options": ("payment",),
        }
        for name, modes in only_in.items():
            if name in params and mode not in modes:
                allowed = " or ".join(f"`{m}`" for m in modes)
                raise invalid(f"`{name}` can only be used in {allowed} mode.", name)
        if mode == "setup":
            if "line_items" in params:
                raise invalid("You cannot pass `line_items` in `setup` mode.", "line_items")
            if "currency" not in params and "allowed_payment_method_types" not in params:
                raise missing("currency")
        elif "line_items" not in params:
            raise missing("line_items")
        elif len(params["line_items"]) > MAX_LINE_ITEMS:
            raise invalid(
                f"You may only specify up to {MAX_LINE_ITEMS} line items in `{mode}` mode.",
                "line_items",
            )

    def _check_expires_at(self, expires_at: int | None) -> None:
        if expires_at is None:
            return
        now = self.clock()  # not rounded: "exactly 30 minutes" computed by a client is too late
        if expires_at < now + MIN_SESSION_LIFE_SECONDS:
            raise invalid(
                "The `expires_at` timestamp must be at least 30 minutes from Checkout Session "
                "creation.",
                "expires_at",
            )
        if expires_at > now + MAX_SESSION_LIFE_SECONDS:
            raise invalid(
                "The `expires_at` timestamp must be less than 24 hours from Checkout Session "
                "creation.",
                "expires_at",
            )

    @staticmethod
    def _check_strings(params: dict[str, Any]) -> None:
        reference = params.get("client_reference_id")
        if reference is not None and len(reference) > 200:
            raise invalid(
                f"Invalid string: {reference[:20]}...; must be at most 200 characters",
                "client_reference_id",
            )
        suffix = params.get("payment_intent_data", {}).get("statement_descriptor_suffix")
        param = "payment_intent_data[statement_descriptor_suffix]"
        if suffix is not None and (len(suffix) > 22 or set(suffix) & set("<>\\'\"*")):
            raise invalid(
                "The statement descriptor suffix must be at most 22 characters and may not "
                "contain any of < > \\ ' \" *",
                param,
            )

    @staticmethod
    def _session_currency(items: list[dict[str, Any]], params: dict[str, Any]) -> str | None:
        currencies = {item["currency"] for item in items}
        if len(currencies) > 1:
            raise invalid(
                "All line items must have the same currency; got "
                + ", ".join(sorted(currencies))
                + ".",
                "line_items",
            )
        if "currency" in params and currencies and params["currency"] not in currencies:
            raise invalid("`currency` must match the currency of the line items.", "currency")
        return next(iter(currencies), params.get("currency"))

    @staticmethod
    def _check_total(total: int, currency: str, *, discounted: bool) -> None:
        if total == 0 and discounted:
            return  # a 100% discount: no payment required
        minimum = MINIMUM_AMOUNTS.get(currency, 1)
        if total < minimum:
            raise invalid(
                "The Checkout Session's total amount due must add up to at least "
                f"{format_amount(minimum, currency)}",
                "line_items",
                "amount_too_small",
            )
        if total > MAX_AMOUNT:
            raise invalid(
                "The Checkout Session's total amount due must be no more than "
                f"{format_amount(MAX_AMOUNT, currency)}",
                "line_items",
                "amount_too_large",
            )

    def _session_object(
        self,
        session_id: str,
        params: dict[str, Any],
        now: int,
        currency: str | None,
        amounts: dict[str, int | None],
    ) -> dict[str, Any]:
        mode = params["mode"]
        subtotal, total = amounts["subtotal"], amounts["total"]
        ui_mode = params.get("ui_mode", "hosted_page")
        hosted = ui_mode == "hosted_page"
        url = f"{self.hosted_base_url or self.api_base}/c/pay/{session_id}" if hosted else None
        if mode == "setup":
            payment_status = "no_payment_required"
        else:
            payment_status = "no_payment_required" if total == 0 else "unpaid"
        return {
            "id": session_id,
            "object": "checkout.session",
            "adaptive_pricing": None,
            "after_expiration": None,
            "allow_promotion_codes": params.get("allow_promotion_codes"),
            "amount_subtotal": subtotal,
            "amount_total": total,
            "automatic_tax": {
                "enabled": params.get("automatic_tax", {}).get("enabled", False),
                "liability": None,
                "provider": None,
                "status": None,
            },
            "billing_address_collection": params.get("billing_address_collection"),
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "client_secret": None if hosted else f"{session_id}_secret_{new_id('', 24)}",
            "collected_information": None,
            "consent": None,
            "consent_collection": params.get("consent_collection"),
            "created": now,
            "currency": currency,
            "custom_fields": params.get("custom_fields", []),
            "custom_text": {
                key: params.get("custom_text", {}).get(key)
                for key in ("after_submit", "shipping_address", "submit")
            }
            | {"terms_of_service_acceptance": None},
            "customer": params.get("customer"),
            "customer_creation": params.get(
                "customer_creation", "if_required" if mode != "subscription" else None
            ),
            "customer_details": None,
            "customer_email": params.get("customer_email"),
            "discounts": params.get("discounts", []),
            "expires_at": params.get("expires_at", now + MAX_SESSION_LIFE_SECONDS),
        } | _session_settings(params, mode, payment_status, amounts, url)

    def _expand_session(self, session: dict[str, Any], expand: list[str]) -> dict[str, Any]:
        result = copy.deepcopy(session)
        for path in expand:
            if path == "line_items":
                items = self._line_items[session["id"]]
                url = f"/v1/checkout/sessions/{session['id']}/line_items"
                result["line_items"] = paginate(items, {}, url, "item")
            elif path == "payment_intent":
                if session["payment_intent"]:
                    intent = self.payment_intents[session["payment_intent"]]
                    result["payment_intent"] = copy.deepcopy(intent)
            elif path == "customer":
                if session["customer"]:
                    result["customer"] = copy.deepcopy(self.objects[session["customer"]])
            else:
                raise invalid(f"This property cannot be expanded ({path}).", "expand")
        return result


def _session_settings(
    params: dict[str, Any],
    mode: str,
    payment_status: str,
    amounts: dict[str, int | None],
    url: str | None,
) -> dict[str, Any]:
    """A new session's fields from `invoice` on: mostly the parameters as given, echoed back
    the way Stripe shows them."""
    return {
        "invoice": None,
        "invoice_creation": params.get("invoice_creation") if mode == "payment" else None,
        "livemode": False,
        "locale": params.get("locale"),
        "metadata": params.get("metadata", {}),
        "mode": mode,
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "always" if mode == "subscription" else None,
        "payment_method_options": {},
        "payment_method_types": params.get("allowed_payment_method_types", ["card"]),
        "payment_status": payment_status,
        "phone_number_collection": {
            "enabled": params.get("phone_number_collection", {}).get("enabled", False)
        },
        "recovered_from": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": params.get("shipping_address_collection"),
        "shipping_cost": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": params.get("submit_type"),
        "subscription": None,
        "success_url": params.get("success_url"),
        "total_details": (
            {
                "amount_discount": amounts["discount"],
                "amount_shipping": amounts["shipping"],
                "amount_tax": 0,
            }
            if amounts["subtotal"] is not None
            else None
        ),
        "ui_mode": params.get("ui_mode", "hosted_page"),
        "url": url,
        "wallet_options": None,
    }
