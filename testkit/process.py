"""The shop as a real child process against the stand-ins: started, polled until it answers,
stopped by SIGTERM or killed by SIGKILL, its output appended to a log file.

One harness for the crash test (which kills the process dozens of times) and the bench (which
times its start-up and reads its CPU and memory), so both run the shop exactly the same way:
the same environment, the same working directory rules, the same readiness check.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import aiohttp

from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from sandbox.standins import free_port, standin_environ

ROOT = Path(__file__).resolve().parent.parent
# Variables of the caller's environment the shop process may see; everything the shop is
# configured with is set explicitly, so a developer's exported TELEGRAM_MODE cannot leak in.
_PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
# How often a readiness check asks again: short, so a start is noticed within a few ms.
_POLL_SECONDS = 0.01


def database_url(database: Path | str) -> str:
    """DATABASE_URL for a SQLite file (a Path) or a database URL as it is (a str)."""
    return f"sqlite:///{database.resolve()}" if isinstance(database, Path) else database


def shop_env(
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    database: Path | str,
    port: int,
    *,
    admin_id: int,
    public_base_url: str,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment `python -m bot` gets: the stand-ins, a database (a SQLite file, or a
    DATABASE_URL such as postgresql://…), loopback only; `extra` adds or overrides settings
    (TELEGRAM_MODE=webhook, say)."""
    env = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
    env.update(
        {
            "SANDBOX": "0",
            **standin_environ(telegram, stripe_api),
            "PUBLIC_BASE_URL": public_base_url,
            "ADMIN_IDS": str(admin_id),
            "DATABASE_URL": database_url(database),
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "LOG_LEVEL": "INFO",
            "PYTHONPATH": str(ROOT),
            **(extra or {}),
        }
    )
    return env


class ChildProcess:
    """A child process (the shop, or the bench's bare server), its log in a file.

    The working directory is the run's scratch directory so that no developer's `.env` and no
    `data/` of the checkout is read or written. Each start appends to the same log, under a
    header line, so a test that restarts the process keeps every life's output in one file."""

    def __init__(self, name: str, argv: list[str], env: Mapping[str, str], workdir: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = dict(env)
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.starts = 0
        self.started_at = 0.0
        self._log: IO[bytes] | None = None
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def start(self) -> None:
        assert not self.running, f"{self.name} is already running"
        self._close_log()
        self._log = self.log_path.open("ab")
        self._log.write(f"\n===== start #{self.starts + 1} =====\n".encode())
        self._log.flush()
        self.started_at = time.monotonic()
        self._proc = await asyncio.create_subprocess_exec(
            *self.argv,
            cwd=self.workdir,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log,
            stderr=asyncio.subprocess.STDOUT,
        )
        self.starts += 1

    async def answers(
        self,
        http: aiohttp.ClientSession,
        url: str,
        timeout: float,  # noqa: ASYNC109 - a plain bound, like asyncio.wait_for's
    ) -> float | None:
        """Poll `url` until it answers 200: seconds since the process was spawned, or None
        when the process exits or `timeout` passes first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                return None
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with http.get(url) as response:
                    if response.status == 200:
                        return time.monotonic() - self.started_at
            await asyncio.sleep(_POLL_SECONDS)
        return None

    async def wait_http(self, url: str, timeout: float = 60.0) -> float:  # noqa: ASYNC109
        """Like `answers`, but a process that never answers is an error naming its log."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            seconds = await self.answers(http, url, timeout)
        if seconds is not None:
            return seconds
        if not self.running:
            raise RuntimeError(f"{self.name} exited early; see {self.log_path}")
        raise RuntimeError(f"{self.name} did not answer {url} within {timeout}s")

    async def kill(self) -> int | None:
        """SIGKILL: no handler runs, no buffer is flushed, no transaction is finished. The exit
        status of a life that had already ended by itself, None when the kill ended it."""
        assert self._proc is not None
        ended_by_itself = self._proc.returncode
        if ended_by_itself is None:
            self._proc.kill()
        await self._proc.wait()
        return ended_by_itself

    async def stop(self, timeout: float = 30.0) -> int | None:  # noqa: ASYNC109
        """SIGTERM and the exit status (a clean stop is 0; -9 when it had to be killed)."""
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
        self._close_log()
        return proc.returncode

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

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def shop_process(
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    database: Path | str,
    workdir: Path,
    name: str,
    *,
    admin_id: int,
    public_base_url: str,
    extra: Mapping[str, str] | None = None,
) -> tuple[ChildProcess, int]:
    """`python -m bot` against the stand-ins on a free port, and that port (`database` and
    `extra` as in `shop_env`)."""
    port = free_port()
    env = shop_env(
        telegram,
        stripe_api,
        database,
        port,
        admin_id=admin_id,
        public_base_url=public_base_url,
        extra=extra,
    )
    return ChildProcess(name, [sys.executable, "-m", "bot"], env, workdir), port
