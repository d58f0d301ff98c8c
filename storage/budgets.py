"""Send budgets shared by every instance: one row per outside service's rate (Telegram's
messages per bot, Stripe's session creations per account), slots taken from it one at a time.

Each slot is taken in ONE statement that reads and moves the row, on the database's clock:
instances on different machines agree on when a slot is due without trusting their own
clocks, and two instances taking a slot at the same moment queue on the row's lock instead of
both reading the same free slot. Times are microseconds, so that 1/28 s is no rounding away
from the limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.sql import Connection, fetch_one


@dataclass(frozen=True)
class Slot:
    """A budget's row as a take or a pause left it: all on the database's clock, in µs."""

    taken: bool  # whether a slot was taken, due now
    due_us: int  # when the next slot is free (after the one taken, if any)
    paused_until_us: int  # no slot before this, for anyone (0: never paused)
    now_us: int  # the database's clock when the statement ran

    def wait_seconds(self) -> float:
        """0 when a slot was taken; else how long until one is due — never 0: a slot that
        came due between the take that found nothing and the read of when one would be is
        not ours (another instance may take it), so it is asked for again, not used. Used
        untaken, such slots sent 6 of 1,000 sessions beside another instance's (and
        Stripe's 429) in `make bench` scenario 8."""
        if self.taken:
            return 0.0
        return max(self.due_us - self.now_us, 1) / 1_000_000


async def take_slot(
    conn: Connection, name: str, interval_us: int, *, lead_us: int, slack_us: int
) -> Slot:
    """Take the slot of budget `name` that is due now (or within `lead_us`), the next one then
    being `interval_us` after it; or, when none is due yet, take nothing and say when one is.
    A slot taken up to `slack_us` after it was due counts from when it was due, so the few
    milliseconds a taker needs to wake and ask are not lost from every interval; taken later
    (an idle budget), it counts from now.

    Nothing is ever reserved ahead: a slot is taken at the moment it is used, so an instance
    that wakes late for its slot moves the schedule with it instead of sending right behind
    another's. The take is one upsert (which also makes the row the first time); only when it
    finds nothing due does a second statement read when something will be. The clock is read
    in the update itself: a take that waited for another's row lock is taken when it got it."""
    d = conn.dialect
    due = f"{d.greatest}(send_budgets.next_slot_us, send_budgets.paused_until_us)"
    row = await fetch_one(
        conn,
        "INSERT INTO send_budgets (name, next_slot_us, paused_until_us, clock_us)"
        f" VALUES (?, {d.now_us} + ?, 0, {d.now_us})"
        " ON CONFLICT (name) DO UPDATE SET"
        f" next_slot_us = CASE WHEN {d.now_us} - {due} <= ? THEN {due} ELSE {d.now_us} END + ?,"
        f" clock_us = {d.now_us}"
        f" WHERE {due} <= {d.now_us} + ?"
        " RETURNING next_slot_us, paused_until_us, clock_us",
        (name, interval_us, slack_us, interval_us, lead_us),
    )
    if row is not None:
        return Slot(True, int(row[0]), int(row[1]), int(row[2]))
    row = await fetch_one(
        conn,
        f"SELECT {d.greatest}(next_slot_us, paused_until_us), paused_until_us, {d.now_us}"
        " FROM send_budgets WHERE name = ?",
        (name,),
    )
    assert row is not None
    return Slot(False, int(row[0]), int(row[1]), int(row[2]))


async def pause(conn: Connection, name: str, seconds_us: int) -> Slot:
    """No slot of budget `name` for anyone during the next `seconds_us` (the service answered
    429 and said how long to wait); a longer pause already set stays."""
    d = conn.dialect
    row = await fetch_one(
        conn,
        "INSERT INTO send_budgets (name, next_slot_us, paused_until_us, clock_us)"
        f" VALUES (?, 0, {d.now_us} + ?, {d.now_us})"
        " ON CONFLICT (name) DO UPDATE SET"
        f" paused_until_us = {d.greatest}(send_budgets.paused_until_us,"
        " excluded.paused_until_us),"
        " clock_us = excluded.clock_us"
        " RETURNING next_slot_us, paused_until_us, clock_us",
        (name, seconds_us),
    )
    assert row is not None
    return Slot(False, int(row[0]), int(row[1]), int(row[2]))
