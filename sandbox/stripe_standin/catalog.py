"""Prices, products, coupons, promotion codes, customers and shipping rates: what a session's line
items, discounts and shipping options refer to.
"""

from __future__ import annotations

import copy
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.stripe_standin.errors import (
    exclusive,
    integer_error,
    invalid,
    missing,
)
from sandbox.stripe_standin.records import (
    new_id,
)
from sandbox.stripe_standin.state import StripeState


class StripeCatalog(StripeState):
    """Prices, products, coupons, promotion codes, customers and shipping rates."""

    def add_price(
        self,
        unit_amount: int,
        currency: str = "usd",
        *,
        product_name: str = "Product",
        recurring: dict[str, Any] | None = None,
    ) -> str:
        """Register an active Price (and its Product) that line_items[][price] may use."""
        product = self._product({"name": product_name})
        price = self._price_object(
            currency, Decimal(unit_amount), product["id"], recurring, active=True
        )
        self.objects[price["id"]] = price
        return str(price["id"])

    def add_coupon(
        self,
        *,
        percent_off: float | None = None,
        amount_off: int | None = None,
        currency: str | None = None,
        coupon_id: str | None = None,
    ) -> str:
        if (percent_off is None) == (amount_off is None):
            raise ValueError("give exactly one of percent_off / amount_off")
        if amount_off is not None and currency is None:
            raise ValueError("amount_off needs a currency")
        coupon_id = coupon_id or new_id("", 8)
        self.objects[coupon_id] = {
            "id": coupon_id,
            "object": "coupon",
            "amount_off": amount_off,
            "currency": currency,
            "percent_off": percent_off,
            "valid": True,
        }
        return coupon_id

    def add_promotion_code(self, coupon_id: str, code: str) -> str:
        """Register an active, customer-facing promotion code for a coupon (the API version's
        shape: `promotion: {type: coupon, coupon}`); a buyer can enter it on the hosted page of
        a session created with allow_promotion_codes (`pay(..., promotion_code=code)`)."""
        self._lookup("coupon", coupon_id, "coupon")
        if not re.fullmatch(r"[A-Za-z0-9]{1,500}", code):
            raise ValueError("promotion codes are letters and digits")
        if self._promotion_code_named(code) is not None:
            raise ValueError(f"an active promotion code {code!r} already exists")
        promo_id = new_id("promo_", 24)
        self.objects[promo_id] = {
            "id": promo_id,
            "object": "promotion_code",
            "active": True,
            "code": code,
            "created": int(self.clock()),
            "livemode": False,
            "promotion": {"type": "coupon", "coupon": coupon_id},
        }
        return promo_id

    def add_customer(self, email: str | None = None) -> str:
        customer_id = new_id("cus_", 14)
        self.objects[customer_id] = {"id": customer_id, "object": "customer", "email": email}
        return customer_id

    def _build_line_items(self, raw_items: list[dict[str, Any]], mode: str) -> list[dict[str, Any]]:
        items = [self._line_item(raw, f"line_items[{i}]") for i, raw in enumerate(raw_items)]
        recurring = [item["price"]["recurring"] is not None for item in items]
        if mode == "payment" and any(recurring):
            raise invalid(
                "You specified `payment` mode but passed a recurring price. Either switch to "
                "`subscription` mode or use only one-time prices.",
                "line_items",
            )
        if mode == "subscription" and not any(recurring):
            raise invalid(
                "You must provide at least one recurring price in `subscription` mode when "
                "using prices.",
                "line_items",
            )
        return items

    def _line_item(self, raw: dict[str, Any], param: str) -> dict[str, Any]:
        if "price" in raw and "price_data" in raw:
            raise exclusive(f"{param}[price]", f"{param}[price_data]")
        if "price" in raw:
            price = copy.deepcopy(self._lookup("price", raw["price"], f"{param}[price]"))
        elif "price_data" in raw:
            price = self._price_from_data(raw["price_data"], f"{param}[price_data]")
        else:
            raise invalid(
                f"You must specify either `price` or `price_data` for {param}.",
                f"{param}[price]",
                "parameter_missing",
            )
        if "quantity" not in raw:
            raise missing(f"{param}[quantity]")
        quantity = raw["quantity"]
        if quantity < 1:
            raise integer_error(
                "This value must be greater than or equal to 1.", f"{param}[quantity]"
            )
        self._check_adjustable_quantity(raw.get("adjustable_quantity"), quantity, param)
        unit = Decimal(price["unit_amount_decimal"])
        amount = int((unit * quantity).to_integral_value(rounding=ROUND_HALF_UP))
        product = self.objects.get(price["product"], {})
        return {
            "id": new_id("li_"),
            "object": "item",
            "adjustable_quantity": raw.get("adjustable_quantity"),
            "amount_discount": 0,
            "amount_subtotal": amount,
            "amount_tax": 0,
            "amount_total": amount,
            "currency": price["currency"],
            "description": product.get("name"),
            "metadata": raw.get("metadata", {}),
            "price": price,
            "quantity": quantity,
        }

    @staticmethod
    def _check_adjustable_quantity(
        adjustable: dict[str, Any] | None, quantity: int, param: str
    ) -> None:
        if not adjustable or not adjustable["enabled"]:
            return
        low, high = adjustable.get("minimum", 0), adjustable.get("maximum", 99)
        name = f"{param}[adjustable_quantity]"
        if not 0 <= low <= high <= 999_999:
            raise invalid("`minimum` must be at most `maximum`, and both within 0..999999.", name)
        if not low <= quantity <= high:
            raise invalid(
                f"{param}[quantity] must be between {name}[minimum] and {name}[maximum].",
                f"{param}[quantity]",
            )

    def _price_from_data(self, data: dict[str, Any], param: str) -> dict[str, Any]:
        self._check_exclusive_nested(data, param, "product", "product_data")
        self._check_exclusive_nested(data, param, "unit_amount", "unit_amount_decimal")
        if "product" in data:
            product = self._lookup("product", data["product"], f"{param}[product]")
        elif "product_data" in data:
            images = data["product_data"].get("images", [])
            if len(images) > 8:
                raise invalid("You may only pass up to 8 images.", f"{param}[product_data][images]")
            product = self._product(data["product_data"])
        else:
            raise missing(f"{param}[product_data]")
        if "unit_amount" in data:
            if data["unit_amount"] < 0:
                raise integer_error("Invalid non-negative integer", f"{param}[unit_amount]")
            unit = Decimal(data["unit_amount"])
        elif "unit_amount_decimal" in data:
            unit = data["unit_amount_decimal"]
        else:
            raise missing(f"{param}[unit_amount]")
        price = self._price_object(data["currency"], unit, product["id"], data.get("recurring"))
        price["tax_behavior"] = data.get("tax_behavior", "unspecified")
        return price

    def _product(self, data: dict[str, Any]) -> dict[str, Any]:
        product = {
            "id": new_id("prod_", 14),
            "object": "product",
            "active": True,
            "description": data.get("description"),
            "images": data.get("images", []),
            "metadata": data.get("metadata", {}),
            "name": data["name"],
            "tax_code": data.get("tax_code"),
        }
        self.objects[product["id"]] = product
        return product

    def _price_object(
        self,
        currency: str,
        unit: Decimal,
        product_id: str,
        recurring: dict[str, Any] | None,
        *,
        active: bool = False,
    ) -> dict[str, Any]:
        whole = unit == unit.to_integral_value()
        return {
            "id": new_id("price_"),
            "object": "price",
            "active": active,
            "billing_scheme": "per_unit",
            "created": int(self.clock()),
            "currency": currency,
            "livemode": False,
            "lookup_key": None,
            "metadata": {},
            "nickname": None,
            "product": product_id,
            "recurring": (
                {"interval": recurring["interval"], "interval_count": 1, **recurring}
                if recurring
                else None
            ),
            "tax_behavior": "unspecified",
            "type": "recurring" if recurring else "one_time",
            "unit_amount": int(unit) if whole else None,
            "unit_amount_decimal": str(int(unit)) if whole else str(unit),
        }

    def _discount(
        self, discounts: list[dict[str, Any]], subtotal: int, currency: str | None
    ) -> int:
        if not discounts:
            return 0
        if len(discounts) > 1:
            raise invalid("You may only specify one discount.", "discounts")
        entry = discounts[0]
        self._check_exclusive_nested(entry, "discounts[0]", "coupon", "promotion_code")
        if "promotion_code" in entry:
            param = "discounts[0][promotion_code]"
            code = self._lookup("promotion_code", entry["promotion_code"], param)
            coupon = self._lookup("coupon", self._coupon_of(code), param)
        elif "coupon" in entry:
            param = "discounts[0][coupon]"
            coupon = self._lookup("coupon", entry["coupon"], param)
        else:
            raise missing("discounts[0][coupon]")
        return self._coupon_amount(coupon, subtotal, currency, param)

    @staticmethod
    def _coupon_amount(
        coupon: dict[str, Any], subtotal: int, currency: str | None, param: str
    ) -> int:
        """What a coupon takes off a subtotal: a percentage (rounded half up) or a fixed amount
        in the session's currency, never more than the subtotal."""
        if coupon["percent_off"] is not None:
            off = Decimal(subtotal) * Decimal(str(coupon["percent_off"])) / 100
            return min(subtotal, int(off.to_integral_value(rounding=ROUND_HALF_UP)))
        if coupon["currency"] != currency:
            raise invalid(
                f"The coupon {coupon['id']} is in {coupon['currency']}, but this Checkout "
                f"Session is in {currency}.",
                param,
            )
        return min(subtotal, int(coupon["amount_off"]))

    @staticmethod
    def _spread_discount(items: list[dict[str, Any]], discount: int) -> None:
        """Share the discount out over the line items in proportion to their subtotals, in whole
        minor units: each line first gets its share rounded down, then the cents left over go
        one each to the lines with the largest fractions. So the shares add up to the discount
        and no line is discounted below zero (a free line item gets nothing), as on Stripe,
        where every line's `amount_total` = `amount_subtotal` - `amount_discount` ≥ 0."""
        subtotal = sum(item["amount_subtotal"] for item in items)
        shares = [0] * len(items)
        if subtotal > 0:
            exact = [discount * item["amount_subtotal"] for item in items]  # ÷ subtotal
            shares = [part // subtotal for part in exact]
            left = discount - sum(shares)
            by_fraction = sorted(range(len(items)), key=lambda i: -(exact[i] % subtotal))
            for index in by_fraction[:left]:
                shares[index] += 1
        for item, share in zip(items, shares, strict=True):
            item["amount_discount"] = share
            item["amount_total"] = item["amount_subtotal"] - share

    def _shipping(
        self, params: dict[str, Any], currency: str | None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        options = []
        raw_options = params.get("shipping_options", [])
        if len(raw_options) > 5:
            raise invalid("You may only specify up to 5 shipping options.", "shipping_options")
        for index, raw in enumerate(raw_options):
            param = f"shipping_options[{index}]"
            self._check_exclusive_nested(raw, param, "shipping_rate", "shipping_rate_data")
            if "shipping_rate" in raw:
                rate = self._lookup(
                    "shipping_rate", raw["shipping_rate"], f"{param}[shipping_rate]"
                )
                amount = int(rate["fixed_amount"]["amount"])
                rate_id = str(rate["id"])
            elif "shipping_rate_data" in raw:
                amount = self._shipping_rate_amount(raw["shipping_rate_data"], currency, param)
                rate_id = new_id("shr_")
            else:
                raise missing(f"{param}[shipping_rate]")
            options.append({"shipping_amount": amount, "shipping_rate": rate_id})
        if not options:
            return [], None
        first = options[0]
        cost = {
            "amount_subtotal": first["shipping_amount"],
            "amount_tax": 0,
            "amount_total": first["shipping_amount"],
            "shipping_rate": first["shipping_rate"],
        }
        return options, cost

    @staticmethod
    def _shipping_rate_amount(data: dict[str, Any], currency: str | None, param: str) -> int:
        name = f"{param}[shipping_rate_data][fixed_amount]"
        if "fixed_amount" not in data:
            raise missing(name)
        fixed = data["fixed_amount"]
        if fixed["currency"] != currency:
            raise invalid(
                f"The shipping rate currency ({fixed['currency']}) must match the Checkout "
                f"Session currency ({currency}).",
                f"{name}[currency]",
            )
        if fixed["amount"] < 0:
            raise integer_error("Invalid non-negative integer", f"{name}[amount]")
        return int(fixed["amount"])

    def _promotion_code_named(self, code: str) -> dict[str, Any] | None:
        """The active promotion code a customer typed (Stripe ignores case)."""
        return next(
            (
                obj
                for obj in self.objects.values()
                if obj.get("object") == "promotion_code"
                and obj["active"]
                and str(obj["code"]).lower() == code.lower()
            ),
            None,
        )

    @staticmethod
    def _coupon_of(promo: dict[str, Any]) -> str:
        """The coupon a promotion code applies (`promotion.coupon`; `coupon` before clover)."""
        promotion = promo.get("promotion") or {}
        return str(promotion.get("coupon") or promo.get("coupon"))
