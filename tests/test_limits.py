"""The limits per buyer and per chat, kept in the database (storage/limits.py, shop/limits.py):
a sliding window per subject, a pace per chat, rows forgotten once they limit nothing, and
every instance counting together — takes for one subject at the same moment never let more
through than the limit. The refund confirmations live there too: of two taps, one finds it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shop.limits import Limits, Window
from storage import limits, refunds
from storage.db import Database, fetch_one
from tests.shop_records import add_product, new_order, scratch_db

T0 = 1_000_000  # a moment, in ms, for the replayed clock


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with scratch_db(tmp_path) as database:
        yield database


async def _allow(db: Database, subject: int, limit: int, window_ms: int, at_ms: int) -> bool:
    async with db.transaction(serial=False) as tx:
        return await limits.take_window(tx, "taps", str(subject), limit, window_ms, at_ms=at_ms)


async def _rows(db: Database) -> int:
    row = await fetch_one(db.reader, "SELECT COUNT(*) FROM rate_limits")
    assert row is not None
    return int(row[0])


async def test_limit_per_subject_over_a_sliding_window(db: Database) -> None:
    assert [await _allow(db, 1, 3, 60_000, T0) for _ in range(4)] == [True, True, True, False]
    assert await _allow(db, 2, 3, 60_000, T0)  # another buyer has a window of their own
    assert not await _allow(db, 1, 3, 60_000, T0 + 30_000)  # refused taps do not count
    later = T0 + 60_000  # the first three taps are exactly 60 s old: out of the window
    assert [await _allow(db, 1, 3, 60_000, later) for _ in range(4)] == [True, True, True, False]


async def test_slides_tap_by_tap(db: Database) -> None:
    assert await _allow(db, 7, 2, 10_000, T0)
    assert await _allow(db, 7, 2, 10_000, T0 + 6_000)
    assert await _allow(db, 7, 2, 10_000, T0 + 11_000)  # the first left, the second has not
    assert not await _allow(db, 7, 2, 10_000, T0 + 11_000)


async def test_forgets_subjects_whose_events_all_left_their_window(db: Database) -> None:
    for buyer in range(50):
        await _allow(db, buyer, 10, 60_000, T0 + buyer * 1_000)
    async with db.transaction(serial=False) as tx:
        assert await limits.forget_expired(tx, at_ms=T0 + 59_000) == 0
        assert await limits.forget_expired(tx, at_ms=T0 + 60_000 + 19_500) == 20
    assert await _rows(db) == 30
    assert await _allow(db, 0, 1, 60_000, T0 + 80_000)  # a forgotten buyer starts afresh


async def test_a_pace_allows_a_burst_then_one_per_gap(db: Database) -> None:
    async def wait(at_ms: int) -> int:
        async with db.transaction(serial=False) as tx:
            return await limits.take_pace(tx, "alerts", "9", 3, 5_000, at_ms=at_ms)

    assert [await wait(T0) for _ in range(3)] == [0, 0, 0]
    assert await wait(T0 + 1_000) == 4_000  # the burst is spent: the next in 4 s
    assert await wait(T0 + 5_000) == 0
    assert await wait(T0 + 5_000) == 5_000
    assert [await wait(T0 + 60_000) for _ in range(4)] == [0, 0, 0, 5_000]  # quiet: a new burst


async def test_takes_at_the_same_moment_let_through_only_the_limit(db: Database) -> None:
    """Forty taps of one buyer at once (on PostgreSQL, side by side on forty connections at
    most as the pool allows), on the database's own clock: ten pass, as on one instance."""
    shop_limits = Limits(db)
    taps = Window("buy_taps", 10, 60)
    results = await asyncio.gather(*(shop_limits.allow(taps, 700001) for _ in range(40)))
    assert results.count(True) == 10
    assert await shop_limits.allow(taps, 700002)


async def test_of_two_taps_on_one_refund_confirmation_one_finds_it(db: Database) -> None:
    async with db.transaction() as tx:
        order = await new_order(tx, await add_product(tx))
        await refunds.hold_confirmation(tx, "tok", order.id, 500, keep_ms=900_000)

    async def tap() -> refunds.HeldRefund | None:
        async with db.transaction(serial=False) as tx:
            return await refunds.take_confirmation(tx, "tok")

    first, second = await asyncio.gather(tap(), tap())
    found = [held for held in (first, second) if held is not None]
    assert len(found) == 1
    assert (found[0].order_id, found[0].amount) == (order.id, 500)
    assert 0 <= found[0].age_ms < 60_000
