"""The shop's limits per buyer and per chat: each rule written once, its memory kept where the
engine needs it.

Two rules, each a pure decision over one subject's state (text) at a moment (ms):
- a `Window`: at most `limit` events in any `seconds` — Buy taps and messages relayed to the
  admins per buyer, Stripe look-ups per session;
- a `Pace`: a burst of `burst`, then one per `gap_seconds` (a token bucket, kept as the moment
  it is full again) — sale alerts per admin chat.

Where the states live is chosen once, from the database (`Limits.for_database`): with several
instances (PostgreSQL) a buyer's taps may reach any of them, so the states are rows of the
database that every instance reads and writes under the row's lock (storage/limits.py); on
SQLite one process owns the shop, so they stay in its memory. Not the database there too, on
purpose: every Buy tap and sale alert would queue one more write behind the single writer that
a flash sale's orders and payments keep busy, for nothing one process needs. Measured with
`make bench --quick --only flash` (300 buyers), two runs each, taking turns: the taps' spinner
answered at p99 in 1.4–1.8 s instead of 0.85–1.1 s, and the deliveries fell to 26.6–27.0
messages/s (under the 0.9 × 30 goal) instead of 27.6–27.7.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from storage import limits
from storage.db import Database

# The database's rows that limit nothing any more are dropped at most this often (per
# process): often enough that they never pile up, rarely enough to cost nothing per tap.
FORGET_EVERY_SECONDS = 60.0


@dataclass(frozen=True)
class Decision:
    wait_ms: int  # 0: the event is counted; else how long until it would be
    state: str | None  # the subject's new state (None: unchanged)
    expires_ms: int  # when the new state limits nothing any more


def _numbers(state: str) -> list[int]:
    return [int(part) for part in state.split(",") if part]


@dataclass(frozen=True)
class Window:
    """At most `limit` events per subject in any `seconds`-long window."""

    scope: str
    limit: int
    seconds: float

    def decide(self, state: str, moment: int) -> Decision:
        """The state is the times (ms) of the events still in the window; one exactly
        `seconds` old has left it."""
        window_ms = round(self.seconds * 1000)
        marks = [mark for mark in _numbers(state) if mark > moment - window_ms]
        if len(marks) >= self.limit:
            return Decision(marks[-self.limit] + window_ms - moment, None, 0)
        marks.append(moment)
        return Decision(0, ",".join(map(str, marks)), moment + window_ms)


@dataclass(frozen=True)
class Pace:
    """A burst of `burst` per subject after a quiet spell, then one per `gap_seconds`."""

    scope: str
    burst: int
    gap_seconds: float

    def decide(self, state: str, moment: int) -> Decision:
        """The state is the moment (ms) the subject's bucket is full again (the generic cell
        rate algorithm): one number, however many events."""
        gap_ms = round(self.gap_seconds * 1000)
        numbers = _numbers(state)
        full_at = max(numbers[0] if numbers else moment, moment)
        allowance = (self.burst - 1) * gap_ms
        if full_at - moment > allowance:
            return Decision(full_at - moment - allowance, None, 0)
        return Decision(0, str(full_at + gap_ms), full_at + gap_ms)


class Rule(Protocol):
    @property
    def scope(self) -> str: ...

    def decide(self, state: str, moment: int) -> Decision: ...


class LimitStates(Protocol):
    """Where the subjects' states live."""

    async def apply(self, rule: Rule, subject: str, *, at_ms: int | None = None) -> int:
        """`rule`'s decision for `subject` now (or at `at_ms`), its new state kept; the
        decision's wait (0: counted)."""
        ...


class MemoryStates:
    """The states in this process's memory (SQLite: one process owns the shop). Per scope, the
    subjects sit in the order they last changed, so those whose state expired are forgotten
    from the front as time passes, never by scanning them all."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._scopes: dict[str, OrderedDict[str, tuple[str, int]]] = {}

    def __len__(self) -> int:
        """Subjects remembered, in every scope."""
        return sum(len(states) for states in self._scopes.values())

    async def apply(self, rule: Rule, subject: str, *, at_ms: int | None = None) -> int:
        moment = round(self._clock() * 1000) if at_ms is None else at_ms
        states = self._scopes.setdefault(rule.scope, OrderedDict())
        while states:  # forget from the front: the least recently changed
            expires = next(iter(states.values()))[1]
            if expires > moment:
                break
            states.popitem(last=False)
        decision = rule.decide(states.get(subject, ("", 0))[0], moment)
        if decision.state is not None:
            states[subject] = (decision.state, decision.expires_ms)
            states.move_to_end(subject)
        return decision.wait_ms


class DatabaseStates:
    """The states as rows of the database (storage/limits.py), decided under the row's lock,
    on the database's clock: every instance counts the same events, and a restart resets
    nobody's count."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.monotonic) -> None:
        self._db = db
        self._clock = clock
        self._forgotten_at: float | None = None

    async def apply(self, rule: Rule, subject: str, *, at_ms: int | None = None) -> int:
        async with self._db.transaction(serial=False) as tx:
            state, now_ms = await limits.hold(tx, rule.scope, subject)
            decision = rule.decide(state, now_ms if at_ms is None else at_ms)
            if decision.state is not None:
                await limits.keep(tx, rule.scope, subject, decision.state, decision.expires_ms)
        await self._forget_expired(at_ms)
        return decision.wait_ms

    async def _forget_expired(self, at_ms: int | None) -> None:
        """Drop rows that limit nothing any more, once a minute, in a transaction of its own
        after the decision's has ended (so it never waits on a row while holding another)."""
        moment = self._clock()
        if self._forgotten_at is not None and moment - self._forgotten_at < FORGET_EVERY_SECONDS:
            return
        self._forgotten_at = moment
        async with self._db.transaction(serial=False) as tx:
            await limits.forget_expired(tx, at_ms=at_ms)


class Limits:
    """The shop's limits, asked by the use-cases and the chat edge."""

    def __init__(self, states: LimitStates) -> None:
        self.states = states

    @classmethod
    def for_database(cls, db: Database) -> Limits:
        """In the database where several instances share it, else in this process's memory."""
        return cls(DatabaseStates(db) if db.dialect.several_writers else MemoryStates())

    async def allow(self, window: Window, subject: int | str) -> bool:
        """Whether `subject` may have one more event now; True counts it."""
        return await self.states.apply(window, str(subject)) == 0

    async def wait(self, pace: Pace, subject: int | str) -> float:
        """0 when `subject` may have one more now (and it is counted), else the seconds until
        it may."""
        return await self.states.apply(pace, str(subject)) / 1000
