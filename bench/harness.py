"""The bench's stage: the stand-ins in this process, the shop as a real `python -m bot` process
(run by testkit.process, the harness the crash test uses too).

Why a separate process for the shop: production runs it as one process (`Procfile`), so
measuring it as a process of its own keeps the load generator and the stand-ins off its event
loop and its core, and lets the bench read its RSS, time its start-up and attach py-spy to it.
The stand-ins stay in this process so the bench can look at what they saw (and when).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import RATE_LIMITED_METHODS, FakeCall, FakeTelegram
from testkit import process

ADMIN_ID = 900001
BOT_TOKEN = "123456:BENCH-fake-token-0123456789abcdef"
PUBLIC_BASE_URL = "https://shop.bench"
# The shop and the bench's bare server run as testkit's child processes, like the crash test's.
Process = process.ChildProcess


class TimedTelegram(FakeTelegram):
    """FakeTelegram that also notes *when* it answered each call (`call_times[i]` belongs to
    `calls[i]`), so the bench can draw timelines: a buyer's link, the rate of messages."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.call_times: list[float] = []

    async def _serve(self, request: web.Request) -> web.Response:
        try:
            return await super()._serve(request)
        finally:
            # The base appends to `calls` right before returning (or re-raising), with no await
            # in between, so the times line up with the calls (a crash appends nothing).
            moment = time.monotonic()
            while len(self.call_times) < len(self.calls):
                self.call_times.append(moment)

    def calls_since(self, index: int) -> list[tuple[float, FakeCall]]:
        return list(zip(self.call_times[index:], self.calls[index:], strict=False))


def messages_sent(calls: list[tuple[float, FakeCall]]) -> list[tuple[float, FakeCall]]:
    """Calls that produced or changed a visible message and were accepted (flood-controlled)."""
    return [(t, c) for t, c in calls if c.method in RATE_LIMITED_METHODS and c.status == 200]


@dataclass
class StripeHit:
    at: float
    method: str
    path: str
    status: int


class TimedStripe(FakeStripe):
    """FakeStripe that keeps a timeline of its answers (time, method, path, status)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeline: list[StripeHit] = []

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        response = await super()._handle(request)
        self.timeline.append(
            StripeHit(time.monotonic(), request.method, request.path, response.status)
        )
        return response


def shop_env(
    telegram: FakeTelegram, stripe_api: FakeStripe, database: Path | str, port: int
) -> dict[str, str]:
    """The environment `python -m bot` gets in the bench (testkit.process.shop_env): a SQLite
    file (a Path) or a PostgreSQL URL (a str)."""
    return process.shop_env(
        telegram, stripe_api, database, port, admin_id=ADMIN_ID, public_base_url=PUBLIC_BASE_URL
    )


def shop_process(
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    database: Path | str,
    workdir: Path,
    name: str,
) -> tuple[Process, int]:
    """The bench's shop process (testkit.process.shop_process) and its port; `database` as in
    `shop_env`."""
    return process.shop_process(
        telegram,
        stripe_api,
        database,
        workdir,
        name,
        admin_id=ADMIN_ID,
        public_base_url=PUBLIC_BASE_URL,
    )


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    python: str
    system: str
    date: str

    @classmethod
    def describe(cls) -> Machine:
        cpu = platform.processor() or "unknown CPU"
        with contextlib.suppress(OSError):
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    cpu = line.partition(":")[2].strip()
                    break
        return cls(
            cpu=cpu,
            cores=os.cpu_count() or 1,
            python=f"{platform.python_implementation()} {platform.python_version()}",
            system=f"{platform.system()} {platform.release()}",
            date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        )
