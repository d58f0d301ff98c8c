"""The stand-in's parameter tables accept only what stripe-python's typed params define."""

from __future__ import annotations

import copy
import re
import sys
from typing import Any

import pytest
from stripe.params import _payment_intent_retrieve_params, _refund_create_params
from stripe.params.checkout import (
    _session_create_params,
    _session_list_line_items_params,
    _session_list_params,
    _session_retrieve_params,
)

from sandbox.fake_stripe import (
    BOOLEAN,
    CHECKOUT_SESSION_CREATE,
    CHECKOUT_SESSION_LIST,
    EXPAND_ONLY,
    INTEGER,
    PAGINATION,
    PAYMENT_INTENT_RETRIEVE,
    REFUND_CREATE,
    Required,
    Schema,
)


def _unwrap(schema: Schema) -> Schema:
    while isinstance(schema, (Required, list)):
        schema = schema.schema if isinstance(schema, Required) else schema[0]
    return schema


def assert_in_sdk(schema: dict[str, Schema], typed_dict: type[Any], path: str = "") -> None:
    """Every parameter (and enum value) the fake accepts exists in stripe-python's params."""
    module = sys.modules[typed_dict.__module__]
    hints: dict[str, Any] = typed_dict.__annotations__
    for name, sub in schema.items():
        where = f"{path}[{name}]" if path else name
        assert name in hints, f"{where} is not a Stripe parameter ({typed_dict.__name__})"
        annotation = str(hints[name])
        leaf = _unwrap(sub)
        if isinstance(leaf, tuple):
            for value in leaf:
                assert f"'{value}'" in annotation, f"{where}={value!r} is not a Stripe value"
        elif isinstance(leaf, dict):
            match = re.search(r"([A-Z]\w*Params\w+)", annotation)
            assert match, f"{where}: no nested params class in {annotation}"
            assert_in_sdk(leaf, getattr(module, match.group(1)), where)
        elif leaf in (INTEGER, BOOLEAN):
            expected = "int" if leaf == INTEGER else "bool"
            assert expected in annotation, f"{where} is not {expected} in the SDK: {annotation}"


@pytest.mark.parametrize(
    ("schema", "typed_dict"),
    [
        (CHECKOUT_SESSION_CREATE, _session_create_params.SessionCreateParams),
        (CHECKOUT_SESSION_LIST, _session_list_params.SessionListParams),
        (PAGINATION, _session_list_line_items_params.SessionListLineItemsParams),
        (EXPAND_ONLY, _session_retrieve_params.SessionRetrieveParams),
        (PAYMENT_INTENT_RETRIEVE, _payment_intent_retrieve_params.PaymentIntentRetrieveParams),
        (REFUND_CREATE, _refund_create_params.RefundCreateParams),
    ],
)
def test_schema_tables_only_accept_real_stripe_parameters(
    schema: dict[str, Schema], typed_dict: type[Any]
) -> None:
    assert_in_sdk(schema, typed_dict)


def test_schema_check_would_catch_a_made_up_parameter() -> None:
    made_up: dict[str, Schema] = copy.deepcopy(CHECKOUT_SESSION_CREATE)
    made_up["payment_method_types"] = ["string"]
    with pytest.raises(AssertionError, match="payment_method_types is not a Stripe parameter"):
        assert_in_sdk(made_up, _session_create_params.SessionCreateParams)
