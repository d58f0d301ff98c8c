"""Whether the shop can record a payment right now, for /healthz.

Answering a read proves little: a full disk, a file or mount turned read-only, or a failing
device still serve reads, while every payment event fails to commit. Only a committed write
tells, so the probe commits one (the dialect's `write_probe`: on SQLite it rewrites the
header's unused `application_id`, which puts a page into the WAL like any order would).
/healthz is polled, so the probe runs at most once per interval and concurrent polls share its
answer.
"""

from __future__ import annotations

import asyncio
import logging
import time

from storage.db import Database

log = logging.getLogger(__name__)

PROBE_INTERVAL_SECONDS = 5.0
# Long enough to wait out a flash sale's queue of short transactions at the write lock (a
# false 503 could get a busy but healthy shop restarted); a disk that hangs longer is reported.
PROBE_TIMEOUT_SECONDS = 10.0


class WriteProbe:
    """The last write probe's verdict: None when the database took the write, else why not."""

    def __init__(
        self,
        db: Database,
        interval: float = PROBE_INTERVAL_SECONDS,
        timeout: float = PROBE_TIMEOUT_SECONDS,  # noqa: ASYNC109 - a setting, not a call's bound
    ) -> None:
        self._db = db
        self._interval = interval
        self._timeout = timeout
        self._lock = asyncio.Lock()
        self._checked_at: float | None = None
        self._problem: str | None = None

    async def problem(self) -> str | None:
        """Why the database cannot be written (None: it can), probing again when due."""
        async with self._lock:
            due = self._checked_at is None or time.monotonic() - self._checked_at >= self._interval
            if due:
                problem = await self._probe()
                self._checked_at = time.monotonic()
                self._report_change(problem)
                self._problem = problem
            return self._problem

    async def _probe(self) -> str | None:
        try:
            await asyncio.wait_for(self._write(), self._timeout)
        except TimeoutError:
            return f"the database took no write within {self._timeout:.0f} s"
        except self._db.dialect.errors as error:
            return f"the database cannot be written ({error}): payments cannot be recorded"
        return None

    async def _write(self) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(self._db.dialect.write_probe)

    def _report_change(self, problem: str | None) -> None:
        """One log line when the verdict changes, not one per poll."""
        if problem == self._problem:
            return
        if problem is not None:
            log.error("health: %s", problem)
        else:
            log.warning("health: the database takes writes again")
