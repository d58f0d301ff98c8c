"""Helpers shared by the sandbox's tests, and their `sandbox` and `http` fixtures (a pytest
plugin: see tests/conftest.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sandbox.run import Sandbox
from sandbox.standins import free_port
from tests.story import buy, open_card


async def started_sandbox(scratch: Path, environ: dict[str, str] | None = None) -> Sandbox:
    """The sandbox in this event loop on a free port and the scratch database `scratch`,
    hermetic: `environ` is all it reads."""
    return await Sandbox.start(
        {"PORT": str(free_port()), **(environ or {})}, env_file=None, scratch=scratch
    )


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    """A fresh sandbox for one test, stopped afterwards."""
    running = await started_sandbox(tmp_path / "sandbox.db")
    try:
        yield running
    finally:
        await running.stop()


async def session_for(sandbox: Sandbox, buyer: int, product_id: int) -> str:
    """The buyer opens the product, taps Buy, and gets a Pay link: its session id."""
    pay_message = await buy(
        sandbox.telegram, buyer, await open_card(sandbox.telegram, buyer, product_id)
    )
    url = next(b["url"] for b in pay_message.buttons() if b.get("url"))
    return str(url).rsplit("/", 1)[-1]


async def eventually(check: Callable[[], bool], what: str, seconds: float = 5.0) -> None:
    """Wait for something that happens in the background (a webhook Stripe sends by itself)."""
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {seconds}s: {what}")


# Where Alice has her things shipped, as the Checkout page's form sends it.
ALICE_IN_LONDON = {
    "name": "Alice", "line1": "1 High St", "city": "London", "postal_code": "N1", "country": "GB"
}  # fmt: skip


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def site(sandbox: Sandbox) -> str:
    assert sandbox.settings is not None
    return sandbox.settings.public_base_url


async def read_items(stream: aiohttp.ClientResponse) -> dict[str, Any]:
    """The next `items` event of the page's event stream."""
    while True:
        line = (await asyncio.wait_for(stream.content.readline(), 10)).decode()
        if line.startswith("data: "):
            return dict(json.loads(line.removeprefix("data: ")))


async def press(
    http: aiohttp.ClientSession, sandbox: Sandbox, session_id: str, action: str, **form: str
) -> tuple[int, str]:
    """Press a button on the stand-in's hosted Checkout page: its status and redirect target."""
    base = f"{site(sandbox)}/sandbox/stripe/c/pay"
    async with http.post(
        f"{base}/{session_id}/{action}", data=form, allow_redirects=False
    ) as answer:
        return answer.status, answer.headers.get("Location", "")
