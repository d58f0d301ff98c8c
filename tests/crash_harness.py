"""The moving parts of the crash test: the bot as a killable process, buyers, Stripe's webhook
delivery (retrying, duplicating, reordering) and the final audit of the database and the chats.

Everything random draws from its own seeded `random.Random`, so the decisions (what each buyer
buys, how each session ends, when the process dies) repeat from run to run; only how far the
bot gets before each kill depends on the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import signal
import sqlite3
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import aiohttp

from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from sandbox.standins import standin_environ

JSON = dict[str, Any]

# A buyer gives up on a step after this long (the bot may be dead) and starts over.
CARD_TIMEOUT = 6.0
PAY_TIMEOUT = 8.0
HEALTH_TIMEOUT = 60.0
KEY_PATTERN = re.compile(r"CRASHKEY-\d+-\d+")
ORDER_NUMBER = re.compile(r"#(\d+)")

COMPLETED = "checkout.session.completed"
ASYNC_SUCCEEDED = "checkout.session.async_payment_succeeded"
ASYNC_FAILED = "checkout.session.async_payment_failed"
EXPIRED = "checkout.session.expired"


# --------------------------------------------------------------------------- the process


class BotProcess:
    """`python -m bot` against the fakes, on a fixed port and database, killable at will."""

    def __init__(self, env: dict[str, str], cwd: Path, port: int, log: IO[bytes]) -> None:
        self.env, self.cwd, self.port, self._log = env, cwd, port, log
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.kills = 0
        self.kills_before_healthy = 0
        self.own_exits: list[int] = []  # exit statuses of lives that ended before the kill
        self._healthy_seen = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        assert self.process is None or self.process.returncode is not None
        self._log.write(f"\n===== start #{self.starts + 1} =====\n".encode())
        self._log.flush()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=self.cwd,
            env=self.env,
            stdout=self._log,
            stderr=asyncio.subprocess.STDOUT,
        )
        self.starts += 1
        self._healthy_seen = False

    async def kill(self) -> None:
        """SIGKILL: no handler runs, no buffer is flushed, no transaction is finished."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.kill()
            self.kills += 1
            if not self._healthy_seen:
                self.kills_before_healthy += 1
        else:
            self.own_exits.append(self.process.returncode)
        await self.process.wait()

    async def wait_healthy(
        self,
        http: aiohttp.ClientSession,
        timeout: float,  # noqa: ASYNC109 - a plain bound, like asyncio.wait_for's
    ) -> bool:
        """Poll /healthz until 200 (True), the process exits, or `timeout` passes (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.returncode is not None:
                return False
            try:
                async with http.get(f"{self.url}/healthz") as response:
                    if response.status == 200:
                        self._healthy_seen = True
                        return True
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.05)
        return False

    async def terminate(self, timeout: float) -> int:  # noqa: ASYNC109
        """SIGTERM and the exit status (a clean stop is 0)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise


def bot_env(
    telegram: FakeTelegram, stripe_api: FakeStripe, port: int, db_path: Path, admin_id: int
) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        **standin_environ(telegram, stripe_api),
        "PUBLIC_BASE_URL": "https://shop.test",
        "ADMIN_IDS": str(admin_id),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{db_path}",
        "LOG_LEVEL": "INFO",
    }


# --------------------------------------------------------------------------- Stripe's side


@dataclass
class Shipment:
    """One delivery attempt series of one event, as Stripe would run it."""

    event: JSON
    not_before: float
    copy: bool = False  # a duplicate delivery of an event Stripe already sent


@dataclass
class StripeStream:
    """Stripe's webhook delivery: at least once, any order, retried until a 2xx.

    Each event may be held back a while (so later ones overtake it) and may be delivered a
    second time later. A non-2xx answer or a connection error means "retry later", exactly as
    Stripe treats it; every attempt is signed afresh."""

    stripe_api: FakeStripe
    url: str
    rng: random.Random
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
                self.acked.add(str(shipment.event["id"]))
            else:  # Stripe backs off; ours is short so the test stays short
                shipment.not_before = time.monotonic() + self.rng.uniform(0.1, 0.5)
                self.pending.append(shipment)

    async def _attempt(self, http: aiohttp.ClientSession, event: JSON) -> bool:
        body = json.dumps(event, indent=2).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": self.stripe_api.sign(body),
        }
        self.attempts += 1
        try:
            async with http.post(self.url, data=body, headers=headers) as response:
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


# --------------------------------------------------------------------------- buyers


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
    pays by a delayed method, lets the link expire, or walks away."""

    buyer: int
    rng: random.Random
    telegram: FakeTelegram
    stripe_api: FakeStripe
    stream: StripeStream
    ledger: Ledger
    products: list[ProductSpec]
    tasks: set[asyncio.Task[None]]

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
        update = self.telegram.user_sends(self.buyer, f"/start p_{product.id}")
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
        self.telegram.user_taps(self.buyer, current, data)

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

    async def _ask_for_two(self, card: FakeMessage, product_id: int) -> str | None:
        plus = f"qty:{product_id}:2"
        if plus not in [b.get("callback_data") for b in card.buttons()]:
            return None
        self.telegram.user_taps(self.buyer, card, plus)
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


def sweep_open_sessions(stripe_api: FakeStripe, stream: StripeStream, ledger: Ledger) -> int:
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


# --------------------------------------------------------------------------- the chaos


@dataclass
class Chaos:
    """Start the bot, let it live for a random while — often not even until it is ready,
    sometimes a moment after, sometimes a few seconds of real work — and SIGKILL it."""

    bot: BotProcess
    rng: random.Random
    kills_wanted: int
    stripe_api: FakeStripe
    # Every so many lives Stripe starts failing session creations for a while: the bot retries
    # with backoff while the order waits, reserved stock and all — a wide window for a kill to
    # strand an order before it has a session.
    stripe_trouble_every: int = 9
    stripe_troubles: int = 0
    uptimes: list[float] = field(default_factory=list)

    async def run(self, http: aiohttp.ClientSession) -> None:
        while self.bot.kills < self.kills_wanted:
            await self.bot.start()
            if self.bot.starts % self.stripe_trouble_every == 0:
                status = self.rng.choice([429, 500, 503])
                self.stripe_api.fail_next("POST", "/v1/checkout/sessions", times=12, status=status)
                self.stripe_troubles += 1
            started = time.monotonic()
            roll = self.rng.random()
            if roll < 0.30:  # during start-up: migrations, getMe, setMyCommands, polling
                await self._live(http, self.rng.uniform(0.0, 0.7))
            elif roll < 0.55:  # just after it says it is ready
                await self.bot.wait_healthy(http, HEALTH_TIMEOUT)
                await asyncio.sleep(self.rng.uniform(0.0, 0.6))
            elif roll < 0.65:  # a longer life, so that work gets done even on a slow machine
                await self.bot.wait_healthy(http, HEALTH_TIMEOUT)
                await asyncio.sleep(self.rng.uniform(1.0, 2.5))
            else:  # in the middle of whatever it is doing
                await self._live(http, self.rng.uniform(0.6, 2.0))
            await self.bot.kill()
            self.uptimes.append(time.monotonic() - started)
            await asyncio.sleep(self.rng.uniform(0.0, 0.4))  # down for a moment

    async def _live(self, http: aiohttp.ClientSession, seconds: float) -> None:
        """Let it run `seconds`, watching /healthz meanwhile (for the statistics only)."""
        deadline = time.monotonic() + seconds
        await self.bot.wait_healthy(http, seconds)
        await asyncio.sleep(max(deadline - time.monotonic(), 0.0))


# --------------------------------------------------------------------------- the audit


def pending_deliveries(db_path: Path) -> int:
    with contextlib.closing(sqlite3.connect(db_path, timeout=30)) as db:
        row = db.execute("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'").fetchone()
    return int(row[0])


def age_open_orders(db_path: Path) -> int:
    """Move the expiry of every still-open order an hour into the past — as if the link's whole
    life had gone by — so that the bot's reconciliation must deal with it. Returns how many."""
    with contextlib.closing(sqlite3.connect(db_path, timeout=30)) as db, db:
        cursor = db.execute(
            "UPDATE orders SET expires_at = ? WHERE status IN ('pending', 'awaiting_payment')",
            (int(time.time()) - 3600,),
        )
        return cursor.rowcount


def open_orders(db_path: Path) -> int:
    with contextlib.closing(sqlite3.connect(db_path, timeout=30)) as db:
        row = db.execute(
            "SELECT COUNT(*) FROM orders WHERE status IN ('pending', 'awaiting_payment')"
        ).fetchone()
    return int(row[0])


@dataclass(frozen=True)
class OrderRow:
    id: int
    buyer: int
    product_id: int
    quantity: int
    status: str
    session_id: str | None
    kind: str


@dataclass
class Audit:
    """What the database, the chats and Stripe say after the storm."""

    orders: dict[int, OrderRow]
    items: list[tuple[str, str, int | None]]  # content, state, order id
    goods_kind: dict[int, str]  # product id -> goods marker (a text's marker or "stock")

    @classmethod
    def read(cls, db_path: Path, markers: dict[int, str]) -> Audit:
        with contextlib.closing(sqlite3.connect(db_path, timeout=30)) as db:
            rows = db.execute(
                "SELECT id, buyer_chat_id, product_id, quantity, status, checkout_session_id,"
                " product_kind FROM orders"
            ).fetchall()
            items = db.execute("SELECT content, state, order_id FROM stock_items").fetchall()
        return cls(
            orders={int(r[0]): OrderRow(*r) for r in rows},
            items=[(str(c), str(s), o) for c, s, o in items],
            goods_kind=markers,
        )


def goods_messages(
    telegram: FakeTelegram, buyers: list[int], audit: Audit
) -> dict[int, list[tuple[int, int]]]:
    """Order id → the (chat, message id) of every message that carries that order's goods.

    A message carries goods when it shows a stock key or a text product's delivery marker; the
    order is the one its key was sold to, or the "#<id>" it names."""
    sold_to = {content: order for content, _, order in audit.items if order is not None}
    found: dict[int, list[tuple[int, int]]] = {}
    text_markers = {m for m in audit.goods_kind.values() if m != "stock"}
    for chat in buyers:
        for message in telegram.messages(chat):
            text = message.text or message.caption or ""
            owners: set[int] = set()
            for key in KEY_PATTERN.findall(text):
                owner = sold_to.get(key)
                owners.add(owner if owner is not None else -1)
            if any(marker in text for marker in text_markers):
                numbers = ORDER_NUMBER.findall(text)
                owners.add(int(numbers[0]) if numbers else -1)
            for owner in owners:
                found.setdefault(owner, []).append((chat, message.message_id))
    return found


def notices(telegram: FakeTelegram, buyers: list[int]) -> Counter[int]:
    """Order id → how many "payment received" push notices its buyer got."""
    counts: Counter[int] = Counter()
    for chat in buyers:
        for message in telegram.messages(chat):
            text = message.text or ""
            if "Payment received" in text:
                numbers = ORDER_NUMBER.findall(text)
                if numbers:
                    counts[int(numbers[0])] += 1
    return counts


REFUSALS = {
    "too many open links": "several unpaid payment links",
    "slow down": "that's a lot of taps",
    "checkout failed": "couldn't start the payment",
    "handler error": "something went wrong",
    "sold out": "just sold out",
}


def refusals(telegram: FakeTelegram, buyers: list[int]) -> Counter[str]:
    """What buyers were told instead of getting a link (for the statistics): in a message, or
    in their tap's own answer."""
    told = [message.text or "" for chat in buyers for message in telegram.messages(chat)]
    told += [str(answer["text"] or "") for answer in telegram.answered_callbacks]
    return Counter(name for text in told for name, phrase in REFUSALS.items() if phrase in text)


def describe_chat(telegram: FakeTelegram, chat: int, around: set[int]) -> str:
    """The messages near `around` in a chat, for a failure message: id, edits, text."""
    lines = []
    low, high = min(around) - 3, max(around) + 2
    for message in telegram.messages(chat):
        if low <= message.message_id <= high:
            text = (message.text or message.caption or "").replace("\n", " | ")[:90]
            lines.append(f"#{message.message_id} edits={message.edits} {text!r}")
    return "\n    " + "\n    ".join(lines)
