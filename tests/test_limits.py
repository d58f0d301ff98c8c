"""The limits per buyer and per chat (shop/limits.py): a sliding window and a pace, each rule
written once and run over both stores of their states — this process's memory (what a SQLite
shop uses) and the database's rows (what instances sharing PostgreSQL use, here on the pass's
engine) — with idle subjects forgotten, and takes for one subject at the same moment never
letting more through than the limit. The refund confirmations live in the database too: of two
taps, one finds it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shop.limits import DatabaseStates, Limits, LimitStates, MemoryStates, Pace, Window
from storage import limits, refunds
from storage.db import Database, fetch_one
from tests.shop_records import add_product, new_order, scratch_db

T0 = 1_000_000  # a moment, in ms, for the replayed clock
TAPS = Window("taps", 3, 60)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with scratch_db(tmp_path) as database:
        yield database


@pytest.fixture(params=["memory", "database"])
def states(request: pytest.FixtureRequest, db: Database) -> LimitStates:
    return MemoryStates() if request.param == "memory" else DatabaseStates(db)


async def _allow(states: LimitStates, window: Window, subject: int, at_ms: int) -> bool:
    return await states.apply(window, str(subject), at_ms=at_ms) == 0


async def test_limit_per_subject_over_a_sliding_window(states: LimitStates) -> None:
    assert [await _allow(states, TAPS, 1, T0) for _ in range(4)] == [True, True, True, False]
    assert await _allow(states, TAPS, 2, T0)  # another buyer has a window of their own
    assert not await _allow(states, TAPS, 1, T0 + 30_000)  # refused taps do not count
    later = T0 + 60_000  # the first three taps are exactly 60 s old: out of the window
    assert [await _allow(states, TAPS, 1, later) for _ in range(4)] == [True, True, True, False]


async def test_slides_tap_by_tap(states: LimitStates) -> None:
    two = Window("taps", 2, 10)
    assert await _allow(states, two, 7, T0)
    assert await _allow(states, two, 7, T0 + 6_000)
    assert await _allow(states, two, 7, T0 + 11_000)  # the first left, the second has not
    assert not await _allow(states, two, 7, T0 + 11_000)


async def test_a_pace_allows_a_burst_then_one_per_gap(states: LimitStates) -> None:
    alerts = Pace("alerts", 3, 5)

    async def wait(at_ms: int) -> int:
        return await states.apply(alerts, "9", at_ms=at_ms)

    assert [await wait(T0) for _ in range(3)] == [0, 0, 0]
    assert await wait(T0 + 1_000) == 4_000  # the burst is spent: the next in 4 s
    assert await wait(T0 + 5_000) == 0
    assert await wait(T0 + 5_000) == 5_000
    assert [await wait(T0 + 60_000) for _ in range(4)] == [0, 0, 0, 5_000]  # quiet: a new burst


async def test_memory_forgets_subjects_idle_for_a_whole_window() -> None:
    states, minute = MemoryStates(), Window("taps", 10, 60)
    for buyer in range(500):
        await _allow(states, minute, buyer, T0 + buyer * 100)
    assert len(states) == 500
    await _allow(states, minute, 10_000, T0 + 55_000)
    assert len(states) == 501  # everyone tapped within the minute
    await _allow(states, minute, 10_001, T0 + 75_000)  # buyers 0..150 tapped over a minute ago
    assert len(states) == 500 - 151 + 2
    assert await _allow(states, minute, 0, T0 + 75_000)  # a forgotten buyer starts afresh
    await _allow(states, minute, 10_002, T0 + 140_000)
    assert len(states) == 1


async def test_the_database_forgets_subjects_whose_events_all_left(db: Database) -> None:
    states, minute = DatabaseStates(db), Window("taps", 10, 60)
    for buyer in range(50):
        await _allow(states, minute, buyer, T0 + buyer * 1_000)
    async with db.transaction(serial=False) as tx:
        assert await limits.forget_expired(tx, at_ms=T0 + 59_999) == 0
        assert await limits.forget_expired(tx, at_ms=T0 + 60_000 + 19_500) == 20
    row = await fetch_one(db.reader, "SELECT COUNT(*) FROM rate_limits")
    assert row is not None and row[0] == 30


async def test_takes_at_the_same_moment_let_through_only_the_limit(db: Database) -> None:
    """Forty taps of one buyer at once in the database (on PostgreSQL side by side, as many at
    a time as the pool has connections), on the database's own clock: ten pass, as they would
    on one instance."""
    shared = Limits(DatabaseStates(db))
    taps = Window("buy_taps", 10, 60)
    results = await asyncio.gather(*(shared.allow(taps, 700001) for _ in range(40)))
    assert results.count(True) == 10
    assert await shared.allow(taps, 700002)


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
