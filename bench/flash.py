"""Scenarios 2, 3 and 5 — a flash sale, its 1,000 deliveries, and the footprint around them.

One shop process lives through the whole story, as it would in production:
start (time to /healthz 200, idle RSS) → 1,000 buyers, each with a cart of three products (the
drop and two extras), open it with /cart (set-up, not timed as the sale) → all of them tap
Checkout within 10 s (one Checkout Session of three line items each) while the Stripe stand-in
allows 25 session creations per second and the Telegram stand-in 30 messages per second (and
3 within any 3 s in one chat, like Telegram's per-chat limit) →
every session is paid and Stripe's 1,000 checkout.session.completed events arrive at once →
the delivery worker delivers them under Telegram's limit → RSS after each phase.

Everything is observed from outside the shop, through the stand-ins' timelines (when each call
was answered), so the figures are what buyers and the two services would see. The sale is
bench/flash_sale.py, the deliveries bench/flash_deliveries.py; this module runs the story and
measures the footprint around it.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import growth
from bench.flash_common import STRIPE_CREATES_PER_SECOND
from bench.flash_deliveries import DeliveryResult, deliveries, report_deliveries
from bench.flash_sale import SaleResult, flash_sale, open_carts, report_sale
from bench.harness import ADMIN_ID, BOT_TOKEN, Process, TimedStripe, TimedTelegram, shop_process
from bench.profiling import Profile
from bench.report import Report
from storage import carts, products
from storage.db import Database
from storage.sqlite import SqliteDatabase

TAP_WINDOW_SECONDS = 10.0
FIRST_BUYER = 710_000


# What each buyer's cart holds at the sale: the drop everyone came for and two small extras.
CART = (
    ("Flash drop: signed poster", 2500, "Your download: https://files.example/poster.pdf"),
    ("Sticker pack", 500, "Your stickers: https://files.example/stickers.zip"),
    ("Phone wallpapers", 300, "Your wallpapers: https://files.example/wallpapers.zip"),
)


async def _seed_sale(database: Path, buyers: list[int]) -> None:
    """The sale's products and carts in the SQLite file, before the shop starts."""
    db = await SqliteDatabase.open(database)
    try:
        await seed_sale(db, buyers)
    finally:
        await db.close()


async def seed_sale(db: Database, buyers: Sequence[int]) -> None:
    """The three products, and every buyer's cart holding one of each (a cart lives in the
    database, so it is there before the shop starts, as after a restart); on either engine
    (scenario 8 seeds PostgreSQL with it)."""
    async with db.transaction() as tx:
        for title, price, delivery in CART:
            product_id = await products.add(
                tx, title=title, description="Limited edition, tonight only.",
                price_minor=price, currency="usd", delivery_text=delivery,
            )  # fmt: skip
            for buyer in buyers:
                await carts.add(
                    tx, buyer, product_id=product_id, quantity=1, unit_amount=price,
                    currency="usd",
                )  # fmt: skip


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


@dataclass
class FlashStory:
    """One shop process through the sale and its deliveries, and its footprint on the way."""

    sale: SaleResult
    sale_profile: Profile | None
    carts_seconds: float
    delivered: DeliveryResult
    started: float
    idle_rss: int
    sale_rss: int
    after_rss: int
    peak_rss: int


async def _sale_and_deliveries(
    workdir: Path, count: int, window: float, profile: bool
) -> FlashStory:
    """Start the shop on a seeded database, open every buyer's card, run the sale, deliver."""
    buyers = [FIRST_BUYER + i for i in range(count)]
    telegram = TimedTelegram(token=BOT_TOKEN)
    stripe_api = TimedStripe(rate_limit_per_second=STRIPE_CREATES_PER_SECOND)
    await telegram.start()
    await stripe_api.start()
    database = workdir / "flash.db"
    await _seed_sale(database, buyers)
    telegram.user_sends(ADMIN_ID, "/help", first_name="Admin", queue=False)
    shop: Process | None = None
    try:
        shop, port = shop_process(telegram, stripe_api, database, workdir, "shop-flash")
        await shop.start()
        started = await shop.wait_http(f"http://127.0.0.1:{port}/healthz")
        await asyncio.sleep(1.0)
        idle_rss, _ = shop.rss_kib()

        began = time.monotonic()
        carts = await open_carts(telegram, buyers)
        carts_seconds = time.monotonic() - began

        sale, sale_profile = await flash_sale(
            telegram, stripe_api, shop, carts, workdir, profile, window
        )
        sale_rss, _ = shop.rss_kib()

        delivered = await deliveries(telegram, stripe_api, port, database)
        after_rss, peak_rss = shop.rss_kib()
    finally:
        if shop is not None:
            await shop.stop()
        await telegram.stop()
        await stripe_api.stop()
        _dump_calls(telegram, workdir / "telegram-calls.csv")
    return FlashStory(
        sale, sale_profile, carts_seconds, delivered, started, idle_rss, sale_rss, after_rss,
        peak_rss,
    )  # fmt: skip


async def _aggregates_mismatches(database: Path) -> list[str]:
    db = await SqliteDatabase.open(database)
    try:
        return await growth.cross_check(db, int(time.time()))
    finally:
        await db.close()


def _report_footprint(report: Report, story: FlashStory, starts: list[float], count: int) -> None:
    report.add(
        "5 footprint",
        "start-up: spawn → /healthz 200 (median of 3; max)",
        f"{statistics.median(starts):.2f} s; {max(starts):.2f} s",
    )
    report.add("5 footprint", "RSS idle (after start)", f"{story.idle_rss / 1024:.0f} MiB")
    report.add(
        "5 footprint",
        f"RSS after the flash sale ({count} buyers)",
        f"{story.sale_rss / 1024:.0f} MiB",
    )
    report.add(
        "5 footprint",
        "RSS after the deliveries; peak",
        f"{story.after_rss / 1024:.0f} MiB; {story.peak_rss / 1024:.0f} MiB",
    )


async def run(report: Report, workdir: Path, *, quick: bool, profile: bool) -> None:
    count = 300 if quick else 1000
    window = 3.0 if quick else TAP_WINDOW_SECONDS
    story = await _sale_and_deliveries(workdir, count, window, profile)
    more_starts = await startup_time(workdir, 2)
    mismatches = await _aggregates_mismatches(workdir / "flash.db")

    report_sale(report, story.sale, count, story.carts_seconds, story.sale_profile)
    report_deliveries(report, story.delivered, count)
    report.add(
        "3 deliveries",
        "/sales and order counts (aggregates) = direct queries after the real flow",
        "yes" if not mismatches else "NO: " + "; ".join(mismatches),
        "equal",
        not mismatches,
    )
    _report_footprint(report, story, [story.started, *more_starts], count)
