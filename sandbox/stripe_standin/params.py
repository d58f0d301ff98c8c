"""Bracket-notation decoding of form bodies and schema coercion: unknown, missing and malformed
parameters are refused the way Stripe refuses them.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from sandbox.stripe_standin.errors import (
    empty_string,
    integer_error,
    invalid,
    missing,
    unknown,
)
from sandbox.stripe_standin.reference import (
    COUNTRIES,
    CURRENCIES,
)
from sandbox.stripe_standin.schema import (
    BOOLEAN,
    COUNTRY,
    CURRENCY,
    DECIMAL,
    EMAIL,
    INTEGER,
    METADATA,
    RANGE,
    RANGE_BOUNDS,
    URL,
    Required,
    Schema,
)

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
