"""An outside service's rate (Telegram's messages per bot, Stripe's session creations per
account) as evenly spaced slots, each handed to the waiting request of the highest priority,
and moved as a whole by the pause a 429 asks for.

Two parts, so that each rule is written once:
- the *schedule* says when the next slot is and keeps the pause. `LocalSchedule` is one
  process's memory (SQLite: one process owns the shop); `SharedSchedule` is a row of the
  database (PostgreSQL: every instance takes its slots from the same row, so N instances
  together keep the one rate, and a 429 seen by one pauses all). The wiring picks one
  (bot/app.py);
- the `SlotGranter` queues this process's requests by priority and, while any waits, takes
  the slot that is due from the schedule and gives it at once to the first of them. A slot is
  taken only when someone waits and only when it is due — never reserved ahead — so an
  instance holds no slot it cannot use, and one that wakes late (a busy event loop) moves the
  schedule with it instead of sending right behind another's: on the schedule's clock no two
  messages are closer than 0.75 of an interval (see SLACK_SHARE), and no second holds more
  than the rate allows.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from typing import Protocol

from storage import budgets
from storage.db import Database

log = logging.getLogger(__name__)

# A schedule that cannot be read (the database is away) is asked again after this long; the
# requests wait meanwhile rather than go out unpaced.
SCHEDULE_RETRY_SECONDS = 1.0
# A slot due within this long counts as due now (a timer may wake a hair early).
LEAD_SECONDS = 0.001
LEAD_US = round(LEAD_SECONDS * 1_000_000)
# A slot taken up to this share of an interval after it was due keeps the schedule's grid:
# waking on a busy event loop and asking the database take a few milliseconds each time,
# which would otherwise stretch every interval (one instance: 26.3 of 28/s at 0.1, 28.0 at
# 0.25). Two slots are then never closer than 0.75 of an interval, and no second holds more
# slots than without it (the share is under one interval).
SLACK_SHARE = 0.25


class SlotSchedule(Protocol):
    """Where the slots of one budget come from. Times are the event loop's (`loop.time()`)."""

    async def take(self) -> float:
        """Take the slot due now and return 0; or, when none is due yet, take nothing and
        return the seconds until one is."""
        ...

    async def pause(self, seconds: float) -> None:
        """No slot, for anyone using this budget, during the next `seconds`."""
        ...

    def paused_until(self) -> float:
        """The loop time the latest pause known here ends (in the past when none)."""
        ...


class LocalSchedule:
    """Slots in this process's memory: enough where one process owns the shop (SQLite)."""

    def __init__(self, per_second: float) -> None:
        self._interval = 1 / per_second
        self._slack = self._interval * SLACK_SHARE
        self._next_slot = 0.0
        self._paused_until = 0.0

    async def take(self) -> float:
        moment = asyncio.get_running_loop().time()
        due = max(self._next_slot, self._paused_until)
        if due > moment + LEAD_SECONDS:
            return due - moment
        slot = due if moment - due <= self._slack else moment
        self._next_slot = slot + self._interval
        return 0.0

    async def pause(self, seconds: float) -> None:
        until = asyncio.get_running_loop().time() + seconds
        self._paused_until = max(self._paused_until, until)

    def paused_until(self) -> float:
        return self._paused_until


class SharedSchedule:
    """Slots in a row of the database that every instance takes from (storage/budgets.py), on
    the database's clock. A pause another instance set is learnt with the next slot taken.

    Taken on the database's budget connection, never the pool's: a busy instance's pool is
    often empty for tens of milliseconds (transactions queued for the serial lock), and a slot
    taken that late moves the whole schedule — 4 instances created 20 sessions/s of 24 that
    way (`make bench` scenario 8)."""

    def __init__(self, db: Database, name: str, per_second: float) -> None:
        self._db = db
        self._name = name
        self._interval_us = round(1_000_000 / per_second)
        self._slack_us = round(self._interval_us * SLACK_SHARE)
        self._paused_until = 0.0

    async def take(self) -> float:
        async with self._db.budget_connection() as conn:
            slot = await budgets.take_slot(
                conn, self._name, self._interval_us, lead_us=LEAD_US, slack_us=self._slack_us
            )
        self._learn(slot)
        return slot.wait_seconds()

    async def pause(self, seconds: float) -> None:
        async with self._db.budget_connection() as conn:
            self._learn(await budgets.pause(conn, self._name, round(seconds * 1_000_000)))

    def paused_until(self) -> float:
        return self._paused_until

    def _learn(self, slot: budgets.Slot) -> None:
        """Note the pause the row holds (for the requests that take no slot), in loop time,
        measured from the answer's arrival: after the database read its clock, so a pause is
        waited out a little long rather than short."""
        if slot.paused_until_us > slot.now_us:
            moment = asyncio.get_running_loop().time()
            until = moment + (slot.paused_until_us - slot.now_us) / 1_000_000
            self._paused_until = max(self._paused_until, until)


_Waiter = tuple[int, int, "asyncio.Future[None]"]


class SlotGranter:
    """This process's requests for one budget's slots: the highest priority (lowest number)
    first, then the oldest. Each slot goes to a request only when it is due and no pause
    covers it."""

    def __init__(self, schedule: SlotSchedule, name: str) -> None:
        self._schedule = schedule
        self._name = name
        self._waiting: list[_Waiter] = []
        self._order = itertools.count()
        self._granter: asyncio.Task[None] | None = None
        self._schedule_failing_since: float | None = None

    def use(self, schedule: SlotSchedule) -> None:
        """Take slots from `schedule` from now on (the wiring, once the database is open)."""
        self._schedule = schedule

    async def slot(self, priority: int) -> None:
        """Return when this request may go: its slot has come."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), waiter))
        if self._granter is None or self._granter.done():
            self._granter = asyncio.create_task(self._grant(), name=self._name)
        await waiter

    async def pause(self, seconds: float) -> None:
        """The service answered 429: nobody on this budget goes during the next `seconds`."""
        try:
            await self._schedule.pause(seconds)
        except Exception as error:  # noqa: BLE001 - the request's own retry waits regardless
            log.warning("%s: the pause could not be shared: %s", self._name, _one_line(error))

    async def pause_over(self) -> None:
        """Return once no pause known here is on (requests that take no slot wait only this)."""
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(self._schedule.paused_until() - loop.time(), 0))

    def shutdown(self) -> None:
        """Stop handing out slots; requests still waiting are cancelled."""
        if self._granter is not None:
            self._granter.cancel()
        for _, _, waiter in self._waiting:
            waiter.cancel()
        self._waiting.clear()

    async def _grant(self) -> None:
        """While anyone waits: take the slot due now and give it to the first waiter, or wait
        until one is due."""
        while self._waiting:
            if self._waiting[0][2].done():  # its request was cancelled while waiting
                heapq.heappop(self._waiting)
                continue
            wait = await self._take()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            while self._waiting:
                _, _, waiter = heapq.heappop(self._waiting)
                if not waiter.done():
                    waiter.set_result(None)
                    break

    async def _take(self) -> float:
        """The schedule's answer (0: a slot is ours now; else seconds to wait); when the
        schedule cannot be read, a short wait — the waiters keep waiting, as for a slot."""
        try:
            wait = await self._schedule.take()
        except Exception as error:  # noqa: BLE001 - the granter must outlive an outage
            if self._schedule_failing_since is None:
                self._schedule_failing_since = time.monotonic()
                log.warning("%s: no slot to be had: %s", self._name, _one_line(error))
            return SCHEDULE_RETRY_SECONDS
        if self._schedule_failing_since is not None:
            lasted = time.monotonic() - self._schedule_failing_since
            log.warning("%s: slots again after %.0f s", self._name, lasted)
            self._schedule_failing_since = None
        return wait


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
