"""The webhook fuzzer's Stripe requests: events of every type about the world's orders, signed
well, badly or not at all, with bodies from valid to huge or unparsable."""

from __future__ import annotations

import json
import random
import string
import time
from typing import Any

from tests.fuzz_garbage import _hex, _text, deep_json, garbage, mutate
from tests.fuzz_requests import (
    HANDLED,
    JSON,
    MAX_BODY,
    SESSION_TYPES,
    TG_SECRET,
    UNHANDLED,
    Req,
    World,
)

# --------------------------------------------------------------------------- Stripe inputs


def _evt_id(rng: random.Random) -> str:
    return "evt_fz" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(20))


def envelope(rng: random.Random, type_: str, obj: Any) -> JSON:
    return {
        "id": _evt_id(rng),
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }


def session_object(rng: random.Random, world: World) -> JSON:
    """A checkout.session that is ours (right or wrong ref), not ours, or naming no order."""
    obj: JSON = {
        "id": "cs_test_fz" + _hex(rng, 8),
        "object": "checkout.session",
        "amount_total": rng.choice([999, 1998, 100, 0, -5, 2**63, 10**30]),
        "currency": rng.choice(["usd", "eur", "jpy"]),
        "livemode": rng.random() < 0.1,
        "metadata": {},
        "payment_intent": "pi_fz" + _hex(rng, 6),
        "payment_status": rng.choice(["paid", "unpaid", "no_payment_required"]),
        "status": rng.choice(["complete", "open", "expired"]),
        "collected_information": None,
    }
    roll = rng.random()
    if roll < 0.35 and world.orders:
        order = rng.choice(world.orders)
        right_ref = rng.random() < 0.7
        obj["metadata"] = {
            "order_id": str(order.id),
            "order_ref": order.ref if right_ref else _hex(rng, 12),
        }
        if rng.random() < 0.3:  # mostly wrong: the mismatch path is the one worth probing
            obj["amount_total"], obj["currency"] = order.amount_total, order.currency
        if order.session_id and rng.random() < 0.6:
            obj["id"] = order.session_id
        if rng.random() < 0.2:
            obj["collected_information"] = {
                "shipping_details": {
                    "name": _text(rng),
                    "address": {"line1": _text(rng), "country": "US", "city": garbage(rng)},
                }
            }
    elif roll < 0.75:
        obj["metadata"] = {
            "order_id": rng.choice(
                [
                    7,
                    -3,
                    "-3",
                    "0",
                    str(rng.randint(10_000, 10**9)),
                    "99999999999999999999999999",
                    "abc",
                    "1e3",
                    " 1",
                    "1 ",
                    "١",  # an Arabic-Indic digit: str.isdigit() says yes
                    "²",  # a superscript: isdigit() says yes, int() says no
                    "",
                    None,
                    [1],
                    {"id": 1},
                ]
            ),
            "order_ref": rng.choice([_hex(rng, 12), "", None, 5]),
        }
    return obj


def charge_object(rng: random.Random, world: World) -> JSON:
    paid = [o for o in world.orders if o.payment_intent]
    intents: list[Any] = [world.foreign_intent, None, 5, ""]
    intents += [o.payment_intent for o in paid] * 3
    intents.append("pi_unknown" + _hex(rng, 6))
    return {
        "id": "ch_fz" + _hex(rng, 6),
        "object": "charge",
        "amount": 999,
        "amount_refunded": rng.choice([0, 1, 100, 998, 999, 5000, -5, 10**30, True, "999"]),
        "currency": "usd",
        "payment_intent": rng.choice(intents),
        "refunded": rng.random() < 0.5,
    }


def stripe_event(rng: random.Random, world: World) -> JSON:
    roll = rng.random()
    if roll < 0.08:
        return envelope(rng, rng.choice(UNHANDLED), {"id": "cus_fz", "object": "customer"})
    type_ = rng.choice(HANDLED)
    if type_ == "charge.refunded":
        return envelope(rng, type_, charge_object(rng, world))
    return envelope(rng, type_, session_object(rng, world))


def stripe_body(event: Any, rng: random.Random) -> bytes:
    """Pretty-printed like Stripe, or compact; both must verify over the raw bytes."""
    if rng.random() < 0.5:
        return json.dumps(event, indent=2).encode()
    return json.dumps(event, separators=(",", ":"), ensure_ascii=rng.random() < 0.5).encode(
        "utf-8", "surrogatepass"
    )


def _sign(world: World, body: bytes, *, secret: str | None = None, ts: int | None = None) -> str:
    return world.stripe.sign(body, secret=secret, timestamp=ts)


def _bad_signature(rng: random.Random, world: World, body: bytes) -> list[tuple[str, str]]:
    """A Stripe-Signature header (or none, or two) that does not authenticate `body`."""
    now = int(time.time())
    good = _sign(world, body)
    digest = good.split("v1=")[1]
    other = body + b" "
    choice = rng.randrange(16)
    value: str | None
    if choice == 0:
        return []
    if choice == 1:
        value = rng.choice(["", " ", ",", "t=", "v1=", "t=,v1="])
    elif choice == 2:
        value = _sign(world, body, secret=rng.choice(["whsec_wrong", "", TG_SECRET, "whsec_"]))
    elif choice == 3:
        value = _sign(world, body, ts=now - 400 - rng.randint(0, 10**7))  # stale
    elif choice == 4:
        value = _sign(world, other)  # signed for another body: tampered in transit
    elif choice == 5:
        value = f"t={now + 1},v1={digest}"  # the signed timestamp was changed
    elif choice == 6:
        value = f"t={now},v0={digest}"  # a scheme Stripe does not use for this
    elif choice == 7:
        value = f"t={now},v1={digest.upper()}"
    elif choice == 8:
        value = f"t={now},v1={digest[:-1]}"
    elif choice == 9:
        value = f"t=abc,v1={digest}"
    elif choice == 10:
        value = f"v1={digest}"
    elif choice == 11:
        value = ",".join([f"t={now}"] + [f"v1={_hex(rng, 32)}" for _ in range(30)])
    elif choice == 12:
        return [
            ("Stripe-Signature", _sign(world, other)),
            ("Stripe-Signature", f"t={now},v1={_hex(rng, 32)}"),
        ]
    elif choice == 13:
        value = "".join(rng.choice(string.printable.strip()) for _ in range(rng.randint(1, 200)))
    elif choice == 14:
        value = f"t={10**40},v1={digest}"
    else:
        value = f"t={now},v1={digest}\t;"
    return [("Stripe-Signature", value)]


def _garbage_body(rng: random.Random) -> tuple[str, bytes]:
    roll = rng.randrange(6)
    if roll == 0:
        return "bytes", bytes(rng.randrange(256) for _ in range(rng.randint(1, 2000)))
    if roll == 1:
        return "not-utf8", b'{"id": "evt_\xff\xfe", "type": "checkout.session.completed"}'
    if roll == 2:
        return "empty", b""
    if roll == 3:
        return "json-scalar", json.dumps(garbage(rng)).encode("utf-8", "surrogatepass")
    if roll == 4:
        return "utf16", json.dumps({"id": "evt_x"}).encode("utf-16")
    return "whitespace", b" \n\t "


def _huge_body(rng: random.Random) -> bytes:
    size = MAX_BODY + rng.randint(1, 300 * 1024)
    prefix = b'{"id": "evt_huge", "type": "checkout.session.completed", "pad": "'
    return prefix + b"x" * (size - len(prefix) - 2) + b'"}'


def stripe_unsigned(rng: random.Random, world: World) -> Req:
    """Anything without a valid signature: 400, or 413 for a huge body, and no change."""
    roll = rng.random()
    event = stripe_event(rng, world)
    if roll < 0.55:
        label = "event"
        body = stripe_body(mutate(event, rng, rng.randint(0, 2)), rng)
    elif roll < 0.70:
        label = "truncated"
        full = stripe_body(event, rng)
        body = full[: rng.randint(0, len(full) - 1)]
    elif roll < 0.90:
        label, body = _garbage_body(rng)
    elif roll < 0.95:
        label, body = "huge", _huge_body(rng)
    else:
        label = "raw-header"
        body = stripe_body(event, rng)
        return Req(
            "stripe_unsigned",
            label,
            "/stripe/webhook",
            body,
            raw_headers=b"Stripe-Signature: "
            + rng.choice([b"\xff\xfe", b"t=1,v1=\xc3\x28", b"\x80abc", "t=1,v1=é".encode()])
            + b"\r\n",
            expect=frozenset({400}),
        )
    headers = _bad_signature(rng, world, body)
    if label == "huge":
        expect = frozenset({413})
    elif any(len(v) > 8000 for _, v in headers):
        expect = frozenset({400, 431})
    else:
        expect = frozenset({400})
    return Req("stripe_unsigned", label, "/stripe/webhook", body, tuple(headers), expect=expect)


def stripe_signed(rng: random.Random, world: World) -> Req:
    """Correctly signed: mangled events of every handled type, and signed garbage."""
    roll = rng.random()
    if roll < 0.10:
        label, body = _garbage_body(rng)
    elif roll < 0.15:
        label = "truncated"
        full = stripe_body(stripe_event(rng, world), rng)
        body = full[: rng.randint(0, len(full) - 1)]
    elif roll < 0.16:
        label, body = "deep", deep_json(rng)
    elif roll < 0.26:
        label = "not-found-order"
        obj = session_object(rng, world)
        obj["metadata"] = {"order_id": str(rng.randint(10**6, 10**9)), "order_ref": "x"}
        body = stripe_body(envelope(rng, rng.choice(SESSION_TYPES), obj), rng)
    else:
        label = "event"
        event = stripe_event(rng, world)
        times = rng.choice([0, 0, 1, 1, 2, 3])
        body = stripe_body(mutate(event, rng, times), rng)
    now = int(time.time())
    style = rng.randrange(6)
    headers: list[tuple[str, str]]
    if style == 0:  # a timestamp in the future still verifies (the SDK checks only staleness)
        headers = [("Stripe-Signature", _sign(world, body, ts=now + rng.randint(1, 10**6)))]
    elif style == 1:  # Stripe sends one v1 per active secret during a secret roll
        good = _sign(world, body).split("v1=")[1]
        headers = [("Stripe-Signature", f"t={now},v1={_hex(rng, 32)},v1={good}")]
    elif style == 2:  # a valid header, then a second, garbled one
        headers = [("Stripe-Signature", _sign(world, body)), ("Stripe-Signature", "t=1,v1=00")]
    else:
        headers = [("Stripe-Signature", _sign(world, body))]
    return Req(
        "stripe_signed",
        label,
        "/stripe/webhook",
        body,
        tuple(headers),
    )
