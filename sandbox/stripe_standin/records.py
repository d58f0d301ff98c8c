"""What the stand-in records per request, ids and key masking."""

from __future__ import annotations

import functools
import re
import secrets
import string
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


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
