"""The crash test's killing: the shop as a process that is started and SIGKILLed at seeded
random moments (often before it is even ready), counting what happened to each life."""

from __future__ import annotations

import asyncio
import random
import time
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
    their own. Its output of every life goes to `<workdir>/bot.log`."""

    def __init__(
        self, telegram: FakeTelegram, stripe_api: FakeStripe, db_path: Path, admin_id: int
    ) -> None:
        self.child: ChildProcess
        self.child, port = shop_process(
            telegram,
            stripe_api,
            db_path,
            db_path.parent,
            "bot",
            admin_id=admin_id,
            public_base_url="https://shop.test",
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

    bot: KillableShop
    rng: random.Random
    kills_wanted: int
    stripe_api: FakeStripe
    # Every so many lives Stripe starts failing session creations for a while: the bot retries
    # with backoff while the order waits, reserved stock and all — a wide window for a kill to
    # strand an order before it has a session.
    stripe_trouble_every: int = 9
    stripe_troubles: int = 0
    uptimes: list[float] = field(default_factory=list)

    async def run(self, http: aiohttp.ClientSession) -> None:
        while self.bot.kills < self.kills_wanted:
            await self.bot.start()
            if self.bot.starts % self.stripe_trouble_every == 0:
                status = self.rng.choice([429, 500, 503])
                self.stripe_api.fail_next("POST", "/v1/checkout/sessions", times=12, status=status)
                self.stripe_troubles += 1
            started = time.monotonic()
            roll = self.rng.random()
            if roll < 0.30:  # during start-up: migrations, getMe, setMyCommands, polling
                await self._live(http, self.rng.uniform(0.0, 0.7))
            elif roll < 0.55:  # just after it says it is ready
                await self.bot.wait_healthy(http, HEALTH_TIMEOUT)
                await asyncio.sleep(self.rng.uniform(0.0, 0.6))
            elif roll < 0.65:  # a longer life, so that work gets done even on a slow machine
                await self.bot.wait_healthy(http, HEALTH_TIMEOUT)
                await asyncio.sleep(self.rng.uniform(1.0, 2.5))
            else:  # in the middle of whatever it is doing
                await self._live(http, self.rng.uniform(0.6, 2.0))
            await self.bot.kill()
            self.uptimes.append(time.monotonic() - started)
            await asyncio.sleep(self.rng.uniform(0.0, 0.4))  # down for a moment

    async def _live(self, http: aiohttp.ClientSession, seconds: float) -> None:
        """Let it run `seconds`, watching /healthz meanwhile (for the statistics only)."""
        deadline = time.monotonic() + seconds
        await self.bot.wait_healthy(http, seconds)
        await asyncio.sleep(max(deadline - time.monotonic(), 0.0))
