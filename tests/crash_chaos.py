"""The crash tests' killing: the shop as processes that are started and SIGKILLed at seeded
random moments (often before they are even ready), counting what happened to each life.

One instance (the SQLite storm): start it, let it live a random while, kill it, repeat. Several
instances on one database (the PostgreSQL storm): kill one at a time while the others keep
the shop running, in the rhythm `RollingChaos` describes."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from testkit.process import ChildProcess, shop_process

HEALTH_TIMEOUT = 60.0


class KillableShop:
    """`python -m bot` against the stand-ins (testkit's child process), killable at will, with
    the storm's counts: kills, kills before the shop said it was ready, lives that ended on
    their own. Its output of every life goes to `<workdir>/<name>.log`."""

    def __init__(
        self,
        telegram: FakeTelegram,
        stripe_api: FakeStripe,
        database: Path | str,
        admin_id: int,
        *,
        workdir: Path,
        name: str = "bot",
        extra: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.child: ChildProcess
        self.child, port = shop_process(
            telegram,
            stripe_api,
            database,
            workdir,
            name,
            admin_id=admin_id,
            public_base_url="https://shop.test",
            extra=extra,
        )
        self.url = f"http://127.0.0.1:{port}"
        self.kills = 0
        self.kills_before_healthy = 0
        self.own_exits: list[int] = []  # exit statuses of lives that ended before the kill
        self._healthy_seen = False

    @property
    def starts(self) -> int:
        return self.child.starts

    @property
    def running(self) -> bool:
        return self.child.running

    @property
    def log_path(self) -> Path:
        return self.child.log_path

    async def start(self) -> None:
        await self.child.start()
        self._healthy_seen = False

    async def wait_healthy(
        self,
        http: aiohttp.ClientSession,
        timeout: float,  # noqa: ASYNC109 - a plain bound, like asyncio.wait_for's
    ) -> bool:
        """Poll /healthz until 200 (True), the process exits, or `timeout` passes (False)."""
        if await self.child.answers(http, f"{self.url}/healthz", timeout) is None:
            return False
        self._healthy_seen = True
        return True

    async def kill(self) -> None:
        """SIGKILL: no handler runs, no buffer is flushed, no transaction is finished."""
        ended_by_itself = await self.child.kill()
        if ended_by_itself is not None:
            self.own_exits.append(ended_by_itself)
            return
        self.kills += 1
        if not self._healthy_seen:
            self.kills_before_healthy += 1

    async def terminate(self, timeout: float) -> int:  # noqa: ASYNC109
        """SIGTERM and the exit status (a clean stop is 0; -9 when it had to be killed)."""
        status = await self.child.stop(timeout)
        assert status is not None
        return status

    async def abandon(self) -> None:
        """After a failure: kill the process if it still runs, and close its log."""
        if self.child.running:
            await self.child.kill()
        await self.child.stop()


@dataclass
class Chaos:
    """Start the bot, let it live for a random while — often not even until it is ready,
    sometimes a moment after, sometimes a few seconds of real work — and SIGKILL it."""

    bots: list[KillableShop]
    rng: random.Random
    kills_wanted: int
    stripe_api: FakeStripe
    # Every so many lives Stripe starts failing session creations for a while: the bot retries
    # with backoff while the order waits, reserved stock and all — a wide window for a kill to
    # strand an order before it has a session.
    stripe_trouble_every: int = 9
    stripe_troubles: int = 0
    uptimes: list[float] = field(default_factory=list)

    @property
    def kills(self) -> int:
        return sum(bot.kills for bot in self.bots)

    @property
    def starts(self) -> int:
        return sum(bot.starts for bot in self.bots)

    async def prepare(self, http: aiohttp.ClientSession) -> None:
        """Before the buyers come: nothing (the first life starts with the storm)."""

    async def run(self, http: aiohttp.ClientSession) -> None:
        """One instance: start, a random life, kill, down for a moment; again and again."""
        (bot,) = self.bots
        while self.kills < self.kills_wanted:
            await self._start(bot)
            await self._life(bot, http)
            await self._kill(bot)

    async def _start(self, bot: KillableShop) -> None:
        await bot.start()
        if self.starts % self.stripe_trouble_every == 0:
            status = self.rng.choice([429, 500, 503])
            self.stripe_api.fail_next("POST", "/v1/checkout/sessions", times=12, status=status)
            self.stripe_troubles += 1

    async def _life(self, bot: KillableShop, http: aiohttp.ClientSession) -> None:
        """How long this life lasts: a roll of the dice."""
        started = time.monotonic()
        roll = self.rng.random()
        if roll < 0.30:  # during start-up: migrations, getMe, setMyCommands, polling
            await self._live(bot, http, self.rng.uniform(0.0, 0.7))
        elif roll < 0.55:  # just after it says it is ready
            await bot.wait_healthy(http, HEALTH_TIMEOUT)
            await asyncio.sleep(self.rng.uniform(0.0, 0.6))
        elif roll < 0.65:  # a longer life, so that work gets done even on a slow machine
            await bot.wait_healthy(http, HEALTH_TIMEOUT)
            await asyncio.sleep(self.rng.uniform(1.0, 2.5))
        else:  # in the middle of whatever it is doing
            await self._live(bot, http, self.rng.uniform(0.6, 2.0))
        self.uptimes.append(time.monotonic() - started)

    async def _kill(self, bot: KillableShop) -> None:
        await bot.kill()
        await asyncio.sleep(self.rng.uniform(0.0, 0.4))  # down for a moment

    async def _live(self, bot: KillableShop, http: aiohttp.ClientSession, seconds: float) -> None:
        """Let it run `seconds`, watching /healthz meanwhile (for the statistics only)."""
        deadline = time.monotonic() + seconds
        await bot.wait_healthy(http, seconds)
        await asyncio.sleep(max(deadline - time.monotonic(), 0.0))


@dataclass
class RollingChaos(Chaos):
    """Several instances, one killed at a time, the others serving meanwhile, in cycles of
    `period` seconds: a random instance is killed in the middle of its work (holding its
    share of the chats, outbox claims, requests in flight), then crash-loops for a few lives
    (killed during start-up, just after it is ready, or after a little work), then comes back
    and lives until the cycle is over. See the PostgreSQL storm's docstring for the period."""

    period: float = 12.0
    crash_loop: tuple[int, int] = (4, 7)  # lives killed again after the working kill, at most
    _turns: list[KillableShop] = field(default_factory=list)

    async def prepare(self, http: aiohttp.ClientSession) -> None:
        """Every instance started and ready before the buyers come."""
        for bot in self.bots:
            await self._start(bot)
        for bot in self.bots:
            assert await bot.wait_healthy(http, HEALTH_TIMEOUT), f"see {bot.log_path}"

    async def run(self, http: aiohttp.ClientSession) -> None:
        while self.kills < self.kills_wanted:
            began = time.monotonic()
            victim = self._next_victim()
            await self._kill(victim)
            for _ in range(self.rng.randint(*self.crash_loop)):
                if self.kills >= self.kills_wanted:
                    break
                await self._start(victim)
                await self._life(victim, http)
                await self._kill(victim)
            await self._start(victim)
            await asyncio.sleep(max(began + self.period - time.monotonic(), 0.0))

    def _next_victim(self) -> KillableShop:
        """Each instance once per round of cycles, in a random order: the kills are spread."""
        if not self._turns:
            self._turns = self.rng.sample(self.bots, len(self.bots))
        return self._turns.pop()
