"""py-spy, attached to the shop process while a scenario runs, summarised for the report.

py-spy samples from outside the process (no code changes, `--nonblocking` so it never pauses
the shop), which is why the bench can profile the real `python -m bot` exactly as it runs. The
raw output is "frame;frame;…;leaf count" per distinct stack; the summary answers two questions:
where the event-loop thread spends its CPU (by our own function, inclusive), and how busy each
thread was — a path that is short of its goal while the loop is mostly idle is bound by
something outside the process (a rate limit), not by our code.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import re
import shutil
import signal
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import aiosqlite.core

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")
_OWN_PACKAGES = ("bot/", "shop/", "webhooks/", "storage/")


def _idle_leaves() -> tuple[str, ...]:
    """Leaf frames of a thread that is waiting, not working: the event loop in epoll, an
    aiosqlite worker blocked on its queue. py-spy cannot always tell those from CPU time."""
    leaves = ["EpollSelector.select (selectors.py:"]
    try:
        lines, first = inspect.getsourcelines(aiosqlite.core._connection_worker_thread)
    except (OSError, TypeError, AttributeError):
        return tuple(leaves)
    for offset, line in enumerate(lines):
        if "tx.get()" in line:
            leaves.append(f"_connection_worker_thread (aiosqlite/core.py:{first + offset})")
    return tuple(leaves)


_IDLE = _idle_leaves()
# What the event loop's CPU goes to; a stack counts for the first rule one of its frames matches.
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Stripe SDK: event.to_dict()", ("StripeObject.to_dict", "_to_dict_recursive")),
    ("logging (access log, event lines)", ("logging/__init__.py", "AccessLogger")),
    ("delivery worker (render, PTB → Telegram)", ("bot/delivery.py",)),
    ("checkout (handlers, Stripe session calls)", ("bot/handlers.py", "bot/checkout.py")),
    ("Stripe inbox: the applier (claim, apply)", ("Applier.",)),
    ("Stripe inbox: the intake's group commits", ("Intake.",)),
    ("storage calls (aiosqlite hand-off, rows → records)", ("storage/",)),
    ("webhook: shop's event handling", ("shop/payments.py",)),
    ("PTB: polling, update dispatch", ("telegram/ext/",)),
    ("aiohttp server: parse, route, respond", ("aiohttp/web_protocol.py", "aiohttp/web_app.py")),
)


def py_spy_path() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    if beside.exists():
        return str(beside)
    return shutil.which("py-spy")


@dataclass
class Profile:
    """Collapsed stacks of one recording, with the helpers the report uses."""

    rate: int
    seconds: float
    stacks: Counter[tuple[str, ...]] = field(default_factory=Counter)
    error: str = ""

    @classmethod
    def load(cls, path: Path, rate: int, seconds: float) -> Profile:
        profile = cls(rate, seconds)
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if stack and count.isdigit():
                profile.stacks[tuple(stack.split(";"))] += int(count)
        return profile

    @staticmethod
    def _in_thread(stack: tuple[str, ...]) -> bool:
        """A stack of a `threading` thread (aiosqlite's workers), not of the main thread."""
        return bool(stack) and "(threading.py:" in stack[0]

    @staticmethod
    def _idle(stack: tuple[str, ...]) -> bool:
        return bool(stack) and stack[-1].startswith(_IDLE)

    def loop_stacks(self) -> Counter[tuple[str, ...]]:
        """Working stacks of the main (event loop) thread."""
        return Counter(
            {s: n for s, n in self.stacks.items() if not self._in_thread(s) and not self._idle(s)}
        )

    def busy(self) -> tuple[float, float]:
        """(event-loop thread, SQLite threads together) busy fraction over the recording."""
        possible = self.rate * self.seconds
        if not possible:
            return 0.0, 0.0
        loop = sum(self.loop_stacks().values())
        threads = sum(n for s, n in self.stacks.items() if self._in_thread(s) and not self._idle(s))
        return loop / possible, threads / possible

    def inclusive(self, *, own_only: bool = False) -> Counter[str]:
        """Loop samples per function, counted once per stack it appears in (inclusive time)."""
        counts: Counter[str] = Counter()
        for stack, n in self.loop_stacks().items():
            seen: set[str] = set()
            for frame in stack:
                name = _short(frame)
                if own_only and not name.startswith(_OWN_PACKAGES):
                    continue
                if name not in seen:
                    seen.add(name)
                    counts[name] += n
        return counts

    def self_time(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for stack, n in self.loop_stacks().items():
            counts[_short(stack[-1])] += n
        return counts

    def categories(self) -> list[tuple[str, float]]:
        """Event-loop CPU by what it was for: each stack goes to the first rule it matches."""
        loop = self.loop_stacks()
        total = sum(loop.values()) or 1
        counts: Counter[str] = Counter()
        for stack, n in loop.items():
            label = next(
                (
                    name
                    for name, needles in CATEGORIES
                    if any(x in f for f in stack for x in needles)
                ),
                "event loop, sockets, other",
            )
            counts[label] += n
        return [(name, n / total) for name, n in counts.most_common()]

    def table(self, top: int = 12) -> list[str]:
        """Markdown lines: busy fractions, CPU by purpose, our functions, the hottest leaves."""
        if self.error:
            return [f"_(no profile: {self.error})_"]
        loop_busy, sqlite_busy = self.busy()
        loop_total = sum(self.loop_stacks().values()) or 1
        lines = [
            f"py-spy, {self.rate} Hz for {self.seconds:.1f} s: event-loop thread busy "
            f"{loop_busy:.0%} of the time, SQLite worker threads {sqlite_busy:.0%} "
            "(waiting in epoll or on aiosqlite's queue counts as idle).",
            "",
            "| share of loop CPU | spent on |",
            "|---:|---|",
            *(f"| {share:.0%} | {name} |" for name, share in self.categories()),
            "",
            "| share of loop CPU (inclusive) | our function |",
            "|---:|---|",
        ]
        for name, n in self.inclusive(own_only=True).most_common(top):
            lines.append(f"| {n / loop_total:.0%} | `{name}` |")
        lines += ["", "| share of loop CPU (self) | leaf function |", "|---:|---|"]
        for name, n in self.self_time().most_common(top):
            lines.append(f"| {n / loop_total:.0%} | `{name}` |")
        return lines


def _short(frame: str) -> str:
    """'func (path/to/pkg/module.py:12)' → 'pkg/module.py:func' (line numbers dropped)."""
    match = _FRAME.match(frame)
    if not match:
        return frame
    file = match.group("file")
    for marker in ("site-packages/", "lib/python3"):
        if marker in file:
            file = file.split(marker, 1)[1]
    file = file.lstrip("/")
    for own in _OWN_PACKAGES:
        if f"/{own}" in f"/{file}":
            file = own + f"/{file}".split(f"/{own}", 1)[1]
            break
    return f"{file}:{match.group('func')}"


class Recording:
    """`async with Recording(pid, path) as rec:` samples the process while the block runs."""

    def __init__(self, pid: int, path: Path, rate: int = 250) -> None:
        self.pid, self.path, self.rate = pid, path, rate
        self._proc: asyncio.subprocess.Process | None = None
        self._began = 0.0
        self.profile: Profile | None = None

    async def __aenter__(self) -> Recording:
        exe = py_spy_path()
        if exe is None:
            self.profile = Profile(self.rate, 0, error="py-spy is not installed")
            return self
        self._proc = await asyncio.create_subprocess_exec(
            exe,
            "record",
            "--pid",
            str(self.pid),
            "--rate",
            str(self.rate),
            "--format",
            "raw",
            "--nonblocking",
            "--output",
            str(self.path),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        await asyncio.sleep(0.5)  # py-spy needs a moment to attach
        self._began = asyncio.get_running_loop().time()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._proc is None:
            return
        seconds = asyncio.get_running_loop().time() - self._began
        with contextlib.suppress(ProcessLookupError):
            self._proc.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
        try:
            _, stderr = await asyncio.wait_for(self._proc.communicate(), 30)
        except TimeoutError:
            self._proc.kill()
            stderr = b"py-spy did not stop"
        if self.path.exists() and self.path.stat().st_size:
            self.profile = Profile.load(self.path, self.rate, seconds)
        else:
            reason = stderr.decode(errors="replace").strip().splitlines()
            self.profile = Profile(self.rate, seconds, error=(reason or ["no samples"])[-1])
