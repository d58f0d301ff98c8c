"""Parameter schemas (allow-lists) of the endpoints the stand-in serves, checked against the SDK's
typed params in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

STRING = "string"
INTEGER = "integer"
BOOLEAN = "boolean"
URL = "url"
EMAIL = "email"
CURRENCY = "currency"
COUNTRY = "country"
DECIMAL = "decimal"
METADATA = "metadata"
RANGE = "range"  # an integer, or {gt, gte, lt, lte} of integers (list filters on `created`)
RANGE_BOUNDS = {
    "gt": lambda value, bound: value > bound,
    "gte": lambda value, bound: value >= bound,
    "lt": lambda value, bound: value < bound,
    "lte": lambda value, bound: value <= bound,
}


@dataclass(frozen=True)
class Required:
    """Marks a field Stripe refuses to go without (`parameter_missing`)."""

    schema: Schema


# A leaf kind (STRING, ...), an enum (tuple of allowed strings), an object (dict of fields),
# an array (one-element list holding the item schema), or a Required wrapper.
Schema: TypeAlias = str | tuple[str, ...] | Required | dict[str, "Schema"] | list["Schema"]

TAX_BEHAVIOR = ("exclusive", "inclusive", "unspecified")
INTERVAL = ("day", "month", "week", "year")
MESSAGE: Schema = {"message": Required(STRING)}

PRODUCT_DATA: Schema = {
    "description": STRING,
    "images": [URL],
    "metadata": METADATA,
    "name": Required(STRING),
    "tax_code": STRING,
    "unit_label": STRING,
}
PRICE_DATA: Schema = {
    "currency": Required(CURRENCY),
    "product": STRING,
    "product_data": PRODUCT_DATA,
    "recurring": {"interval": Required(INTERVAL), "interval_count": INTEGER},
    "tax_behavior": TAX_BEHAVIOR,
    "unit_amount": INTEGER,
    "unit_amount_decimal": DECIMAL,
}
LINE_ITEM: Schema = {
    "adjustable_quantity": {"enabled": Required(BOOLEAN), "maximum": INTEGER, "minimum": INTEGER},
    "metadata": METADATA,
    "price": STRING,
    "price_data": PRICE_DATA,
    "quantity": INTEGER,
    "tax_rates": [STRING],
}
SHIPPING_ADDRESS: Schema = {
    "city": STRING,
    "country": STRING,
    "line1": Required(STRING),
    "line2": STRING,
    "postal_code": STRING,
    "state": STRING,
}
PAYMENT_INTENT_DATA: Schema = {
    "application_fee_amount": INTEGER,
    "capture_method": ("automatic", "automatic_async", "manual"),
    "description": STRING,
    "metadata": METADATA,
    "on_behalf_of": STRING,
    "receipt_email": EMAIL,
    "setup_future_usage": ("off_session", "on_session"),
    "shipping": {
        "address": Required(SHIPPING_ADDRESS),
        "carrier": STRING,
        "name": Required(STRING),
        "phone": STRING,
        "tracking_number": STRING,
    },
    "statement_descriptor": STRING,
    "statement_descriptor_suffix": STRING,
    "transfer_group": STRING,
}
DELIVERY_BOUND: Schema = {
    "unit": Required(("business_day", "day", "hour", "month", "week")),
    "value": Required(INTEGER),
}
SHIPPING_RATE_DATA: Schema = {
    "delivery_estimate": {"maximum": DELIVERY_BOUND, "minimum": DELIVERY_BOUND},
    "display_name": Required(STRING),
    "fixed_amount": {"amount": Required(INTEGER), "currency": Required(CURRENCY)},
    "metadata": METADATA,
    "tax_behavior": TAX_BEHAVIOR,
    "tax_code": STRING,
    "type": ("fixed_amount",),
}
TEXT_LIMITS: Schema = {
    "default_value": STRING,
    "maximum_length": INTEGER,
    "minimum_length": INTEGER,
}
CUSTOM_FIELD: Schema = {
    "dropdown": {
        "default_value": STRING,
        "options": Required([{"label": Required(STRING), "value": Required(STRING)}]),
    },
    "key": Required(STRING),
    "label": Required({"custom": Required(STRING), "type": Required(("custom",))}),
    "numeric": TEXT_LIMITS,
    "optional": BOOLEAN,
    "text": TEXT_LIMITS,
    "type": Required(("dropdown", "numeric", "text")),
}
LOCALES = (
    "auto", "bg", "cs", "da", "de", "el", "en", "en-GB", "es", "es-419", "et", "fi", "fil",
    "fr", "fr-CA", "hi-IN", "hr", "hu", "id", "it", "ja", "ko", "lt", "lv", "ms", "mt", "nb",
    "nl", "pl", "pt", "pt-BR", "ro", "ru", "sk", "sl", "sv", "th", "tr", "vi", "zh", "zh-HK",
    "zh-TW",
)  # fmt: skip

CHECKOUT_SESSION_CREATE: dict[str, Schema] = {
    "allow_promotion_codes": BOOLEAN,
    "allowed_payment_method_types": [STRING],
    "automatic_tax": {
        "enabled": Required(BOOLEAN),
        "liability": {"account": STRING, "type": Required(("account", "self"))},
    },
    "billing_address_collection": ("auto", "required"),
    "cancel_url": URL,
    "client_reference_id": STRING,
    "consent_collection": {
        "payment_method_reuse_agreement": {"position": Required(("auto", "hidden"))},
        "promotions": ("auto", "none"),
        "terms_of_service": ("none", "required"),
    },
    "currency": CURRENCY,
    "custom_fields": [CUSTOM_FIELD],
    "custom_text": {
        "after_submit": MESSAGE,
        "shipping_address": MESSAGE,
        "submit": MESSAGE,
        "terms_of_service_acceptance": MESSAGE,
    },
    "customer": STRING,
    "customer_creation": ("always", "if_required"),
    "customer_email": EMAIL,
    "customer_update": {
        "address": ("auto", "never"),
        "name": ("auto", "never"),
        "shipping": ("auto", "never"),
    },
    "discounts": [{"coupon": STRING, "promotion_code": STRING}],
    "excluded_payment_method_types": [STRING],
    "expand": [STRING],
    "expires_at": INTEGER,
    "invoice_creation": {
        "enabled": Required(BOOLEAN),
        "invoice_data": {"description": STRING, "footer": STRING, "metadata": METADATA},
    },
    "line_items": [LINE_ITEM],
    "locale": LOCALES,
    "metadata": METADATA,
    "mode": Required(("payment", "setup", "subscription")),
    "payment_intent_data": PAYMENT_INTENT_DATA,
    "phone_number_collection": {"enabled": Required(BOOLEAN)},
    "redirect_on_completion": ("always", "if_required", "never"),
    "return_url": URL,
    "setup_intent_data": {"description": STRING, "metadata": METADATA, "on_behalf_of": STRING},
    "shipping_address_collection": {"allowed_countries": Required([COUNTRY])},
    "shipping_options": [{"shipping_rate": STRING, "shipping_rate_data": SHIPPING_RATE_DATA}],
    "submit_type": ("auto", "book", "donate", "pay", "subscribe"),
    "subscription_data": {
        "description": STRING,
        "metadata": METADATA,
        "trial_end": INTEGER,
        "trial_period_days": INTEGER,
    },
    "success_url": URL,
    "tax_id_collection": {"enabled": Required(BOOLEAN), "required": ("if_supported", "never")},
    "ui_mode": ("elements", "embedded_page", "form", "hosted_page"),
}
CHECKOUT_SESSION_LIST: dict[str, Schema] = {
    "created": RANGE,
    "customer": STRING,
    "customer_account": STRING,
    "customer_details": {"email": Required(EMAIL)},
    "ending_before": STRING,
    "expand": [STRING],
    "limit": INTEGER,
    "payment_intent": STRING,
    "payment_link": STRING,
    "starting_after": STRING,
    "status": ("complete", "expired", "open"),
    "subscription": STRING,
}
PAGINATION: dict[str, Schema] = {
    "ending_before": STRING,
    "expand": [STRING],
    "limit": INTEGER,
    "starting_after": STRING,
}
EXPAND_ONLY: dict[str, Schema] = {"expand": [STRING]}
PAYMENT_INTENT_RETRIEVE: dict[str, Schema] = {"client_secret": STRING, "expand": [STRING]}
REFUND_CREATE: dict[str, Schema] = {
    "amount": INTEGER,
    "charge": STRING,
    "currency": CURRENCY,
    "customer": STRING,
    "expand": [STRING],
    "instructions_email": EMAIL,
    "metadata": METADATA,
    "origin": ("customer_balance",),
    "payment_intent": STRING,
    "reason": ("duplicate", "fraudulent", "requested_by_customer"),
    "refund_application_fee": BOOLEAN,
    "reverse_transfer": BOOLEAN,
}
