"""The webhook fuzzer's Telegram requests: updates of every shape (tests/fuzz_telegram_updates.py)
with the right secret token, a wrong one, or none."""

from __future__ import annotations

import json
import random
import string

from tests.fuzz_garbage import _loads, deep_json, mutate
from tests.fuzz_requests import TG_HEADER, TG_SECRET, Req, World
from tests.fuzz_stripe_inputs import _garbage_body, _huge_body
from tests.fuzz_telegram_updates import telegram_update

# --------------------------------------------------------------------------- Telegram requests


def _wrong_secret(rng: random.Random) -> list[tuple[str, str]]:
    choice = rng.randrange(10)
    if choice == 0:
        return []
    if choice == 1:
        return [(TG_HEADER, "")]
    if choice == 2:
        return [(TG_HEADER, TG_SECRET[:-1])]
    if choice == 3:
        return [(TG_HEADER, TG_SECRET + "x")]
    if choice == 4:
        return [(TG_HEADER, TG_SECRET.upper())]
    if choice == 5:  # (padding with spaces would not do: HTTP strips them, rightly)
        return [(TG_HEADER, TG_SECRET[::-1])]
    if choice == 6:
        return [(TG_HEADER, "whsec_fake_secret")]
    if choice == 7:
        return [(TG_HEADER, "wrong"), (TG_HEADER, TG_SECRET)]
    if choice == 8:
        return [("X-Telegram-Bot-Api-Secret", TG_SECRET)]  # a near-miss header name
    return [
        (
            TG_HEADER,
            "".join(rng.choice(string.ascii_letters + "-_") for _ in range(rng.randint(1, 200))),
        )
    ]


def _wrong_secret_request(rng: random.Random, world: World) -> Req:
    """A missing, wrong or undecodable secret token → 403, whatever the body."""
    roll = rng.random()
    if roll < 0.7:
        label = "update"
        update = telegram_update(rng, world, active=rng.random() < 0.5)
        body = json.dumps(mutate(update, rng, rng.randint(0, 2))).encode("utf-8", "surrogatepass")
    elif roll < 0.9:
        label, body = _garbage_body(rng)
    else:
        label, body = "huge", _huge_body(rng)
    if rng.random() < 0.04:
        value = rng.choice([b"\xff\xfe", TG_SECRET.encode() + b"\xff", b"\x80" + b"a" * 10])
        raw = TG_HEADER.encode() + b": " + value + b"\r\n"
        return Req(
            "telegram_unsigned",
            "raw-secret",
            "/telegram/webhook",
            body,
            raw_headers=raw,
            expect=frozenset({403}),
        )
    return Req(
        "telegram_unsigned",
        f"wrong-secret-{label}",
        "/telegram/webhook",
        body,
        tuple(_wrong_secret(rng)),
        expect=frozenset({403}),
    )


def _right_secret_request(rng: random.Random, world: World) -> Req:
    """The right secret token with a body that is not an update → 400 (413 when huge)."""
    roll = rng.random()
    expect = frozenset({400})
    if roll < 0.25:
        label = "truncated"
        full = json.dumps(telegram_update(rng, world, active=False)).encode(
            "utf-8", "surrogatepass"
        )
        body = full[: rng.randint(0, len(full) - 1)]
    elif roll < 0.5:
        label, body = _garbage_body(rng)
        if label == "json-scalar" and isinstance(_loads(body), dict):
            body = b"[]"
    elif roll < 0.75:
        label = "no-update-id"
        update = telegram_update(rng, world, active=False)
        update["update_id"] = rng.choice([None, "1", 1.5, [], {}, -(10**30) + 0.5])
        if rng.random() < 0.3:
            del update["update_id"]
        body = json.dumps(update).encode("utf-8", "surrogatepass")
    elif roll < 0.95:
        label, body = "huge", _huge_body(rng)
        expect = frozenset({413})
    else:
        label, body = "deep", deep_json(rng)
    return Req(
        "telegram_unsigned",
        f"right-secret-{label}",
        "/telegram/webhook",
        body,
        ((TG_HEADER, TG_SECRET),),
        expect=expect,
    )


def telegram_unsigned(rng: random.Random, world: World) -> Req:
    """Wrong or missing secret → 403; the right secret with a body that is not an update →
    400 (413 when huge). Neither may change anything."""
    if rng.random() < 0.6:
        return _wrong_secret_request(rng, world)
    return _right_secret_request(rng, world)


def telegram_signed(rng: random.Random, world: World) -> Req:
    """The right secret and an update of any shape, mangled or not: 200 or 400, never 5xx."""
    active = rng.random() < 0.1
    update = telegram_update(rng, world, active=active)
    if not active:
        update = mutate(update, rng, rng.choice([0, 1, 1, 2, 3]))
    headers: tuple[tuple[str, str], ...] = ((TG_HEADER, TG_SECRET),)
    if rng.random() < 0.03:  # the right secret first, a wrong one after it
        headers = ((TG_HEADER, TG_SECRET), (TG_HEADER, "wrong"))
    return Req(
        "telegram_signed",
        "active" if active else "update",
        "/telegram/webhook",
        json.dumps(update).encode("utf-8", "surrogatepass"),
        headers,
    )
