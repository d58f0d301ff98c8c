"""The webhook fuzzer's side of the wire and of the shop: sending requests (raw or through
aiohttp), judging the answers, snapshots of the tables, and a world of real orders to aim at."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import aiohttp
from multidict import CIMultiDict

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from storage import orders, stock
from storage.models import ProductKind
from storage.sql import fetch_all
from tests.fuzz_requests import (
    CONCURRENCY,
    JSON,
    TABLES,
    TG_HEADER,
    TG_SECRET,
    OrderFacts,
    Outcome,
    Req,
    World,
)
from tests.story import add_product, session_of, settled

# --------------------------------------------------------------------------- transport


async def _send_raw(port: int, req: Req) -> int:
    """A request with header bytes no HTTP client library would send."""
    assert req.raw_headers is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        head = (
            f"POST {req.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(req.body)}\r\n"
            "Connection: close\r\n"
        ).encode()
        writer.write(head + req.raw_headers + b"\r\n" + req.body)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 60)
        with contextlib.suppress(ConnectionError):
            await asyncio.wait_for(reader.read(), 60)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return int(status_line.split()[1])


async def _send(http: aiohttp.ClientSession, port: int, req: Req) -> Outcome:
    try:
        if req.raw_headers is not None:
            return Outcome(req, await _send_raw(port, req))
        url = f"http://127.0.0.1:{port}{req.path}"
        async with http.post(url, data=req.body, headers=CIMultiDict(req.headers)) as response:
            await response.read()
            return Outcome(req, response.status)
    except (aiohttp.ClientError, OSError, TimeoutError, ValueError, IndexError) as error:
        return Outcome(req, None, f"{type(error).__name__}: {error}")


async def fire(
    http: aiohttp.ClientSession,
    port: int,
    make: Callable[[], Req],
    count: int,
) -> list[Outcome]:
    """Send `count` generated requests, CONCURRENCY at a time. Generation happens in one
    place, in order, so the seeded sequence is the same on every run."""
    results: list[Outcome] = []
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            results.append(await _send(http, port, make()))

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return results


def violations(results: list[Outcome]) -> list[str]:
    """Every answer that breaks the contract: no answer at all, a 5xx, or a status other than
    the one an invalid request must get."""
    problems: list[str] = []
    for outcome in results:
        req, status = outcome.req, outcome.status
        if status is None:
            problems.append(f"no answer ({outcome.error}): {req.describe()}")
        elif status >= 500:
            problems.append(f"{status}: {req.describe()}")
        elif req.expect is not None and status not in req.expect:
            problems.append(f"{status}, expected {sorted(req.expect)}: {req.describe()}")
    return problems


def statistics(results: list[Outcome]) -> str:
    counts = Counter(f"{o.req.family}/{o.req.label} → {o.status}" for o in results)
    return "\n".join(f"{n:6d}  {key}" for key, n in sorted(counts.items()))


# --------------------------------------------------------------------------- the shop


async def snapshot(app: ShopApp) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the shop keeps, in a stable order."""
    assert app.db is not None
    tables: dict[str, list[tuple[Any, ...]]] = {}
    for table in TABLES:
        rows = await fetch_all(app.db.reader, f"SELECT * FROM {table}")  # noqa: S608
        tables[table] = sorted((tuple(row) for row in rows), key=repr)
    return tables


async def post_update(http: aiohttp.ClientSession, port: int, update: JSON) -> None:
    """Deliver an update the way Telegram does in webhook mode."""
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    async with http.post(url, json=update, headers={TG_HEADER: TG_SECRET}) as response:
        assert response.status == 200, await response.text()


def _has_pay_button(message: FakeMessage) -> bool:
    return any(b.get("url") and b["text"].startswith("Pay") for b in message.buttons())


async def buy_via_webhook(
    http: aiohttp.ClientSession,
    app: ShopApp,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    buyer: int,
    product_id: int,
) -> tuple[FakeMessage, str]:
    """The buyer opens the product's card and taps Buy: (pay message, session id)."""
    assert app.port is not None
    await post_update(
        http, app.port, telegram.user_sends(buyer, f"/start p_{product_id}", queue=False)
    )
    card = await telegram.wait_for(
        buyer, lambda m: any("Buy" in b["text"] for b in m.buttons()), timeout=60
    )
    tap = telegram.user_taps(buyer, card, card.button("Buy")["callback_data"], queue=False)
    await post_update(http, app.port, tap)
    pay = await telegram.wait_for(buyer, _has_pay_button, timeout=60)
    return pay, session_of(stripe_api, pay)


async def quiesce(app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe) -> None:
    """Wait until the bot has nothing in flight: no queued update, no pending delivery, and
    neither fake has heard from it for a while."""
    await settled(app)
    quiet_since, seen = time.monotonic(), (-1, -1)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        now_seen = (len(telegram.calls), len(stripe_api.requests))
        if now_seen != seen or not app.application.update_queue.empty():
            seen, quiet_since = now_seen, time.monotonic()
        elif time.monotonic() - quiet_since > 1.0:
            await settled(app)
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the bot never went quiet")


async def _foreign_intent(stripe_api: FakeStripe) -> str:
    """A paid payment intent of this Stripe account that this shop did not create."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{stripe_api.api_base}/v1/checkout/sessions",
            data={
                "mode": "payment",
                "success_url": "https://elsewhere.test/ok",
                "line_items[0][quantity]": "1",
                "line_items[0][price_data][currency]": "usd",
                "line_items[0][price_data][unit_amount]": "500",
                "line_items[0][price_data][product_data][name]": "Not ours",
            },
            headers={"Authorization": f"Bearer {stripe_api.api_key}"},
        ) as response,
    ):
        assert response.status == 200, await response.text()
        session_id = str((await response.json())["id"])
    return str(stripe_api.pay(session_id)["payment_intent"])


async def _world(
    http: aiohttp.ClientSession, app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> World:
    """Real orders in real states for the authenticated phase to aim at: one fulfilled (with a
    payment intent for refunds) and four awaiting payment, two of them holding stock."""
    assert app.db is not None
    text_id = await add_product(app, title="Fuzz ebook", delivery_text="GOODS-fuzz-ebook")
    stock_id = await add_product(
        app, title="Fuzz keys", kind=ProductKind.DIGITAL_STOCK, price_minor=500
    )
    async with app.db.transaction() as tx:
        await stock.add_items(tx, stock_id, [f"FUZZKEY-{n:03d}" for n in range(10)])
    buyers = [710001, 710002, 710003, 710004, 710005]
    _, paid_session = await buy_via_webhook(http, app, telegram, stripe_api, buyers[0], text_id)
    stripe_api.pay(paid_session)
    event = stripe_api.session_event("checkout.session.completed", paid_session)
    assert (await stripe_api.deliver(event))[0] == 200
    await asyncio.gather(
        *(
            buy_via_webhook(http, app, telegram, stripe_api, buyer, product)
            for buyer, product in zip(buyers[1:], [stock_id, text_id] * 2, strict=True)
        )
    )
    await telegram.wait_for(buyers[0], lambda m: "GOODS-fuzz-ebook" in (m.text or ""), timeout=30)
    facts = []
    rows = await fetch_all(app.db.reader, "SELECT id FROM orders ORDER BY id")
    order_ids = [int(row[0]) for row in rows]
    for order_id in order_ids:
        order = await orders.get(app.db.reader, order_id)
        assert order is not None
        facts.append(
            OrderFacts(
                order.id,
                order.ref,
                order.amount_total,
                order.currency,
                order.checkout_session_id,
                order.payment_intent_id,
            )
        )
    return World(
        stripe=stripe_api,
        orders=facts,
        product_ids=[text_id, stock_id],
        foreign_intent=await _foreign_intent(stripe_api),
        buyers=buyers,
        order_ids={f.id for f in facts},
    )


async def _coverage(app: ShopApp) -> str:
    """How far the authenticated events got: recorded outcomes and the orders' states."""
    assert app.db is not None
    found = []
    for query in (
        "SELECT outcome, COUNT(*) FROM stripe_events GROUP BY outcome",
        "SELECT status, COUNT(*) FROM orders GROUP BY status",
    ):
        rows = await fetch_all(app.db.reader, query)
        found.append({str(row[0]): int(row[1]) for row in rows})
    return f"event outcomes {found[0]}, order states {found[1]}"


def _sending_calls(telegram: FakeTelegram) -> int:
    methods = {"sendMessage", "editMessageText", "answerCallbackQuery", "sendPhoto"}
    return sum(1 for call in telegram.calls if call.method in methods)
