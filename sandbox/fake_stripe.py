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
tables below when the shop starts sending it.

Notes for this API version: `payment_method_types` is no longer a create parameter (use
`allowed_payment_method_types`); `ui_mode` is `hosted_page` (default), `embedded_page`,
`elements` or `form`; a completed session's shipping address is in
`collected_information.shipping_details` (there is no top-level `shipping_details`); a promotion
code points at its coupon through `promotion.coupon`. With `allow_promotion_codes` the customer
may type a code on the hosted page (`pay(..., promotion_code=…)`): like Stripe, that lowers
`amount_total` and the line items' totals and fills `total_details.amount_discount`, while
`amount_subtotal` stays what the line items add up to.

Errors the endpoint raises are never stored under an idempotency key (Stripe does not store
validation failures), and neither are injected faults, so a retry with the same key executes.
Sessions do not expire by themselves: call `expire()`. Expiring one through the API
(`POST /v1/checkout/sessions/{id}/expire`, open sessions only) sends `checkout.session.expired`
like Stripe does (see `send_event`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import functools
import hashlib
import hmac
import json
import re
import secrets
import string
import time
import typing
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from email.utils import formatdate
from typing import Any, TypeAlias
from urllib.parse import parse_qsl, urlsplit

import aiohttp
from aiohttp import web

API_VERSION = "2026-10-28.endive"
MAX_AMOUNT = 99_999_999  # eight digits: $999,999.99
DOCS_URL = "https://stripe.com/docs"


# --------------------------------------------------------------------------------------------
# Errors in Stripe's format
# --------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer in Stripe's format: {"error": {"type", "code", "param", "message"}}."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"{DOCS_URL}/error-codes/{self.code.replace('_', '-')}"
        if self.param is not None:
            error["param"] = self.param
        return {"error": error}


def invalid(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, code=code, param=param)


def missing(param: str) -> ApiError:
    return invalid(f"Missing required param: {param}.", param, "parameter_missing")


def unknown(param: str) -> ApiError:
    return invalid(f"Received unknown parameter: {param}", param, "parameter_unknown")


def exclusive(*params: str) -> ApiError:
    names = ", ".join(p.rsplit("[", 1)[-1].rstrip("]") for p in params)
    message = f"You may only specify one of these parameters: {names}."
    return invalid(message, params[0], "parameters_exclusive")


def empty_string(param: str) -> ApiError:
    message = (
        f"You passed an empty string for '{param}'. We assume empty values are an attempt to "
        f"unset a parameter; however '{param}' cannot be unset. You should remove '{param}' "
        "from your request or supply a non-empty value."
    )
    return invalid(message, param, "parameter_invalid_empty")


def no_such(kind: str, object_id: str, param: str, status: int = 400) -> ApiError:
    return ApiError(status, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)


def integer_error(message: str, param: str) -> ApiError:
    return invalid(message, param, "parameter_invalid_integer")


# --------------------------------------------------------------------------------------------
# Parameter schemas (allow-lists), checked against the SDK's typed params in the tests
# --------------------------------------------------------------------------------------------

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

# Stripe's presentment currencies (https://docs.stripe.com/currencies#presentment-currencies).
_CURRENCY_CODES = (
    "usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd "
    "bwp byn bzd cad cdf chf clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp "
    "gel gip gmd gnf gtq gyd hkd hnl htg huf idr ils inr isk jmd jod jpy kes kgs khr kmf krw "
    "kwd kyd kzt lak lbp lkr lrd lsl mad mdl mga mkd mmk mnt mop mur mvr mwk mxn myr mzn nad "
    "ngn nio nok npr nzd omr pab pen pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek "
    "sgd shp sle sos srd std szl thb tjs tnd top try ttd twd tzs uah ugx uyu uzs vnd vuv wst "
    "xaf xcd xof xpf yer zar zmw"
)
CURRENCIES = frozenset(_CURRENCY_CODES.split())
# Zero-decimal currencies as the API counts them. UGX is not among them: Stripe's "special
# cases" keep it (like ISK) two-decimal in the API, with amounts that always end in 00.
_ZERO_DECIMAL_CODES = "bif clp djf gnf jpy kmf krw mga pyg rwf vnd vuv xaf xof xpf"
ZERO_DECIMAL = frozenset(_ZERO_DECIMAL_CODES.split())
THREE_DECIMAL = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])
# expires_at bounds of a Checkout Session, seconds after its creation.
MIN_SESSION_LIFE_SECONDS = 30 * 60
MAX_SESSION_LIFE_SECONDS = 24 * 60 * 60
# Stripe's minimum charge amounts, in the currency's minor unit. Other currencies are only
# held to "more than zero" here (Stripe converts them to the settlement currency).
MINIMUM_AMOUNTS = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50, "czk": 1500,
    "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50, "jpy": 50,
    "mxn": 1000, "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200, "sek": 300,
    "sgd": 50, "thb": 1000,
}  # fmt: skip
SYMBOLS = {"usd": "$", "cad": "$", "aud": "$", "nzd": "$", "sgd": "$", "hkd": "$", "mxn": "$",
           "eur": "€", "gbp": "£", "jpy": "¥", "inr": "₹", "brl": "R$", "krw": "₩"}  # fmt: skip


def _sdk_countries() -> frozenset[str] | None:
    """The country codes Checkout accepts, as listed by the SDK (no "UK": it is "GB")."""
    try:
        from stripe.params.checkout import _session_create_params as params

        hint = params.SessionCreateParamsShippingAddressCollection.__annotations__[
            "allowed_countries"
        ]
        literal = typing.get_args(typing.get_args(hint)[0])[0]
        codes = frozenset(str(code) for code in typing.get_args(literal))
    except (ImportError, AttributeError, IndexError, KeyError):
        return None
    return codes or None


COUNTRIES = _sdk_countries()


# --------------------------------------------------------------------------------------------
# Bracket-notation decoding and schema coercion
# --------------------------------------------------------------------------------------------

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_BRACKETS = re.compile(r"\[([^\[\]]*)\]")


def decode_params(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Decode Stripe's bracket notation into nested dicts and lists.

    `line_items[0][price_data][currency]=usd&metadata[order_id]=12&expand[]=x` becomes
    `{"line_items": [{"price_data": {"currency": "usd"}}], "metadata": {"order_id": "12"},
    "expand": ["x"]}`. Values stay strings: the schema decides what is an integer or boolean.
    A dict whose keys are exactly 0..n-1 becomes a list.
    """
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if match is None:
            raise invalid(f"Invalid parameter name: {key}", key)
        parts = [match.group(1), *_BRACKETS.findall(match.group(2))]
        node = root
        for depth, part in enumerate(parts):
            name = part if part else str(len(node))  # `a[]=x` appends
            if depth == len(parts) - 1:
                if isinstance(node.get(name), dict):
                    raise invalid(f"Invalid value for {key}: expected a hash", key)
                node[name] = value
                break
            child = node.setdefault(name, {})
            if not isinstance(child, dict):
                raise invalid(f"Invalid value for {key}: expected a hash", key)
            node = child
    return typing.cast(dict[str, Any], _listify(root))


def _listify(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    converted = {key: _listify(item) for key, item in value.items()}
    if converted and all(key.isdigit() for key in converted):
        indexes = sorted(int(key) for key in converted)
        if indexes == list(range(len(indexes))):
            return [converted[str(index)] for index in indexes]
    return converted


def _child(param: str, key: str | int) -> str:
    return f"{param}[{key}]" if param else str(key)


def find_unknown(value: Any, schema: Schema, param: str = "") -> None:
    """Raise `parameter_unknown` for the first parameter the schema does not list."""
    if isinstance(schema, Required):
        return find_unknown(value, schema.schema, param)
    if isinstance(schema, dict) and isinstance(value, dict):
        for key, item in value.items():
            if key not in schema:
                raise unknown(_child(param, key))
            find_unknown(item, schema[key], _child(param, key))
    elif isinstance(schema, list) and isinstance(value, list):
        for index, item in enumerate(value):
            find_unknown(item, schema[0], _child(param, index))
    elif schema == RANGE and isinstance(value, dict):
        for key in value:
            if key not in ("gt", "gte", "lt", "lte"):
                raise unknown(_child(param, key))


def coerce(value: Any, schema: Schema, param: str = "") -> Any:
    """Check a decoded value against its schema and convert strings to ints/bools/Decimals."""
    if isinstance(schema, Required):
        return coerce(value, schema.schema, param)
    if value == "" and schema != METADATA:
        raise empty_string(param)
    if isinstance(schema, dict):
        return _coerce_object(value, schema, param)
    if isinstance(schema, list):
        if not isinstance(value, list):
            raise invalid("Invalid array", param)
        return [coerce(item, schema[0], _child(param, index)) for index, item in enumerate(value)]
    if isinstance(schema, tuple):
        if value not in schema:
            raise invalid(f"Invalid {param}: must be one of {_one_of(schema)}", param)
        return value
    return _coerce_leaf(value, schema, param)


def _one_of(choices: tuple[str, ...]) -> str:
    if len(choices) < 3:
        return " or ".join(choices)
    return ", ".join(choices[:-1]) + f", or {choices[-1]}"


def _coerce_object(value: Any, schema: dict[str, Schema], param: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid("Invalid object", param)
    result = {key: coerce(item, schema[key], _child(param, key)) for key, item in value.items()}
    for key, item_schema in schema.items():
        if isinstance(item_schema, Required) and key not in value:
            raise missing(_child(param, key))
    return result


def _coerce_leaf(value: Any, kind: str, param: str) -> Any:
    if kind == METADATA:
        return coerce_metadata(value, param)
    if kind == RANGE and isinstance(value, dict):
        for key in value:
            if key not in RANGE_BOUNDS:
                raise unknown(_child(param, key))
        return {key: _coerce_leaf(item, INTEGER, _child(param, key)) for key, item in value.items()}
    if not isinstance(value, str):
        raise invalid(f"Invalid {'integer' if kind in (INTEGER, RANGE) else 'string'}", param)
    if kind in (INTEGER, RANGE):
        if not re.fullmatch(r"-?\d+", value):
            raise integer_error(f"Invalid integer: {value}", param)
        return int(value)
    if kind == BOOLEAN:
        if value not in ("true", "false"):
            raise invalid(f"Invalid boolean: {value}", param)
        return value == "true"
    if kind == DECIMAL:
        if not re.fullmatch(r"\d+(\.\d{1,12})?", value):
            raise invalid(f"Invalid decimal: {value}", param)
        return Decimal(value)
    if kind == URL:
        check_url(value, param)
    elif kind == EMAIL and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise invalid(f"Invalid email address: {value}", param, "email_invalid")
    elif kind == CURRENCY and value not in CURRENCIES:
        raise invalid(
            f"Invalid currency: {value}. Stripe currently supports these currencies: "
            + ", ".join(sorted(CURRENCIES)),
            param,
        )
    elif kind == COUNTRY and not (
        value in COUNTRIES if COUNTRIES else re.fullmatch(r"[A-Z]{2}", value)
    ):
        raise invalid(
            f"Invalid {param}: must be a supported ISO 3166-1 alpha-2 country code "
            "in upper case, such as US or GB",
            param,
        )
    return value


def coerce_metadata(value: Any, param: str) -> dict[str, str]:
    """Metadata: ≤ 50 keys, keys ≤ 40 chars, string values ≤ 500 chars; "" unsets."""
    if value == "":
        return {}
    if isinstance(value, list):
        value = {str(index): item for index, item in enumerate(value)}
    if not isinstance(value, dict):
        raise invalid("Invalid hash", param)
    result: dict[str, str] = {}
    for key, item in value.items():
        item_param = _child(param, key)
        if not isinstance(item, str):
            raise invalid("Invalid metadata: metadata values must be strings", item_param)
        if len(key) > 40:
            raise invalid(
                "Metadata keys can have up to 40 characters, but you passed in a key "
                f"with {len(key)} characters.",
                item_param,
            )
        if len(item) > 500:
            raise invalid(
                "Metadata values can have up to 500 characters, but you passed in a value "
                f"with {len(item)} characters.",
                item_param,
            )
        if item:
            result[key] = item
    if len(result) > 50:
        raise invalid(
            f"Metadata can have up to 50 keys, but you passed in {len(result)} keys.", param
        )
    return result


def check_url(value: str, param: str) -> None:
    if len(value) > 5000:
        raise invalid("Invalid URL: URL must be 5000 characters or less.", param, "url_invalid")
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        host = None
    if parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in value):
        raise invalid("Not a valid URL", param, "url_invalid")


def format_amount(amount: int, currency: str) -> str:
    """`$0.50 usd`, `¥50 jpy` — the way Stripe's amount errors print money."""
    symbol = SYMBOLS.get(currency, "")
    if currency in ZERO_DECIMAL:
        return f"{symbol}{amount:,} {currency}"
    places = 3 if currency in THREE_DECIMAL else 2
    return f"{symbol}{amount / 10**places:,.{places}f} {currency}"


def new_id(prefix: str, length: int = 24) -> str:
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


def mask_key(key: str) -> str:
    """`sk_test_****************************1234`: never echo a whole key."""
    match = re.match(r"^((?:sk|rk|pk)_(?:test|live)_)(.*)$", key)
    prefix, rest = (match.group(1), match.group(2)) if match else ("", key)
    if len(rest) <= 8:
        return prefix + "*" * len(rest)
    return prefix + "*" * (len(rest) - 4) + rest[-4:]


@functools.cache
def _event_types() -> frozenset[str]:
    import stripe

    return frozenset(typing.get_args(stripe.Event.__annotations__["type"]))


# --------------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------------


@dataclass
class FakeRequest:
    """One API request the fake answered."""

    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None
    status: int = 0
    request_id: str = ""
    replayed: bool = False
    headers: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """A request header, looked up case-insensitively."""
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


@dataclass
class _Fault:
    method: str
    path_prefix: str
    remaining: int
    status: int


@dataclass
class _Stored:
    """An idempotency key's first answer."""

    method: str
    path: str
    params: dict[str, Any]
    status: int
    body: dict[str, Any]
    request_id: str


Handler = Callable[[FakeRequest, dict[str, str]], tuple[int, dict[str, Any]]]


class FakeStripe:
    """A strict Stripe API stand-in; see the module docstring."""

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
        self._recent_creates: deque[float] = deque()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("POST", re.compile(r"/v1/checkout/sessions"), self._create_session),
            ("GET", re.compile(r"/v1/checkout/sessions"), self._list_sessions),
            ("GET", re.compile(r"/v1/checkout/sessions/(?P<id>[^/]+)"), self._retrieve_session),
            ("POST", re.compile(r"/v1/checkout/sessions/(?P<id>[^/]+)/expire"), self._expire),
            (
                "GET",
                re.compile(r"/v1/checkout/sessions/(?P<id>[^/]+)/line_items"),
                self._list_line_items,
            ),
            ("GET", re.compile(r"/v1/payment_intents/(?P<id>[^/]+)"), self._retrieve_intent),
            ("GET", re.compile(r"/v1/charges/(?P<id>[^/]+)"), self._retrieve_charge),
            ("POST", re.compile(r"/v1/refunds"), self._create_refund),
            ("GET", re.compile(r"/v1/refunds/(?P<id>[^/]+)"), self._retrieve_refund),
        ]

    # ---- lifecycle -------------------------------------------------------------------------

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

    @property
    def api_base(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeStripe is not started: await fake.start() first")
        return f"http://127.0.0.1:{self._port}"

    # ---- test controls: inspection and fault injection --------------------------------------

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

    def line_items(self, session_id: str) -> list[dict[str, Any]]:
        """The session's line items as the API lists them (for a hosted page to show)."""
        self._session_for_control(session_id)
        return copy.deepcopy(self._line_items[session_id])

    # ---- test controls: what the customer does on the hosted page ---------------------------

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

    def expire(self, session_id: str) -> dict[str, Any]:
        """The session's expires_at passes (or it is expired in the Dashboard)."""
        session = self._session_for_control(session_id)
        if session["status"] != "open":
            raise ValueError(f"session {session_id} is {session['status']}, not open")
        self._mark_expired(session)
        return copy.deepcopy(session)

    # ---- test controls: events and webhooks ------------------------------------------------

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

    # ---- HTTP plumbing ---------------------------------------------------------------------

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
        now = time.monotonic()
        while self._recent_creates and now - self._recent_creates[0] >= 1.0:
            self._recent_creates.popleft()
        if len(self._recent_creates) >= limit:
            self.rate_limited += 1
            raise self._rate_limit_error()
        self._recent_creates.append(now)

    @staticmethod
    def _rate_limit_error() -> ApiError:
        return ApiError(
            429,
            "Request rate limit exceeded. You can learn more about rate limits here "
            f"{DOCS_URL}/rate-limits.",
            code="rate_limit",
        )

    def _route(self, record: FakeRequest) -> tuple[Handler, dict[str, str]]:
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(record.path)
            if match and method == record.method:
                return handler, match.groupdict()
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

    # ---- endpoints: checkout sessions ------------------------------------------------------

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
        sessions = [s for s in reversed(self.sessions.values()) if self._matches(s, params)]
        page = self._paginate(sessions, params, "/v1/checkout/sessions", "checkout.session")
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
            if path != "data.price.product":
                raise invalid(f"This property cannot be expanded ({path}).", "expand")
        page = self._paginate(self._line_items[session["id"]], params, url, "item")
        if expand:
            for item in page["data"]:
                product_id = item["price"]["product"]
                item["price"]["product"] = copy.deepcopy(self.objects.get(product_id, product_id))
        return 200, page

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

    # ---- endpoints: payment intents, charges, refunds --------------------------------------

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

    # ---- checkout session validation -------------------------------------------------------

    @staticmethod
    def _parse(raw: dict[str, Any], schema: dict[str, Schema]) -> dict[str, Any]:
        find_unknown(raw, schema)
        return typing.cast(dict[str, Any], coerce(raw, schema))

    @staticmethod
    def _check_exclusive(params: dict[str, Any], names: tuple[str, ...]) -> None:
        given = [name for name in names if name in params]
        if len(given) > 1:
            raise exclusive(*given)

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
        elif len(params["line_items"]) > 100:
            raise invalid(
                f"You may only specify up to 100 line items in `{mode}` mode.", "line_items"
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

    def _lookup(self, kind: str, object_id: str, param: str) -> dict[str, Any]:
        obj = self.objects.get(object_id)
        if obj is None or obj.get("object") != kind:
            raise no_such(kind, object_id, param)
        return obj

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

    @staticmethod
    def _check_exclusive_nested(data: dict[str, Any], param: str, *names: str) -> None:
        given = [f"{param}[{name}]" for name in names if name in data]
        if len(given) > 1:
            raise exclusive(*given)

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
        """Share the discount out over the line items in proportion to their subtotals."""
        subtotal = max(1, sum(item["amount_subtotal"] for item in items))
        left = discount
        for item in items:
            share = min(left, discount * item["amount_subtotal"] // subtotal)
            item["amount_discount"] = share
            left -= share
        if items:
            items[-1]["amount_discount"] += left  # rounding remainder
        for item in items:
            item["amount_total"] = item["amount_subtotal"] - item["amount_discount"]

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
                if subtotal is not None
                else None
            ),
            "ui_mode": ui_mode,
            "url": f"{self.hosted_base_url or self.api_base}/c/pay/{session_id}"
            if hosted
            else None,
            "wallet_options": None,
        }

    # ---- sessions: lookup, expansion, listing ----------------------------------------------

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

    def _expand_session(self, session: dict[str, Any], expand: list[str]) -> dict[str, Any]:
        result = copy.deepcopy(session)
        for path in expand:
            if path == "line_items":
                items = self._line_items[session["id"]]
                url = f"/v1/checkout/sessions/{session['id']}/line_items"
                result["line_items"] = self._paginate(items, {}, url, "item")
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

    @staticmethod
    def _matches(session: dict[str, Any], params: dict[str, Any]) -> bool:
        """Whether a session passes every filter given to the list endpoint — each one, exactly
        as documented: `created` (a timestamp or gt/gte/lt/lte bounds), `status`, the ids
        (a session with none never matches one) and `customer_details[email]`."""
        created = params.get("created")
        if isinstance(created, int) and session["created"] != created:
            return False
        if isinstance(created, dict) and not all(
            RANGE_BOUNDS[name](session["created"], bound) for name, bound in created.items()
        ):
            return False
        ids = ("payment_intent", "customer", "customer_account", "payment_link", "subscription")
        for name in ("status", *ids):
            if name in params and session.get(name) != params[name]:
                return False
        email = params.get("customer_details", {}).get("email")
        details = session["customer_details"] or {}
        return email is None or details.get("email") == email

    @staticmethod
    def _paginate(
        objects: list[dict[str, Any]], params: dict[str, Any], url: str, kind: str
    ) -> dict[str, Any]:
        limit = params.get("limit", 10)
        if not 1 <= limit <= 100:
            raise invalid(
                "This value must be greater than or equal to 1 and less than or equal to 100.",
                "limit",
                "parameter_invalid_integer",
            )
        if "starting_after" in params and "ending_before" in params:
            raise exclusive("ending_before", "starting_after")
        ids = [obj["id"] for obj in objects]
        if "starting_after" in params:
            cursor = params["starting_after"]
            if cursor not in ids:
                raise no_such(kind, cursor, "starting_after")
            rest = objects[ids.index(cursor) + 1 :]
            page, has_more = rest[:limit], len(rest) > limit
        elif "ending_before" in params:
            cursor = params["ending_before"]
            if cursor not in ids:
                raise no_such(kind, cursor, "ending_before")
            before = objects[: ids.index(cursor)]
            page, has_more = before[-limit:], len(before) > limit
        else:
            page, has_more = objects[:limit], len(objects) > limit
        return {
            "object": "list",
            "data": copy.deepcopy(page),
            "has_more": has_more,
            "url": url,
        }

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

    def _mark_expired(self, session: dict[str, Any]) -> None:
        session["status"] = "expired"
        session["url"] = None

    # ---- payments --------------------------------------------------------------------------

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
