"""The crash tests' webhook senders: Stripe's events and (in webhook mode) Telegram's updates,
delivered as those services run it (at least once, retried until a 2xx), so that a kill
between committing an event and answering it is met by a retry. Behind a load balancer any
instance may get any attempt, dead or starting ones included."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from sandbox.fake_stripe import FakeStripe

JSON = dict[str, Any]

COMPLETED = "checkout.session.completed"
ASYNC_SUCCEEDED = "checkout.session.async_payment_succeeded"
ASYNC_FAILED = "checkout.session.async_payment_failed"
EXPIRED = "checkout.session.expired"

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class Shipment:
    """One delivery attempt series of one event, as Stripe would run it."""

    event: JSON
    not_before: float
    copy: bool = False  # a duplicate delivery of an event the sender already sent


@dataclass
class WebhookStream:
    """A webhook sender: at least once, any order, retried until a 2xx.

    Each event may be held back a while (so later ones overtake it) and may be delivered a
    second time later. A non-2xx answer or a connection error means "retry later", exactly as
    Stripe and Telegram treat it. Each attempt goes to one of `bases()` (the instances behind
    the balancer) at `path`, with the headers `headers(body)` gives (signed afresh)."""

    bases: Callable[[], Sequence[str]]
    path: str
    headers: Callable[[bytes], dict[str, str]]
    rng: random.Random
    event_id: Callable[[JSON], str] = field(default=lambda event: str(event["id"]))
    duplicate_rate: float = 0.2
    hold_rate: float = 0.25
    pending: list[Shipment] = field(default_factory=list)
    acked: set[str] = field(default_factory=set)
    sent_events: int = 0
    attempts: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    copies: int = 0
    in_flight: int = 0

    def send(self, event: JSON) -> None:
        now = time.monotonic()
        hold = self.rng.uniform(0.5, 4.0) if self.rng.random() < self.hold_rate else 0.0
        self.pending.append(Shipment(event, now + hold))
        self.sent_events += 1
        if self.rng.random() < self.duplicate_rate:
            self.pending.append(Shipment(event, now + self.rng.uniform(0.0, 6.0), copy=True))
            self.copies += 1

    async def run(self, http: aiohttp.ClientSession, stop: asyncio.Event, workers: int) -> None:
        await asyncio.gather(*(self._worker(http, stop) for _ in range(workers)))

    async def _worker(self, http: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        while not stop.is_set():
            now = time.monotonic()
            due = [s for s in self.pending if s.not_before <= now]
            if not due:
                await asyncio.sleep(0.05)
                continue
            shipment = self.rng.choice(due)  # any due event may go first: reordering
            self.pending.remove(shipment)
            self.in_flight += 1
            try:
                delivered = await self._attempt(http, shipment.event)
            finally:
                self.in_flight -= 1
            if delivered:
                self.acked.add(self.event_id(shipment.event))
            else:  # the sender backs off; ours is short so the test stays short
                shipment.not_before = time.monotonic() + self.rng.uniform(0.1, 0.5)
                self.pending.append(shipment)

    async def _attempt(self, http: aiohttp.ClientSession, event: JSON) -> bool:
        body = json.dumps(event, indent=2).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", **self.headers(body)}
        url = self.rng.choice(list(self.bases())) + self.path
        self.attempts += 1
        try:
            async with http.post(url, data=body, headers=headers) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return True
                self.refused[str(response.status)] += 1
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            self.refused[type(error).__name__] += 1
        return False

    async def drain(self, timeout: float) -> None:  # noqa: ASYNC109
        """Wait until every event (and every planned duplicate) got its 2xx."""
        deadline = time.monotonic() + timeout
        while self.pending or self.in_flight:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.pending)} webhook deliveries never got a 2xx")
            await asyncio.sleep(0.05)


def stripe_stream(
    stripe_api: FakeStripe, bases: Callable[[], Sequence[str]], rng: random.Random
) -> WebhookStream:
    """Stripe's events to /stripe/webhook, signed, some held back, some sent twice."""

    def signed(body: bytes) -> dict[str, str]:
        return {"Stripe-Signature": stripe_api.sign(body)}

    return WebhookStream(bases, "/stripe/webhook", signed, rng)


def telegram_stream(
    secret: str, bases: Callable[[], Sequence[str]], rng: random.Random
) -> WebhookStream:
    """Telegram's updates to /telegram/webhook with the webhook's secret token. Telegram sends
    a chat's updates as they happen (a buyer's next step waits for the bot's answer anyway), so
    none is held back; one whose answer got lost (a kill after the commit) comes again, and
    some come twice besides."""
    return WebhookStream(
        bases,
        "/telegram/webhook",
        lambda _body: {TELEGRAM_SECRET_HEADER: secret},
        rng,
        event_id=lambda update: str(update["update_id"]),
        duplicate_rate=0.1,
        hold_rate=0.0,
    )
