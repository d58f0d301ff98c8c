"""Scenario 8's phases on a stage of N instances: the buyers open their carts (set-up), tap
Checkout (the buy phase, bound by Stripe's 25 creations/s), then pay (the delivery phase, bound
by Telegram's 30 messages/s). Every figure is read off the stand-ins' timelines and the
database, and the instances' CPU off /proc at the phase boundaries."""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import Counter
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass

from bench.flash_sale import SaleLog, carts_shown, checkout_button, scan_sale
from bench.harness import messages_sent
from bench.instances_stage import GOODS_MARKER, Stage
from sandbox.fake_telegram import RATE_LIMITED_METHODS, FakeCall, FakeMessage

PHASE_TIMEOUT = 600.0
POLL_SECONDS = 0.2


@dataclass
class Phase:
    """One phase as the stand-ins and /proc saw it."""

    began: float  # the bench's first request of the phase
    ended: float  # the last accepted call that counts for the phase's rate
    accepted: int  # what the phase's rate counts: session creations, or messages
    telegram_429: int
    stripe_429: int
    cpu_seconds: float  # every instance's, over the phase

    @property
    def rate(self) -> float:
        span = self.ended - self.began
        return self.accepted / span if span > 0 else 0.0


def _settle(tasks: Sequence[Awaitable[None]]) -> Awaitable[list[None]]:
    return asyncio.gather(*tasks)


async def open_carts(stage: Stage, buyers: Sequence[int]) -> dict[int, FakeMessage]:
    """Each buyer sends /cart (through the balancer); the shop answers with their cart and its
    Checkout button. Set-up: not timed as a phase."""
    telegram = stage.telegram
    posts = [
        asyncio.create_task(
            stage.balancer.telegram(
                telegram.user_sends(buyer, "/cart", first_name=f"Buyer {buyer}", queue=False)
            )
        )
        for buyer in buyers
    ]
    found = await carts_shown(telegram, buyers, within=PHASE_TIMEOUT, poll=POLL_SECONDS)
    await _settle(posts)
    return found


async def buy(stage: Stage, carts: dict[int, FakeMessage], window: float) -> tuple[Phase, SaleLog]:
    """Every buyer taps Checkout, evenly over `window` seconds, each tap an update posted to
    the next instance; until each buyer has a payment link or an error."""
    telegram, stripe_api = stage.telegram, stage.stripe_api
    log = SaleLog(scanned=len(telegram.calls), tapped=dict.fromkeys(carts, math.inf))
    query_buyer: dict[str, int] = {}
    limited, refused, hits = (
        telegram.rate_limited,
        stripe_api.rate_limited,
        len(stripe_api.timeline),
    )
    cpu = stage.cpu_seconds()
    began = time.monotonic()
    posts = []
    for i, (buyer, cart) in enumerate(carts.items()):
        await asyncio.sleep(max(began + i * window / len(carts) - time.monotonic(), 0))
        data = checkout_button(cart)
        assert data is not None, "open_carts kept only carts with a Checkout button"
        update = telegram.user_taps(buyer, cart, data, queue=False)
        query_buyer[str(update["callback_query"]["id"])] = buyer
        log.tapped[buyer] = time.monotonic()
        posts.append(asyncio.create_task(stage.balancer.telegram(update)))
    deadline = time.monotonic() + PHASE_TIMEOUT
    while len(log.linked) + sum(log.errors.values()) < len(carts):
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(POLL_SECONDS)
        scan_sale(telegram, log, query_buyer)
    await _settle(posts)
    created = [
        hit.at
        for hit in stripe_api.timeline[hits:]
        if (hit.method, hit.path, hit.status) == ("POST", "/v1/checkout/sessions", 200)
    ]
    phase = Phase(
        began=began,
        ended=max(created, default=began),
        accepted=len(created),
        telegram_429=telegram.rate_limited - limited,
        stripe_429=stripe_api.rate_limited - refused,
        cpu_seconds=stage.cpu_seconds() - cpu,
    )
    return phase, log


@dataclass
class Delivered:
    """The delivery phase and what the database and the buyers' chats hold after it."""

    phase: Phase
    paid: int
    counts: dict[str, int]
    by_kind: Counter[str]


def _kind(call: FakeCall, buyers: set[int]) -> str:
    chat = int(call.params.get("chat_id", 0))
    if chat not in buyers:
        return "admin alerts"
    return "receipt edits" if call.method == "editMessageText" else "buyer notices"


async def _until_done(stage: Stage, orders: int) -> dict[str, int]:
    """Until every order is fulfilled and nothing is owed or waiting (PHASE_TIMEOUT at most)."""
    deadline = time.monotonic() + PHASE_TIMEOUT
    counts = await stage.counts()
    owed = ("deliveries pending", "updates waiting", "events waiting")
    while counts["fulfilled"] < orders or any(counts[name] for name in owed):
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(POLL_SECONDS)
        counts = await stage.counts()
    return counts


async def deliver(stage: Stage, buyers: Sequence[int]) -> Delivered:
    """Every session is paid and Stripe's checkout.session.completed events are sent at once,
    round robin over the instances; until every order is fulfilled and the outbox is empty."""
    telegram, stripe_api = stage.telegram, stage.stripe_api
    bodies = []
    for n, session_id in enumerate(await stage.sessions()):
        stripe_api.pay(session_id)
        event = stripe_api.session_event("checkout.session.completed", session_id)
        bodies.append(json.dumps(event, indent=2).encode())
        if n % 50 == 49:
            await asyncio.sleep(0)  # the stand-ins keep answering (and stamping) meanwhile
    scanned, limited, refused = len(telegram.calls), telegram.rate_limited, stripe_api.rate_limited
    cpu = stage.cpu_seconds()
    began = time.monotonic()
    await _settle([stage.balancer.stripe(body, stripe_api) for body in bodies])
    counts = await _until_done(stage, len(bodies))
    sent = messages_sent(telegram.calls_since(scanned))
    chats = set(buyers)
    phase = Phase(
        began=began,
        ended=max((at for at, _ in sent), default=began),
        accepted=len(sent),
        telegram_429=telegram.rate_limited - limited,
        stripe_429=stripe_api.rate_limited - refused,
        cpu_seconds=stage.cpu_seconds() - cpu,
    )
    return Delivered(phase, len(bodies), counts, Counter(_kind(c, chats) for _, c in sent))


def goods_per_buyer(stage: Stage, buyers: Sequence[int]) -> Counter[int]:
    """How many accepted messages (sent or edited) carried each buyer's goods, over the whole
    run: the receipt is the order's message edited once, so exactly 1 each."""
    carried: Counter[int] = Counter(dict.fromkeys(buyers, 0))
    for _, call in stage.telegram.calls_since(0):
        if call.status != 200 or call.method not in RATE_LIMITED_METHODS:
            continue
        chat = int(call.params.get("chat_id", 0))
        if chat in carried and GOODS_MARKER in str(call.params.get("text", "")):
            carried[chat] += 1
    return carried
