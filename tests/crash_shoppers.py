"""The crash test's buyers: each opens cards, taps Buy and pays, pays late, lets the link expire
or walks away, with its own seeded `random.Random` so the decisions repeat from run to run;
and the end-of-storm sweep that expires every session still open."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from tests.crash_webhooks import (
    ASYNC_FAILED,
    ASYNC_SUCCEEDED,
    COMPLETED,
    EXPIRED,
    JSON,
    WebhookStream,
)

# A buyer gives up on a step after this long (the bot may be dead) and starts over.
CARD_TIMEOUT = 6.0
PAY_TIMEOUT = 8.0


@dataclass(frozen=True)
class ProductSpec:
    id: int
    title: str
    stock: bool


@dataclass
class SessionFate:
    """What the test made of one Checkout Session the buyer was shown."""

    session_id: str
    buyer: int
    fate: str  # paid, async_paid, async_failed, expired, abandoned, swept
    event_ids: list[str] = field(default_factory=list)


@dataclass
class Ledger:
    sessions: dict[str, SessionFate] = field(default_factory=dict)
    cards_missed: int = 0
    links_missed: int = 0
    sold_out_seen: int = 0


def pay_url(message: FakeMessage) -> str | None:
    for button in message.buttons():
        url = button.get("url")
        if isinstance(url, str) and "/c/pay/" in url and button["text"].startswith("Pay"):
            return url
    return None


def session_id_of(url: str) -> str:
    """FakeStripe's hosted page is /c/pay/<session id> (the session forgets its url on expiry,
    the link in the chat does not)."""
    return url.rsplit("/", 1)[-1]


@dataclass
class Shopper:
    """One buyer: opens a product card, sometimes changes the quantity, taps Buy, and then pays,
    pays by a delayed method, lets the link expire, or walks away. Their messages and taps
    reach the bot through getUpdates, or with `updates` through the bot's webhook."""

    buyer: int
    rng: random.Random
    telegram: FakeTelegram
    stripe_api: FakeStripe
    stream: WebhookStream
    ledger: Ledger
    products: list[ProductSpec]
    tasks: set[asyncio.Task[None]]
    updates: WebhookStream | None = None

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.one_purchase()
            await asyncio.sleep(self.rng.uniform(0.1, 0.6))

    def _last_id(self) -> int:
        messages = self.telegram.messages(self.buyer)
        return messages[-1].message_id if messages else 0

    async def _wait(self, predicate: Any, timeout: float) -> FakeMessage | None:  # noqa: ASYNC109
        try:
            return await self.telegram.wait_for(self.buyer, predicate, timeout=timeout)
        except AssertionError:
            return None

    async def one_purchase(self) -> None:
        product = self.rng.choice(self.products)
        want_two = product.stock and self.rng.random() < 0.3
        start = f"/start p_{product.id}"
        update = self._send(self.telegram.user_sends(self.buyer, start, queue=self._queue))
        since = int(update["message"]["message_id"])

        def is_card(message: FakeMessage) -> bool:
            return message.message_id > since and product.title in (
                message.text or message.caption or ""
            )

        card = await self._wait(is_card, CARD_TIMEOUT)
        if card is None:
            self.ledger.cards_missed += 1
            return
        data = _buy_data(card, product.id)
        if data is None:
            self.ledger.sold_out_seen += 1
            return
        if want_two:
            data = await self._ask_for_two(card, product.id) or data
        current = _current(self.telegram, card)
        if current is None or data not in [b.get("callback_data") for b in current.buttons()]:
            return
        self._send(self.telegram.user_taps(self.buyer, current, data, queue=self._queue))

        def is_new_link(message: FakeMessage) -> bool:
            url = pay_url(message)
            return (
                message.message_id > card.message_id
                and url is not None
                and session_id_of(url) not in self.ledger.sessions
            )

        pay = await self._wait(is_new_link, PAY_TIMEOUT)
        if pay is None:
            self.ledger.links_missed += 1
            return
        url = pay_url(pay)
        assert url is not None
        self.decide(session_id_of(url))

    @property
    def _queue(self) -> bool:
        """Whether the stand-in keeps the user's updates for getUpdates (polling mode)."""
        return self.updates is None

    def _send(self, update: JSON) -> JSON:
        if self.updates is not None:
            self.updates.send(update)
        return update

    async def _ask_for_two(self, card: FakeMessage, product_id: int) -> str | None:
        plus = f"qty:{product_id}:2"
        if plus not in [b.get("callback_data") for b in card.buttons()]:
            return None
        self._send(self.telegram.user_taps(self.buyer, card, plus, queue=self._queue))
        wanted = f"buy:{product_id}:2"
        redrawn = await self._wait(
            lambda m: (
                m.message_id == card.message_id
                and wanted in [b.get("callback_data") for b in m.buttons()]
            ),
            CARD_TIMEOUT,
        )
        return wanted if redrawn is not None else None

    def decide(self, session_id: str) -> None:
        """How this session ends: the buyer pays, pays by a delayed method (which later clears
        or fails), lets it expire now, or walks away (it expires a little later)."""
        roll = self.rng.random()
        if roll < 0.55:
            self._note(session_id, "paid")
            if self._pay(session_id, "paid"):
                self._emit(session_id, COMPLETED)
        elif roll < 0.70:
            succeeded = self.rng.random() < 0.65
            self._note(session_id, "async_paid" if succeeded else "async_failed")
            if self._pay(session_id, "unpaid"):
                self._emit(session_id, COMPLETED)
                self._later(self.rng.uniform(0.5, 5.0), self._settle(session_id, succeeded))
        elif roll < 0.85:
            self._note(session_id, "expired")
            self.expire(session_id)
        else:
            self._note(session_id, "abandoned")
            self._later(self.rng.uniform(1.0, 8.0), self._expire_later(session_id))

    def _note(self, session_id: str, fate: str) -> None:
        self.ledger.sessions[session_id] = SessionFate(session_id, self.buyer, fate)

    def _pay(self, session_id: str, payment_status: str) -> bool:
        try:
            self.stripe_api.pay(session_id, payment_status=payment_status)
        except ValueError:  # no longer open (it expired meanwhile)
            self.ledger.sessions[session_id].fate = "not_payable"
            return False
        return True

    def _emit(self, session_id: str, type_: str) -> None:
        event = self.stripe_api.session_event(type_, session_id)
        self.ledger.sessions[session_id].event_ids.append(str(event["id"]))
        self.stream.send(event)

    def expire(self, session_id: str) -> None:
        if self.stripe_api.sessions[session_id]["status"] == "open":
            self.stripe_api.expire(session_id)
            self._emit(session_id, EXPIRED)

    def _later(self, delay: float, action: Any) -> None:
        async def run() -> None:
            await asyncio.sleep(delay)
            await action

        task = asyncio.create_task(run())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _settle(self, session_id: str, succeeded: bool) -> None:
        self.stripe_api.settle(session_id, succeeded=succeeded)
        self._emit(session_id, ASYNC_SUCCEEDED if succeeded else ASYNC_FAILED)

    async def _expire_later(self, session_id: str) -> None:
        self.expire(session_id)


def _buy_data(card: FakeMessage, product_id: int) -> str | None:
    for button in card.buttons():
        data = button.get("callback_data")
        if isinstance(data, str) and data.startswith(f"buy:{product_id}:"):
            return data
    return None


def _current(telegram: FakeTelegram, message: FakeMessage) -> FakeMessage | None:
    for candidate in telegram.messages(message.chat_id):
        if candidate.message_id == message.message_id and not candidate.deleted:
            return candidate
    return None


def sweep_open_sessions(stripe_api: FakeStripe, stream: WebhookStream, ledger: Ledger) -> int:
    """Every session still open at Stripe expires now, as time would make it, and Stripe sends
    checkout.session.expired (also for sessions no buyer ever saw: a kill ate the link)."""
    count = 0
    for session_id, session in list(stripe_api.sessions.items()):
        if session["status"] != "open":
            continue
        stripe_api.expire(session_id)
        event = stripe_api.session_event(EXPIRED, session_id)
        fate = ledger.sessions.setdefault(session_id, SessionFate(session_id, -1, "swept"))
        fate.event_ids.append(str(event["id"]))
        stream.send(event)
        count += 1
    return count
