"""Callback data for inline buttons: short ASCII codes that always fit Telegram's 64 bytes.

Only ids and small numbers go into callback data — never prices or titles — so a forged
callback can at most ask for something the buyer could ask for anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from shop.ids import parse_id

MAX_QUANTITY = 10
MAX_CALLBACK_BYTES = 64


@dataclass(frozen=True)
class Callback:
    action: str
    args: tuple[int, ...]


# action → number of integer arguments
_ARITY = {
    "cat": 1,  # catalog page (or the category menu when there are several)
    "cc": 2,  # a category's page: the category's first product id, page
    "prod": 1,  # product card
    "qty": 2,  # product id, quantity (re-draws the card's buttons)
    "max": 1,  # + at the most a buyer can take: product id (the toast says why)
    "buy": 2,  # product id, quantity
    "ord": 1,  # buyer's orders page
    "again": 1,  # send the goods of an order again
    "noop": 0,  # a label button
}


def encode(action: str, *args: int) -> str:
    if _ARITY.get(action) != len(args):
        raise ValueError(f"bad callback {action}{args}")
    data = ":".join([action, *(str(arg) for arg in args)])
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError("callback data over 64 bytes")
    return data


def decode(data: str) -> Callback | None:
    """Parse callback data; None for anything we did not make (old or forged buttons, ids
    in anything but ASCII digits)."""
    action, *raw = data.split(":")
    parsed = [parse_id(part) for part in raw]
    if _ARITY.get(action) != len(raw) or None in parsed:
        return None
    args = tuple(arg for arg in parsed if arg is not None)
    if action in {"qty", "buy"} and not 1 <= args[1] <= MAX_QUANTITY:
        return None
    return Callback(action, args)
