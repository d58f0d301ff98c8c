"""Scenario 3 — the deliveries: every buyer of the flash sale pays, Stripe's events arrive at
once, and the delivery worker sends the goods under Telegram's limit."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.flash_common import TELEGRAM_MESSAGES_PER_SECOND, timeline
from bench.harness import ADMIN_ID, TimedStripe, TimedTelegram, messages_sent
from bench.loadgen import run_load, signed
from bench.report import Report
from sandbox.fake_telegram import RATE_LIMITED_METHODS, FakeCall

GOAL_DELIVERY_FRACTION = 0.9


def _db_counts(database: Path) -> tuple[int, int, int]:
    """(pending deliveries, fulfilled orders, deliveries that needed more than one attempt)."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
    try:
        pending = conn.execute("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'")
        fulfilled = conn.execute("SELECT COUNT(*) FROM orders WHERE status = 'fulfilled'")
        retried = conn.execute("SELECT COUNT(*) FROM deliveries WHERE attempts > 1")
        return pending.fetchone()[0], fulfilled.fetchone()[0], retried.fetchone()[0]
    finally:
        conn.close()


def _sessions(database: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
    try:
        rows = conn.execute(
            "SELECT checkout_session_id FROM orders WHERE status = 'awaiting_payment'"
            " AND checkout_session_id IS NOT NULL ORDER BY id"
        ).fetchall()
    finally:
        conn.close()
    return [str(row[0]) for row in rows]


@dataclass
class DeliveryResult:
    seconds: float
    fired: int
    statuses: Counter[int]
    webhook_p50_ms: float
    webhook_p99_ms: float
    by_kind: Counter[str]
    telegram_429: int
    retried: int
    fulfilled: int
    pending: int
    timeline: list[str]


def _paid_events(stripe_api: TimedStripe, sessions: list[str]) -> list[bytes]:
    """Pay every session; Stripe's checkout.session.completed event for each, as sent."""
    bodies = []
    for session_id in sessions:
        stripe_api.pay(session_id)
        event = stripe_api.session_event("checkout.session.completed", session_id)
        bodies.append(json.dumps(event, indent=2).encode())
    return bodies


async def _wait_until_fulfilled(database: Path, orders: int) -> tuple[int, int, int]:
    """Until nothing is pending and every order is fulfilled (at most 10 minutes):
    (pending deliveries, fulfilled orders, deliveries retried)."""
    deadline = time.monotonic() + 600
    pending, fulfilled, retried = _db_counts(database)
    while time.monotonic() < deadline and (pending or fulfilled < orders):
        await asyncio.sleep(0.2)
        pending, fulfilled, retried = _db_counts(database)
    return pending, fulfilled, retried


def _messages_by_kind(calls: list[tuple[float, FakeCall]]) -> Counter[str]:
    by_kind: Counter[str] = Counter()
    for _, call in calls:
        chat = int(call.params.get("chat_id", 0))
        if call.method == "editMessageText":
            by_kind["receipt edits"] += 1
        elif chat == ADMIN_ID:
            by_kind["admin alert messages"] += 1
        else:
            by_kind["buyer notices"] += 1
    return by_kind


async def deliveries(
    telegram: TimedTelegram,
    stripe_api: TimedStripe,
    port: int,
    database: Path,
) -> DeliveryResult:
    """Every buyer pays; Stripe's events arrive at once (100 connections); time until the
    outbox is empty and each order is fulfilled, as Telegram saw it."""
    sessions = _sessions(database)
    bodies = _paid_events(stripe_api, sessions)
    scanned = len(telegram.calls)
    limited_before = telegram.rate_limited
    url = f"http://127.0.0.1:{port}/stripe/webhook"
    t0 = time.monotonic()
    fired = await run_load(url, signed(bodies, stripe_api.sign), min(100, len(bodies)))
    pending, fulfilled, retried = await _wait_until_fulfilled(database, len(sessions))
    calls = messages_sent(telegram.calls_since(scanned))
    end = max((t for t, _ in calls), default=time.monotonic())
    return DeliveryResult(
        seconds=end - t0,
        fired=len(bodies),
        statuses=fired.statuses,
        webhook_p50_ms=fired.p50_ms,
        webhook_p99_ms=fired.p99_ms,
        by_kind=_messages_by_kind(calls),
        telegram_429=telegram.rate_limited - limited_before,
        retried=retried,
        fulfilled=fulfilled,
        pending=pending,
        timeline=timeline(
            t0,
            end,
            {
                "Telegram messages accepted": [t for t, _ in calls],
                "Telegram 429": [
                    t
                    for t, call in telegram.calls_since(scanned)
                    if call.status == 429 and call.method in RATE_LIMITED_METHODS
                ],
            },
            step=1.0,
            rows=20,
        ),
    )


def report_deliveries(report: Report, d: DeliveryResult, count: int) -> None:
    messages = sum(d.by_kind.values())
    rate = messages / d.seconds if d.seconds else 0.0
    fraction = rate / TELEGRAM_MESSAGES_PER_SECOND
    report.add(
        "3 deliveries",
        f"{d.fired} events fired at once: statuses; webhook p50 · p99",
        f"{dict(d.statuses)}; {d.webhook_p50_ms:.0f} ms · {d.webhook_p99_ms:.0f} ms",
    )
    report.add(
        "3 deliveries",
        "orders fulfilled; deliveries still pending",
        f"{d.fulfilled} / {count}; {d.pending}",
        f"{count}; 0",
        d.fulfilled == count and d.pending == 0,
    )
    report.add(
        "3 deliveries",
        "messages: " + " · ".join(f"{k} {v}" for k, v in sorted(d.by_kind.items())),
        f"{messages} in {d.seconds:.1f} s",
    )
    report.add(
        "3 deliveries",
        f"achieved rate / {TELEGRAM_MESSAGES_PER_SECOND} per s",
        f"{rate:.1f}/s = {fraction:.2f}",
        f"≥ {GOAL_DELIVERY_FRACTION}",
        fraction >= GOAL_DELIVERY_FRACTION,
    )
    report.add(
        "3 deliveries",
        "Telegram 429s; deliveries retried",
        f"{d.telegram_429}; {d.retried}",
        "0 429s",
        d.telegram_429 == 0,
    )
    per_order = messages / count if count else 0
    report.section(
        "3. Deliveries",
        [
            f"A delivery of one paid order is {per_order:.2f} Telegram messages: the order's "
            "own message edited into the receipt with the goods and a short 'payment "
            "received' notice (an edit does not notify); the admin (one here) gets the sales "
            "as digests, at most 3 messages at once and then one per 5 s, inside the "
            "stand-in's per-chat limit. The rate counts every accepted message from the first "
            "event fired to the last message. Per second, first 19 s (the raw timeline is "
            "`telegram-calls.csv` in the scratch directory):",
            "",
            *d.timeline,
        ],
    )
