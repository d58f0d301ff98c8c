"""Limits per buyer or per chat, counted in the database so that every instance counts together
(a buyer's taps may reach any of them) and a restart resets nobody's count.

Two rules over one row per (scope, subject):
- a sliding window (`take_window`): at most `limit` events in any `window_ms` — Buy taps per
  buyer, messages relayed to the admins per buyer, Stripe look-ups per session;
- a pace (`take_pace`): a burst of `burst` at once, then one per `gap_ms` — sale alerts per
  admin chat, which Telegram wants at about one message a second per chat.

Each takes the row's lock first (an upsert that changes nothing and returns it), decides, and
writes the new state in the same transaction: on PostgreSQL two instances deciding for the
same buyer take turns on that row, and nothing else waits. Times are the database's clock in
milliseconds, unless the caller names the moment (`at_ms`: the bench and tests replay time).
"""

from __future__ import annotations

from storage.sql import Connection, fetch_one


async def take_window(
    conn: Connection,
    scope: str,
    subject: str,
    limit: int,
    window_ms: int,
    *,
    at_ms: int | None = None,
) -> bool:
    """Count one event of `subject` and return True when fewer than `limit` were counted in the
    last `window_ms` (an event exactly `window_ms` old has left); else count nothing, False."""
    state, moment = await _locked(conn, scope, subject, at_ms)
    marks = [mark for mark in _numbers(state) if mark > moment - window_ms]
    if len(marks) >= limit:
        return False
    marks.append(moment)
    await _store(conn, scope, subject, ",".join(map(str, marks)), moment + window_ms)
    return True


async def take_pace(
    conn: Connection,
    scope: str,
    subject: str,
    burst: int,
    gap_ms: int,
    *,
    at_ms: int | None = None,
) -> int:
    """0 when `subject` may have one more now (and it is counted), else the milliseconds until
    it may. A token bucket of `burst` filling one per `gap_ms`, kept as the moment the bucket
    would be full again (the generic cell rate algorithm): one number per subject."""
    state, moment = await _locked(conn, scope, subject, at_ms)
    numbers = _numbers(state)
    full_at = max(numbers[0] if numbers else moment, moment)
    allowance = (burst - 1) * gap_ms
    if full_at - moment > allowance:
        return full_at - moment - allowance
    await _store(conn, scope, subject, str(full_at + gap_ms), full_at + gap_ms)
    return 0


async def forget_expired(conn: Connection, *, at_ms: int | None = None) -> int:
    """Drop the rows that limit nothing any more (their every event has left its window, their
    pace is back to a full burst); how many. Run on its own, not inside a take, so that it
    never holds one subject's row while waiting for another's."""
    if at_ms is None:
        return await conn.execute(
            f"DELETE FROM rate_limits WHERE expires_ms < {conn.dialect.now_us} / 1000"
        )
    return await conn.execute("DELETE FROM rate_limits WHERE expires_ms < ?", (at_ms,))


async def _locked(conn: Connection, scope: str, subject: str, at_ms: int | None) -> tuple[str, int]:
    """The subject's state (empty the first time), its row locked until the transaction ends,
    and the moment to decide at."""
    row = await fetch_one(
        conn,
        "INSERT INTO rate_limits (scope, subject, state, expires_ms) VALUES (?, ?, '', 0)"
        " ON CONFLICT (scope, subject) DO UPDATE SET state = rate_limits.state"
        f" RETURNING state, {conn.dialect.now_us} / 1000",
        (scope, subject),
    )
    assert row is not None
    return str(row[0]), int(row[1]) if at_ms is None else at_ms


async def _store(conn: Connection, scope: str, subject: str, state: str, expires_ms: int) -> None:
    await conn.execute(
        "UPDATE rate_limits SET state = ?, expires_ms = ? WHERE scope = ? AND subject = ?",
        (state, expires_ms, scope, subject),
    )


def _numbers(state: str) -> list[int]:
    return [int(part) for part in state.split(",") if part]
