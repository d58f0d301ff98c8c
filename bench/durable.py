"""Scenario 7 — what a power-safe order row costs.

The order row is written before its Checkout Session exists, and a payment may name it at any
time after, so its commit is flushed to the device (`synchronous=FULL`, `Database.transaction(
durable=True)`); every other commit keeps WAL's `NORMAL`, which survives the process dying but
not a power loss. Here the same order insert is committed N times each way, on one database file
in the bench's scratch directory (a real disk, not tmpfs, on the machines this was measured on),
and the two rates are compared in the same run. Checkout creations are bounded by Stripe's
budget (24/s per account), so the goal is that durable order rows stay far above it.
"""

from __future__ import annotations

import time
from pathlib import Path

from bench.report import Report
from storage import orders, products
from storage.clock import now
from storage.db import Database
from storage.models import ProductKind
from storage.sqlite import SqliteDatabase

STRIPE_CREATIONS_PER_SECOND = 24
HEADROOM = 10  # durable order rows per second must be ≥ 10 × Stripe's budget
SCENARIO = "7 durable orders"


async def _commits_per_second(db: Database, product_id: int, count: int, *, durable: bool) -> float:
    began = time.perf_counter()
    for buyer in range(count):
        async with db.transaction(durable=durable) as tx:
            await orders.create(
                tx,
                buyer_user_id=buyer,
                buyer_chat_id=buyer,
                buyer_name="bench",
                lines=[orders.NewLine(product_id, "Bench ebook", ProductKind.DIGITAL_TEXT, 999, 1)],
                currency="usd",
                expires_at=now() + 3600,
            )
    return count / (time.perf_counter() - began)


async def run(report: Report, workdir: Path, *, quick: bool) -> None:
    count = 200 if quick else 1_000
    db = await SqliteDatabase.open(workdir / "durable.db")
    try:
        async with db.transaction() as tx:
            product_id = await products.add(
                tx, title="Bench ebook", price_minor=999, currency="usd", delivery_text="-"
            )
        normal = await _commits_per_second(db, product_id, count, durable=False)
        durable = await _commits_per_second(db, product_id, count, durable=True)
    finally:
        await db.close()
    floor = HEADROOM * STRIPE_CREATIONS_PER_SECOND
    report.add(SCENARIO, "order rows committed/s, NORMAL · FULL", f"{normal:.0f} · {durable:.0f}")
    report.add(SCENARIO, "durable / normal commit rate", f"{durable / normal:.2f}")
    report.add(
        SCENARIO,
        "durable order rows/s vs Stripe's 24 creations/s",
        f"{durable / STRIPE_CREATIONS_PER_SECOND:.0f}×",
        f"≥ {HEADROOM}×",
        durable >= floor,
    )
