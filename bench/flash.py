"""Scenarios 2, 3 and 5 — a flash sale, its 1,000 deliveries, and the footprint around them.

One shop process lives through the whole story, as it would in production:
start (time to /healthz 200, idle RSS) → 1,000 buyers open the product card from a deep link
(set-up, not timed as the sale) → all of them tap Buy within 10 s while the Stripe stand-in
allows 25 session creations per second and the Telegram stand-in 30 messages per second (and
3 within any 3 s in one chat, like Telegram's per-chat limit) →
every session is paid and Stripe's 1,000 checkout.session.completed events arrive at once →
the delivery worker delivers them under Telegram's limit → RSS after each phase.

Everything is observed from outside the shop, through the stand-ins' timelines (when each call
was answered), so the figures are what buyers and the two services would see.
"""

from __future__ import annotations

import asyncio
import json
import math
import sqlite3
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import growth
from bench.harness import (
    ADMIN_ID,
    BOT_TOKEN,
    Process,
    TimedStripe,
    TimedTelegram,
    messages_sent,
    shop_process,
)
from bench.loadgen import run_load, signed
from bench.profiling import Profile, Recording
from bench.report import Report
from bot.buyer import texts
from sandbox.fake_telegram import RATE_LIMITED_METHODS, FakeMessage
from storage import products
from storage.db import Database

STRIPE_CREATES_PER_SECOND = 25
TELEGRAM_MESSAGES_PER_SECOND = 30
TELEGRAM_PER_CHAT = (3, 3.0)  # messages, seconds: about 1/s per chat, short bursts allowed
TAP_WINDOW_SECONDS = 10.0
FIRST_BUYER = 710_000
GOAL_LINK_RATIO = 1.1
# Telegram refuses to answer a callback query after an undocumented time (reported as about
# 10–15 s: "query is too old and response timeout expired"); the stand-in does not expire
# them, so the bench counts the answers that real Telegram could have refused.
LATE_ANSWER_SECONDS = 10.0
GOAL_DELIVERY_FRACTION = 0.9
_ERRORS = {
    texts.checkout_failed(): "couldn't start the payment",
    texts.slow_down(): "slow down",
    texts.too_many_open(): "too many open links",
    texts.sold_out(0): "sold out",
    texts.product_unavailable(): "unavailable",
    "Sorry, something went wrong. Please try again.": "handler error",
}


@dataclass
class SaleLog:
    """What each buyer saw during the sale, read off the Telegram stand-in's timeline."""

    tapped: dict[int, float] = field(default_factory=dict)
    answered: dict[int, float] = field(default_factory=dict)
    linked: dict[int, float] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    placeholders: int = 0
    methods: Counter[str] = field(default_factory=Counter)
    scanned: int = 0


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(math.ceil(q / 100 * len(ordered)), 1) - 1]


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def _has_pay_link(result: dict[str, Any]) -> bool:
    rows = (result.get("reply_markup") or {}).get("inline_keyboard", [])
    return any(b.get("url") and str(b.get("text", "")).startswith("Pay") for r in rows for b in r)


def _scan(telegram: TimedTelegram, log: SaleLog, query_buyer: dict[str, int]) -> None:
    """Fold the stand-in's new calls into the log (incrementally, so polling stays cheap)."""
    for at, call in telegram.calls_since(log.scanned):
        log.scanned += 1
        log.methods[f"{call.method} {call.status}"] += 1
        if call.status != 200:
            continue
        if call.method == "answerCallbackQuery":
            buyer = query_buyer.get(str(call.params.get("callback_query_id")))
            if buyer is not None:
                log.answered.setdefault(buyer, at)
                if call.params.get("show_alert"):  # a refusal, told in the tap's answer
                    alert = str(call.params.get("text"))
                    log.errors[_ERRORS.get(alert, f"alert: {alert[:40]}")] += 1
            continue
        if call.method not in ("sendMessage", "editMessageText"):
            continue
        result = call.response.get("result") or {}
        chat = int((result.get("chat") or {}).get("id", 0))
        if chat not in log.tapped:
            continue
        text = str(result.get("text") or "")
        if _has_pay_link(result):
            log.linked.setdefault(chat, at)
        elif text == texts.preparing_link():
            log.placeholders += 1
        else:
            log.errors[_ERRORS.get(text, f"other: {text[:40]}")] += 1


async def _open_cards(
    telegram: TimedTelegram, buyers: list[int], product_id: int
) -> dict[int, FakeMessage]:
    """Each buyer follows the deep link; the shop answers with the product card."""
    timeout = 180.0
    for buyer in buyers:
        telegram.user_sends(buyer, f"/start p_{product_id}", first_name=f"Buyer {buyer}")
    cards: dict[int, FakeMessage] = {}
    deadline = time.monotonic() + timeout
    while len(cards) < len(buyers):
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(cards)} of {len(buyers)} cards arrived")
        await asyncio.sleep(0.2)
        for buyer in buyers:
            if buyer not in cards:
                for message in telegram.messages(buyer):
                    buttons = message.buttons()
                    if any(b.get("callback_data", "").startswith("buy:") for b in buttons):
                        cards[buyer] = message
                        break
    return cards


def _timeline(
    t0: float,
    t_end: float,
    columns: dict[str, list[float]],
    *,
    step: float = 5.0,
    rows: int = 30,
) -> list[str]:
    """A markdown table of how many of each column's events fell in each `step` seconds from
    `t0`; after `rows` buckets, one last row sums the rest."""
    names = list(columns)
    lines = [
        "| seconds | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    buckets = max(math.ceil((t_end - t0) / step), 1)
    for i in range(min(buckets, rows)):
        lo, hi = t0 + i * step, t0 + (i + 1) * step
        if i == rows - 1 and buckets > rows:
            hi = t_end + 1
        counts = [sum(1 for t in columns[name] if lo <= t < hi) for name in names]
        label = f"{i * step:g}–{(i + 1) * step:g}" if hi <= t_end else f"{i * step:g}–end"
        lines.append(f"| {label} | " + " | ".join(str(c) for c in counts) + " |")
    return lines


async def _seed_product(database: Path) -> int:
    db = await Database.open(database)
    try:
        async with db.transaction() as tx:
            return await products.add(
                tx,
                title="Flash drop: signed poster",
                description="Limited edition, tonight only.",
                price_minor=2500,
                currency="usd",
                delivery_text="Your download: https://files.example/poster.pdf",
            )
    finally:
        await db.close()


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


def _dump_calls(telegram: TimedTelegram, path: Path) -> None:
    """Every call the Telegram stand-in answered, with when: the raw timeline behind the
    rates and 429s in the report, for a closer look (inter-arrival gaps around a 429)."""
    with path.open("w") as out:
        out.write("seconds,method,status,chat_id\n")
        t0 = telegram.call_times[0] if telegram.call_times else 0.0
        for at, call in telegram.calls_since(0):
            chat = call.params.get("chat_id", "")
            out.write(f"{at - t0:.4f},{call.method},{call.status},{chat}\n")


async def startup_time(workdir: Path, runs: int) -> list[float]:
    """Spawn `python -m bot` on a fresh database `runs` times; seconds to /healthz 200 each."""
    times: list[float] = []
    for i in range(runs):
        telegram = TimedTelegram(token=BOT_TOKEN)
        stripe_api = TimedStripe()
        await telegram.start()
        await stripe_api.start()
        telegram.user_sends(ADMIN_ID, "/help", first_name="Admin", queue=False)
        shop, port = shop_process(
            telegram, stripe_api, workdir / f"start-{i}.db", workdir, f"shop-start-{i}"
        )
        try:
            await shop.start()
            times.append(await shop.wait_http(f"http://127.0.0.1:{port}/healthz"))
        finally:
            await shop.stop()
            await telegram.stop()
            await stripe_api.stop()
    return times


async def run(report: Report, workdir: Path, *, quick: bool, profile: bool) -> None:
    count = 300 if quick else 1000
    window = 3.0 if quick else TAP_WINDOW_SECONDS
    buyers = [FIRST_BUYER + i for i in range(count)]
    telegram = TimedTelegram(token=BOT_TOKEN)
    stripe_api = TimedStripe(rate_limit_per_second=STRIPE_CREATES_PER_SECOND)
    await telegram.start()
    await stripe_api.start()
    database = workdir / "flash.db"
    product_id = await _seed_product(database)
    telegram.user_sends(ADMIN_ID, "/help", first_name="Admin", queue=False)
    shop: Process | None = None
    try:
        shop, port = shop_process(telegram, stripe_api, database, workdir, "shop-flash")
        await shop.start()
        started = await shop.wait_http(f"http://127.0.0.1:{port}/healthz")
        await asyncio.sleep(1.0)
        idle_rss, _ = shop.rss_kib()

        began = time.monotonic()
        cards = await _open_cards(telegram, buyers, product_id)
        cards_seconds = time.monotonic() - began

        sale, sale_profile = await _flash_sale(
            telegram, stripe_api, shop, cards, product_id, workdir, profile, window
        )
        sale_rss, _ = shop.rss_kib()

        delivered = await _deliveries(telegram, stripe_api, shop, port, database, count)
        after_rss, peak_rss = shop.rss_kib()
    finally:
        if shop is not None:
            await shop.stop()
        await telegram.stop()
        await stripe_api.stop()
        _dump_calls(telegram, workdir / "telegram-calls.csv")
    more_starts = await startup_time(workdir, 2)
    db = await Database.open(database)
    try:
        mismatches = await growth.cross_check(db, int(time.time()))
    finally:
        await db.close()

    _report_sale(report, sale, count, cards_seconds, sale_profile)
    _report_deliveries(report, delivered, count)
    report.add(
        "3 deliveries",
        "/sales and order counts (aggregates) = direct queries after the real flow",
        "yes" if not mismatches else "NO: " + "; ".join(mismatches),
        "equal",
        not mismatches,
    )
    starts = [started, *more_starts]
    report.add(
        "5 footprint",
        "start-up: spawn → /healthz 200 (median of 3; max)",
        f"{statistics.median(starts):.2f} s; {max(starts):.2f} s",
    )
    report.add("5 footprint", "RSS idle (after start)", f"{idle_rss / 1024:.0f} MiB")
    report.add(
        "5 footprint", f"RSS after the flash sale ({count} buyers)", f"{sale_rss / 1024:.0f} MiB"
    )
    report.add(
        "5 footprint",
        "RSS after the deliveries; peak",
        f"{after_rss / 1024:.0f} MiB; {peak_rss / 1024:.0f} MiB",
    )


@dataclass
class SaleResult:
    log: SaleLog
    t0: float
    window: float
    stripe_ok: int
    stripe_429: int
    telegram_429: int
    timeline: list[str]


async def _flash_sale(
    telegram: TimedTelegram,
    stripe_api: TimedStripe,
    shop: Process,
    cards: dict[int, FakeMessage],
    product_id: int,
    workdir: Path,
    profile: bool,
    window: float,
) -> tuple[SaleResult, Profile | None]:
    """All buyers tap Buy, evenly spread over `window` seconds; wait until each has a link or
    an error."""
    telegram.rate_limit_per_second = TELEGRAM_MESSAGES_PER_SECOND
    telegram.chat_rate_limit = TELEGRAM_PER_CHAT
    log = SaleLog(scanned=len(telegram.calls))
    limited_before = telegram.rate_limited
    stripe_from = len(stripe_api.timeline)
    query_buyer: dict[str, int] = {}
    buyers = list(cards)
    for buyer in buyers:
        log.tapped[buyer] = math.inf
    recording: Recording | None = None
    if profile:
        recording = Recording(shop.pid, workdir / "flash-sale.pyspy")
        await recording.__aenter__()
    t0 = time.monotonic()
    try:
        for i, buyer in enumerate(buyers):
            due = t0 + i * window / len(buyers)
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            update = telegram.user_taps(buyer, cards[buyer], f"buy:{product_id}:1")
            query_buyer[str(update["callback_query"]["id"])] = buyer
            log.tapped[buyer] = time.monotonic()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            _scan(telegram, log, query_buyer)
            if len(log.linked) + sum(log.errors.values()) >= len(buyers):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # a straggler's second message, if any
        _scan(telegram, log, query_buyer)
    finally:
        if recording is not None:
            await recording.__aexit__(None, None, None)
    end = max(log.linked.values(), default=time.monotonic())
    hits = [
        (h.at, h.status)
        for h in stripe_api.timeline[stripe_from:]
        if h.method == "POST" and h.path == "/v1/checkout/sessions"
    ]
    sent = [t for t, _ in messages_sent(telegram.calls_since(0)) if t >= t0]
    result = SaleResult(
        log=log,
        t0=t0,
        window=window,
        stripe_ok=sum(1 for _, s in hits if s == 200),
        stripe_429=sum(1 for _, s in hits if s == 429),
        telegram_429=telegram.rate_limited - limited_before,
        timeline=_timeline(
            t0,
            end,
            {
                "Stripe creates accepted": [t for t, status in hits if status == 200],
                "Stripe 429": [t for t, status in hits if status == 429],
                "Telegram messages accepted": sent,
            },
        ),
    )
    return result, recording.profile if recording else None


def _report_sale(
    report: Report, sale: SaleResult, count: int, cards_seconds: float, profile: Profile | None
) -> None:
    log = sale.log
    floor = count / STRIPE_CREATES_PER_SECOND
    last = max(log.linked.values(), default=math.nan) - sale.t0
    ratio = last / floor
    errors = sum(log.errors.values())
    waits = [log.linked[b] - log.tapped[b] for b in log.linked]
    spins = [log.answered[b] - log.tapped[b] for b in log.answered]
    report.add(
        "2 flash sale",
        f"buyers with a link / {count}; errors seen by buyers",
        f"{len(log.linked)} / {count}; {errors}",
        "0 errors",
        errors == 0 and len(log.linked) == count,
    )
    report.add("2 flash sale", "first tap → every buyer has a link", f"{last:.1f} s")
    report.add(
        "2 flash sale",
        f"… over the floor {count}/{STRIPE_CREATES_PER_SECOND} = {floor:.0f} s",
        f"{ratio:.2f}",
        f"≤ {GOAL_LINK_RATIO}",
        ratio <= GOAL_LINK_RATIO,
    )
    report.add(
        "2 flash sale",
        "tap → link p50 · p99",
        f"{_seconds(_percentile(waits, 50))} · {_seconds(_percentile(waits, 99))}",
    )
    report.add(
        "2 flash sale",
        "tap → button answered (spinner) p50 · p99 · max",
        f"{_seconds(_percentile(spins, 50))} · {_seconds(_percentile(spins, 99))} · "
        f"{_seconds(max(spins, default=math.nan))}",
    )
    m = log.methods
    late = sum(1 for spin in spins if spin > LATE_ANSWER_SECONDS)
    report.add(
        "2 flash sale",
        f"buttons answered > {LATE_ANSWER_SECONDS:.0f} s after the tap (Telegram may refuse: "
        "'query is too old')",
        f"{late}",
        "0",
        late == 0,
    )
    report.add(
        "2 flash sale",
        "Telegram: sendMessage · editMessageText · answerCallbackQuery; 429s",
        f"{m['sendMessage 200']} · {m['editMessageText 200']} · "
        f"{m['answerCallbackQuery 200']}; {sale.telegram_429}",
        "0 429s",
        sale.telegram_429 == 0,
    )
    report.add(
        "2 flash sale",
        "'preparing…' placeholders sent",
        f"{log.placeholders}",
    )
    report.add(
        "2 flash sale",
        "Stripe: sessions created; 429s answered",
        f"{sale.stripe_ok}; {sale.stripe_429}",
    )
    lines = [
        f"{count} buyers tapped Buy evenly over {sale.window:.0f} s; the Stripe stand-in "
        f"answered 429 beyond {STRIPE_CREATES_PER_SECOND} session creations per second and "
        f"the Telegram stand-in beyond {TELEGRAM_MESSAGES_PER_SECOND} messages per second "
        "(sliding one-second windows). Before the sale every buyer opened the card from the "
        f"deep link (`/start p_<id>`): {count} cards took {cards_seconds:.1f} s "
        f"({count / cards_seconds:.0f} messages/s, Telegram-bound).",
        "",
        f"Errors by kind: {dict(log.errors) or 'none'}.",
        "",
        "Timeline from the first tap:",
        "",
        *sale.timeline,
    ]
    if profile is not None:
        lines += ["", "Profile of the shop during the sale:", "", *profile.table(10)]
    report.section("2. Flash sale", lines)


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


async def _deliveries(
    telegram: TimedTelegram,
    stripe_api: TimedStripe,
    shop: Process,
    port: int,
    database: Path,
    count: int,
) -> DeliveryResult:
    """Every buyer pays; Stripe's events arrive at once (100 connections); time until the
    outbox is empty and each order is fulfilled, as Telegram saw it."""
    sessions = _sessions(database)
    bodies = []
    for session_id in sessions:
        stripe_api.pay(session_id)
        event = stripe_api.session_event("checkout.session.completed", session_id)
        bodies.append(json.dumps(event, indent=2).encode())
    scanned = len(telegram.calls)
    limited_before = telegram.rate_limited
    url = f"http://127.0.0.1:{port}/stripe/webhook"
    t0 = time.monotonic()
    fired = await run_load(url, signed(bodies, stripe_api.sign), min(100, len(bodies)))
    deadline = time.monotonic() + 600
    pending, fulfilled, retried = _db_counts(database)
    while time.monotonic() < deadline and (pending or fulfilled < len(sessions)):
        await asyncio.sleep(0.2)
        pending, fulfilled, retried = _db_counts(database)
    calls = messages_sent(telegram.calls_since(scanned))
    by_kind: Counter[str] = Counter()
    for _, call in calls:
        chat = int(call.params.get("chat_id", 0))
        if call.method == "editMessageText":
            by_kind["receipt edits"] += 1
        elif chat == ADMIN_ID:
            by_kind["admin alert messages"] += 1
        else:
            by_kind["buyer notices"] += 1
    end = max((t for t, _ in calls), default=time.monotonic())
    return DeliveryResult(
        seconds=end - t0,
        fired=len(bodies),
        statuses=fired.statuses,
        webhook_p50_ms=fired.p50_ms,
        webhook_p99_ms=fired.p99_ms,
        by_kind=by_kind,
        telegram_429=telegram.rate_limited - limited_before,
        retried=retried,
        fulfilled=fulfilled,
        pending=pending,
        timeline=_timeline(
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


def _report_deliveries(report: Report, d: DeliveryResult, count: int) -> None:
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
