"""Scenario 2 — the flash sale: every buyer taps Checkout on a cart of three products within a
few seconds while the Stripe stand-in allows 25 session creations per second and the Telegram
stand-in 30 messages per second; how long until each buyer has a payment link, as Telegram saw
it. The buyers go through the chat as people would: /cart, then the cart's Checkout button
(whatever callback data the cart view gives it)."""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.flash_common import (
    STRIPE_CREATES_PER_SECOND,
    TELEGRAM_MESSAGES_PER_SECOND,
    TELEGRAM_PER_CHAT,
    percentile,
    seconds,
    timeline,
)
from bench.harness import Process, TimedStripe, TimedTelegram, messages_sent
from bench.profiling import Profile, Recording
from bench.report import Report
from bot.buyer import texts
from sandbox.fake_telegram import FakeMessage
from shop.i18n import Languages

GOAL_LINK_RATIO = 1.1
# Telegram refuses to answer a callback query after an undocumented time (reported as about
# 10–15 s: "query is too old and response timeout expired"); the stand-in does not expire
# them, so the bench counts the answers that real Telegram could have refused.
LATE_ANSWER_SECONDS = 10.0
_EN = Languages.load(["en"]).default  # the bench's buyers speak English
_ERRORS = {
    texts.checkout_failed(_EN): "couldn't start the payment",
    texts.slow_down(_EN): "slow down",
    texts.too_many_open(_EN): "too many open links",
    texts.sold_out(_EN, 0): "sold out",
    texts.product_unavailable(_EN): "unavailable",
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


def _has_pay_link(result: dict[str, Any]) -> bool:
    rows = (result.get("reply_markup") or {}).get("inline_keyboard", [])
    return any(b.get("url") and str(b.get("text", "")).startswith("Pay") for r in rows for b in r)


def scan_sale(telegram: TimedTelegram, log: SaleLog, query_buyer: dict[str, int]) -> None:
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
        elif text == texts.preparing_link(_EN):
            log.placeholders += 1
        else:
            log.errors[_ERRORS.get(text, f"other: {text[:40]}")] += 1


CHECKOUT_LABEL = "Checkout"


def checkout_button(message: FakeMessage) -> str | None:
    for button in message.buttons():
        if CHECKOUT_LABEL in str(button.get("text", "")) and button.get("callback_data"):
            return str(button["callback_data"])
    return None


async def open_carts(telegram: TimedTelegram, buyers: list[int]) -> dict[int, FakeMessage]:
    """Each buyer sends /cart; the shop answers with their cart and its Checkout button."""
    for buyer in buyers:
        telegram.user_sends(buyer, "/cart", first_name=f"Buyer {buyer}")
    return await carts_shown(telegram, buyers, within=180.0)


async def carts_shown(
    telegram: TimedTelegram, buyers: Sequence[int], *, within: float, poll: float = 0.2
) -> dict[int, FakeMessage]:
    """Each buyer's cart message with its Checkout button, once every one has arrived; an
    error naming how many came when `within` seconds pass first."""
    carts: dict[int, FakeMessage] = {}
    deadline = time.monotonic() + within
    while len(carts) < len(buyers):
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(carts)} of {len(buyers)} carts arrived")
        await asyncio.sleep(poll)
        for buyer in buyers:
            if buyer not in carts:
                for message in telegram.messages(buyer):
                    if checkout_button(message) is not None:
                        carts[buyer] = message
                        break
    return carts


@dataclass
class SaleResult:
    log: SaleLog
    t0: float
    window: float
    stripe_ok: int
    stripe_429: int
    telegram_429: int
    timeline: list[str]
    line_items: Counter[int]  # sessions by their number of line items


async def _tap_checkout_evenly(
    telegram: TimedTelegram,
    carts: dict[int, FakeMessage],
    window: float,
    log: SaleLog,
    query_buyer: dict[str, int],
    t0: float,
) -> None:
    """Each buyer taps Checkout on their cart at their moment of `window`, in order from `t0`."""
    buyers = list(carts)
    for i, buyer in enumerate(buyers):
        due = t0 + i * window / len(buyers)
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        data = checkout_button(carts[buyer])
        assert data is not None, "open_carts kept only carts with a Checkout button"
        update = telegram.user_taps(buyer, carts[buyer], data)
        query_buyer[str(update["callback_query"]["id"])] = buyer
        log.tapped[buyer] = time.monotonic()


async def _wait_for_every_answer(
    telegram: TimedTelegram, log: SaleLog, query_buyer: dict[str, int], buyers: int
) -> None:
    """Until each buyer has a link or an error (at most 5 minutes), then a straggler's second
    message."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        scan_sale(telegram, log, query_buyer)
        if len(log.linked) + sum(log.errors.values()) >= buyers:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # a straggler's second message, if any
    scan_sale(telegram, log, query_buyer)


def _sale_result(
    telegram: TimedTelegram,
    stripe_api: TimedStripe,
    log: SaleLog,
    t0: float,
    window: float,
    stripe_from: int,
    limited_before: int,
) -> SaleResult:
    """The sale as the two stand-ins saw it from `t0`: creations, 429s and a timeline."""
    end = max(log.linked.values(), default=time.monotonic())
    hits = [
        (h.at, h.status)
        for h in stripe_api.timeline[stripe_from:]
        if h.method == "POST" and h.path == "/v1/checkout/sessions"
    ]
    sent = [t for t, _ in messages_sent(telegram.calls_since(0)) if t >= t0]
    return SaleResult(
        log=log,
        t0=t0,
        window=window,
        stripe_ok=sum(1 for _, s in hits if s == 200),
        stripe_429=sum(1 for _, s in hits if s == 429),
        telegram_429=telegram.rate_limited - limited_before,
        line_items=Counter(len(stripe_api.line_items(session)) for session in stripe_api.sessions),
        timeline=timeline(
            t0,
            end,
            {
                "Stripe creates accepted": [t for t, status in hits if status == 200],
                "Stripe 429": [t for t, status in hits if status == 429],
                "Telegram messages accepted": sent,
            },
        ),
    )


async def flash_sale(
    telegram: TimedTelegram,
    stripe_api: TimedStripe,
    shop: Process,
    carts: dict[int, FakeMessage],
    workdir: Path,
    profile: bool,
    window: float,
) -> tuple[SaleResult, Profile | None]:
    """All buyers tap Checkout, evenly spread over `window` seconds; wait until each has a
    link or an error."""
    telegram.rate_limit_per_second = TELEGRAM_MESSAGES_PER_SECOND
    telegram.chat_rate_limit = TELEGRAM_PER_CHAT
    log = SaleLog(scanned=len(telegram.calls))
    limited_before = telegram.rate_limited
    stripe_from = len(stripe_api.timeline)
    query_buyer: dict[str, int] = {}
    for buyer in carts:
        log.tapped[buyer] = math.inf
    recording: Recording | None = None
    if profile:
        recording = Recording(shop.pid, workdir / "flash-sale.pyspy")
        await recording.__aenter__()
    t0 = time.monotonic()
    try:
        await _tap_checkout_evenly(telegram, carts, window, log, query_buyer, t0)
        await _wait_for_every_answer(telegram, log, query_buyer, len(carts))
    finally:
        if recording is not None:
            await recording.__aexit__(None, None, None)
    result = _sale_result(telegram, stripe_api, log, t0, window, stripe_from, limited_before)
    return result, recording.profile if recording else None


def _report_links(report: Report, sale: SaleResult, count: int) -> None:
    """Did every buyer get a link, and how close to Stripe's floor."""
    log = sale.log
    floor = count / STRIPE_CREATES_PER_SECOND
    last = max(log.linked.values(), default=math.nan) - sale.t0
    ratio = last / floor
    errors = sum(log.errors.values())
    waits = [log.linked[b] - log.tapped[b] for b in log.linked]
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
        f"{seconds(percentile(waits, 50))} · {seconds(percentile(waits, 99))}",
    )


def _report_answers(report: Report, sale: SaleResult) -> None:
    """How fast buttons were answered, and what each service was asked."""
    log = sale.log
    spins = [log.answered[b] - log.tapped[b] for b in log.answered]
    report.add(
        "2 flash sale",
        "tap → button answered (spinner) p50 · p99 · max",
        f"{seconds(percentile(spins, 50))} · {seconds(percentile(spins, 99))} · "
        f"{seconds(max(spins, default=math.nan))}",
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
        "Checkout Sessions by line items",
        ", ".join(f"{n} of {items}" for items, n in sorted(sale.line_items.items())),
        "all of 3",
        set(sale.line_items) == {3},
    )
    report.add(
        "2 flash sale",
        "Stripe: sessions created; 429s answered",
        f"{sale.stripe_ok}; {sale.stripe_429}",
    )


def _report_sale_section(
    report: Report, sale: SaleResult, count: int, carts_seconds: float, profile: Profile | None
) -> None:
    """The sale's section: the set-up, errors by kind, the timeline and the profile."""
    log = sale.log
    lines = [
        f"{count} buyers tapped Checkout on a cart of three products (one session of three "
        f"line items each) evenly over {sale.window:.0f} s; the Stripe stand-in "
        f"answered 429 beyond {STRIPE_CREATES_PER_SECOND} session creations per second and "
        f"the Telegram stand-in beyond {TELEGRAM_MESSAGES_PER_SECOND} messages per second "
        "(sliding one-second windows). Before the sale every buyer opened their cart "
        f"(`/cart`): {count} carts took {carts_seconds:.1f} s "
        f"({count / carts_seconds:.0f} messages/s, Telegram-bound).",
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


def report_sale(
    report: Report, sale: SaleResult, count: int, carts_seconds: float, profile: Profile | None
) -> None:
    _report_links(report, sale, count)
    _report_answers(report, sale)
    _report_sale_section(report, sale, count, carts_seconds, profile)
