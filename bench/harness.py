"""The bench's stage: the stand-ins in this process, the shop as a real `python -m bot` process.

Why a separate process for the shop: production runs it as one process (`Procfile`), so
measuring it as a process of its own keeps the load generator and the stand-ins off its event
loop and its core, and lets the bench read its RSS, time its start-up and attach py-spy to it.
The stand-ins stay in this process so the bench can look at what they saw (and when).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import platform
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import aiohttp
from aiohttp import web

from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import RATE_LIMITED_METHODS, FakeCall, FakeTelegram
from sandbox.standins import free_port, standin_environ

ROOT = Path(__file__).resolve().parent.parent
ADMIN_ID = 900001
BOT_TOKEN = "123456:BENCH-fake-token-0123456789abcdef"
PUBLIC_BASE_URL = "https://shop.bench"
# Variables of the caller's environment the shop process may see; everything the shop is
# configured with is set explicitly, so a developer's exported TELEGRAM_MODE cannot leak in.
_PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


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
    telegram: FakeTelegram, stripe_api: FakeStripe, database: Path, port: int
) -> dict[str, str]:
    """The environment `python -m bot` gets: the stand-ins, a database, loopback only."""
    env = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
    env.update(
        {
            "SANDBOX": "0",
            **standin_environ(telegram, stripe_api),
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "ADMIN_IDS": str(ADMIN_ID),
            "DATABASE_URL": f"sqlite:///{database.resolve()}",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "LOG_LEVEL": "INFO",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


class Process:
    """A child process (the shop, or the bare server), its log in a file, stopped by SIGTERM.

    The working directory is the run's scratch directory so that no developer's `.env` and no
    `data/` of the checkout is read or written."""

    def __init__(self, name: str, argv: list[str], env: Mapping[str, str], workdir: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = dict(env)
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self._log: IO[bytes] | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self.started_at = 0.0

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    async def start(self) -> None:
        self._log = self.log_path.open("ab")
        self.started_at = time.monotonic()
        self._proc = await asyncio.create_subprocess_exec(
            *self.argv,
            cwd=self.workdir,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
        )

    async def wait_http(self, url: str, timeout: float = 60.0) -> float:  # noqa: ASYNC109
        """Poll `url` until it answers 200; seconds since the process was spawned."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            while time.monotonic() < deadline:
                if self._proc is not None and self._proc.returncode is not None:
                    raise RuntimeError(f"{self.name} exited early; see {self.log_path}")
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with http.get(url) as response:
                        if response.status == 200:
                            return time.monotonic() - self.started_at
                await asyncio.sleep(0.01)
        raise RuntimeError(f"{self.name} did not answer {url} within {timeout}s")

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far (all its threads)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self) -> tuple[int, int]:
        """(current RSS, peak RSS) in KiB, from /proc."""
        values: dict[str, int] = {}
        status = Path(f"/proc/{self.pid}/status").read_text()
        for line in status.splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
        return values.get("VmRSS", 0), values.get("VmHWM", 0)

    async def stop(self, timeout: float = 30.0) -> int | None:  # noqa: ASYNC109
        proc = self._proc
        if proc is None:
            return None
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), timeout)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        return proc.returncode


def shop_process(
    telegram: FakeTelegram, stripe_api: FakeStripe, database: Path, workdir: Path, name: str
) -> tuple[Process, int]:
    port = free_port()
    env = shop_env(telegram, stripe_api, database, port)
    return Process(name, [sys.executable, "-m", "bot"], env, workdir), port


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
