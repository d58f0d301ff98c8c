"""Send budgets shared through the database (storage/budgets.py, shop/gateways/slots.py): two
limiters taking their slots from one row keep one pace between them, and a RetryAfter one of
them gets pauses both. On SQLite the shop wires the local schedule (one process owns it), but
the shared one runs there too, so these run on both engines."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram._utils.types import JSONDict
from telegram.error import RetryAfter

from bot.rate_limiter import SteadyRateLimiter
from shop.gateways.slots import LocalSchedule, SharedSchedule, SlotGranter
from storage import budgets
from storage.db import Database
from storage.postgres import POOL_MAX
from tests.shop_records import scratch_db

TAKE = {"lead_us": 1_000, "slack_us": 0}
SHARING_SECONDS = 0.25  # ample for one transaction, even on a loaded machine


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with scratch_db(tmp_path) as database:
        yield database


async def test_a_slot_is_taken_only_when_due_and_a_pause_moves_the_next(db: Database) -> None:
    async with db.transaction(serial=False) as tx:
        first = await budgets.take_slot(tx, "telegram:1", 40_000, **TAKE)
        second = await budgets.take_slot(tx, "telegram:1", 40_000, **TAKE)
        other = await budgets.take_slot(tx, "stripe:abc", 40_000, **TAKE)  # a budget of its own
        paused = await budgets.pause(tx, "telegram:1", 2_000_000)
        after = await budgets.take_slot(tx, "telegram:1", 40_000, **TAKE)
    # An idle budget's slot is now (the clock is read once per use, microseconds apart).
    assert first.taken and abs(first.due_us - first.now_us - 40_000) < 1_000
    assert not second.taken and second.due_us == first.due_us  # nothing reserved ahead
    assert other.taken
    assert abs(paused.paused_until_us - paused.now_us - 2_000_000) < 1_000
    assert not after.taken and after.due_us == paused.paused_until_us


def test_a_slot_not_taken_is_never_used_even_when_it_has_come_due_since() -> None:
    """The take found nothing due; by the read of when a slot would be, one had come due. It is
    not ours — another instance may be taking it — so it is asked for again, not used."""
    came_due = budgets.Slot(taken=False, due_us=1_000_000, paused_until_us=0, now_us=1_000_400)
    assert came_due.wait_seconds() > 0
    later = budgets.Slot(taken=False, due_us=1_040_000, paused_until_us=0, now_us=1_000_000)
    assert later.wait_seconds() == pytest.approx(0.04)
    assert budgets.Slot(taken=True, due_us=0, paused_until_us=0, now_us=0).wait_seconds() == 0


def _limiter(db: Database, per_second: float) -> SteadyRateLimiter:
    return SteadyRateLimiter(
        max_retries=1, schedule=SharedSchedule(db, "telegram:123456", per_second)
    )


async def _send_all(
    limiter: SteadyRateLimiter, count: int, sent: list[tuple[float, str]], name: str, *,
    refuse_at: int | None = None,
) -> None:  # fmt: skip
    loop = asyncio.get_running_loop()
    refused: list[float] = []

    async def send() -> JSONDict:
        if refuse_at is not None and len(sent) >= refuse_at and not refused:
            refused.append(loop.time())
            sent.append((loop.time(), "429"))
            raise RetryAfter(1)
        sent.append((loop.time(), name))
        return {}

    await asyncio.gather(
        *(
            limiter.process_request(send, (), {}, "sendMessage", {"chat_id": n}, None)
            for n in range(count)
        )
    )


async def test_two_instances_on_one_budget_keep_one_pace(db: Database) -> None:
    first, second = _limiter(db, 20), _limiter(db, 20)
    sent: list[tuple[float, str]] = []
    await asyncio.gather(_send_all(first, 15, sent, "a"), _send_all(second, 15, sent, "b"))
    times = sorted(t for t, _ in sent)
    assert len(times) == 30 and {name for _, name in sent} == {"a", "b"}
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.05 * 0.5
    assert times[-1] - times[0] >= 29 * 0.05 * 0.95  # 20/s between them, not 20/s each
    assert max(sum(1 for t in times if s <= t < s + 1) for s in times) <= 21


async def test_a_retry_after_one_instance_gets_pauses_the_other(db: Database) -> None:
    first, second = _limiter(db, 20), _limiter(db, 20)
    sent: list[tuple[float, str]] = []
    await asyncio.gather(
        _send_all(first, 10, sent, "a", refuse_at=6), _send_all(second, 10, sent, "b")
    )
    assert [name for _, name in sent].count("429") == 1
    refused_at = next(t for t, name in sent if name == "429")
    # The pause reaches the database one transaction after the 429: a slot either instance
    # took meanwhile may still be used; none after that until the pause (1 s) is over.
    paused = [name for t, name in sent if refused_at + SHARING_SECONDS < t < refused_at + 1.0]
    assert paused == []
    assert len([name for _, name in sent if name != "429"]) == 20


async def test_the_requests_wait_while_the_schedule_cannot_be_read(tmp_path: Path) -> None:
    """The database is gone: nothing leaves unpaced, nothing is lost; with slots again (here a
    new schedule), the waiting request goes."""
    async with scratch_db(tmp_path) as gone:
        pass  # closed: every take now fails
    granter = SlotGranter(SharedSchedule(gone, "telegram:9", 10), "test-slots")
    waiting = asyncio.ensure_future(granter.slot(0))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    granter.use(LocalSchedule(10))
    await asyncio.wait_for(waiting, timeout=3)
    granter.shutdown()


@pytest.mark.postgresql_only
async def test_a_slot_is_taken_while_every_pooled_connection_is_busy(db: Database) -> None:
    """A busy instance's pool is often empty (transactions queued for the serial lock): the
    budget's slot still comes at once, on the connection kept for the budgets, instead of
    waiting behind that work and moving every instance's schedule (`make bench` scenario 8)."""
    release = asyncio.Event()
    held: list[None] = []
    all_held = asyncio.Event()

    async def hold_a_connection() -> None:
        async with db.transaction(serial=False):
            held.append(None)
            if len(held) == POOL_MAX:
                all_held.set()
            await release.wait()

    holders = [asyncio.create_task(hold_a_connection()) for _ in range(POOL_MAX)]
    await asyncio.wait_for(all_held.wait(), timeout=10)
    try:
        schedule = SharedSchedule(db, "stripe:busy", 24)
        loop = asyncio.get_running_loop()
        began = loop.time()
        assert await asyncio.wait_for(schedule.take(), timeout=2) == 0
        assert loop.time() - began < SHARING_SECONDS
    finally:
        release.set()
        await asyncio.gather(*holders)
