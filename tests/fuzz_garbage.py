"""The webhook fuzzer's garbage: random text and JSON, mutations of valid values at random paths,
JSON nested deeper than any parser should follow."""

from __future__ import annotations

import copy
import json
import random
import string
from collections.abc import Iterator
from typing import Any

from tests.fuzz_requests import DEEP

# --------------------------------------------------------------------------- garbage


def _text(rng: random.Random) -> str:
    pool = [
        "",
        " ",
        "0",
        "-1",
        "1e3",
        "null",
        "true",
        "💥🛒",
        "\u0000",
        "\ud800",  # a lone surrogate: valid in JSON escapes, not encodable as UTF-8
        "\u202eevil",
        "Ω≈ç√∫",
        "<b>bold</b>&amp;<",
        "'; DROP TABLE orders; --",
        "%s%n%x",
        "../../etc/passwd",
        "A" * rng.randint(100, 6000),
        "".join(rng.choice(string.printable) for _ in range(rng.randint(1, 40))),
        "".join(chr(rng.randint(0x80, 0x2FFF)) for _ in range(rng.randint(1, 30))),
    ]
    return rng.choice(pool)


def _hex(rng: random.Random, length: int) -> str:
    """Like secrets.token_hex, but from the seeded generator: the same ids on every run."""
    return rng.randbytes(length).hex()


def garbage(rng: random.Random, depth: int = 0) -> Any:
    """Any JSON value, biased to the ones that break parsers and type checks."""
    roll = rng.randrange(26 if depth < 4 else 20)
    scalars: list[Any] = [
        None,
        True,
        False,
        0,
        -1,
        1,
        2**31,
        2**63,
        -(2**63) - 1,
        10**30,
        1.5,
        -0.0,
        float("inf"),
        float("nan"),
        rng.randint(-(10**6), 10**6),
    ]
    if roll < len(scalars):
        return scalars[roll]
    if roll < 20:
        return _text(rng)
    if roll < 22:
        return [garbage(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if roll < 24:
        return {_text(rng)[:20]: garbage(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return [] if roll == 24 else {}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def mutate(value: Any, rng: random.Random, times: int) -> Any:
    """Replace, delete, add or re-type random nodes (never the root itself)."""
    value = copy.deepcopy(value)
    for _ in range(times):
        paths = [p for p in _paths(value) if p]
        if not paths:
            break
        path = rng.choice(paths)
        parent, key = _get(value, path[:-1]), path[-1]
        op = rng.randrange(6)
        if op == 0 and isinstance(parent, dict):
            del parent[key]
        elif op == 1 and isinstance(parent, dict):
            weird = rng.choice(["__proto__", "to_dict", "_retrieve_params", "", "id ", "🔑"])
            parent[weird] = garbage(rng)
        elif op == 2:
            parent[key] = [parent[key]]
        else:
            parent[key] = garbage(rng)
    return value


def deep_json(rng: random.Random) -> bytes:
    opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
    return (opener * DEEP + "1" + closer * DEEP).encode()


def _loads(body: bytes) -> Any:
    """What the app will see, or a sentinel when the body is not JSON it can parse."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return _UNPARSABLE


_UNPARSABLE = object()
