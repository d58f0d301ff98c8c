"""Operating the shop on its SQLite file: a broken or busy file, a full disk, backups, a schema
newer than the code.

Each story runs the real `python -m bot` (or the real app) against the stand-ins and a real
SQLite file, and looks at what an operator sees: the exit status and the one line it printed,
or what /healthz answers.
"""

from __future__ import annotations

import asyncio
import os
import resource
import sqlite3
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from sandbox.standins import free_port
from storage import orders
from storage.db import latest_schema_version
from storage.health import PROBE_INTERVAL_SECONDS
from storage.sqlite import SqliteDatabase
from testkit.process import ChildProcess, shop_env
from tests.backend import sqlite_path
from tests.conftest import ADMIN_ID, BUYER_ID, PUBLIC_BASE_URL, settings_for, start_app
from tests.crash_chaos import HEALTH_TIMEOUT
from tests.story import add_product, buy, open_card, order_of, pay_and_notify, session_of, settled

EXIT_TIMEOUT = 60.0
WAL_PAGE_SIZE, WAL_FRAME_HEADER = 4096, 24

# Every story here is about the SQLite file itself (the PostgreSQL ones: test_postgres_*.py).
pytestmark = pytest.mark.sqlite_file


def bot_env(
    telegram: FakeTelegram, stripe_api: FakeStripe, port: int, db_path: Path, admin_id: int
) -> dict[str, str]:
    """`python -m bot`'s environment against the stand-ins (testkit's, as the crash test's)."""
    return shop_env(
        telegram, stripe_api, db_path, port, admin_id=admin_id, public_base_url=PUBLIC_BASE_URL
    )


def _bot(env: dict[str, str], cwd: Path) -> ChildProcess:
    """`python -m bot` as testkit's child process, its lives' output in `cwd/first.log`."""
    return ChildProcess("first", [sys.executable, "-m", "bot"], env, cwd)


async def _healthy(
    http: aiohttp.ClientSession,
    bot: ChildProcess,
    timeout: float,  # noqa: ASYNC109 - a plain bound, like asyncio.wait_for's
) -> bool:
    """Whether the process's /healthz answers 200 within `timeout`."""
    return (
        await bot.answers(http, f"http://127.0.0.1:{bot.env['PORT']}/healthz", timeout) is not None
    )


async def _spawn_bot(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    """`python -m bot` with its log on a pipe (not a file, which RLIMIT_FSIZE would limit)."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def _run_until_exit(env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """`python -m bot` to its end: the exit status and everything it printed. A process that
    does not end in time is killed and fails the test."""
    process = await _spawn_bot(env, cwd)
    try:
        output, _ = await asyncio.wait_for(process.communicate(), EXIT_TIMEOUT)
    except TimeoutError:
        process.kill()
        output, _ = await process.communicate()
        message = f"still running after {EXIT_TIMEOUT:.0f} s:\n{output.decode()}"
        raise AssertionError(message) from None
    assert process.returncode is not None
    return process.returncode, output.decode()


def _refusal(status: int, output: str) -> str:
    """The one line a refused start printed, after checking it was a clean refusal: exit
    status 2, no traceback, exactly one error line."""
    assert status == 2, output
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if "ERROR" in line]
    assert len(errors) == 1, output
    return errors[0]


def _damage(path: Path, how: str) -> None:
    """Overwritten with text, or a real shop database (just created there) cut short as a full
    disk or a bad copy leaves it."""
    if how == "garbage":
        path.write_bytes(b"this is not a database, it was overwritten\n" * 200)
    else:
        path.write_bytes(path.read_bytes()[:1500])


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
async def test_a_corrupt_database_file_stops_the_start_with_one_line(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe, damage: str
) -> None:
    db_path = tmp_path / "shop.db"
    await (await SqliteDatabase.open(db_path)).close()
    _damage(db_path, damage)
    env = bot_env(telegram, stripe_api, free_port(), db_path, ADMIN_ID)

    refusal = _refusal(*await _run_until_exit(env, tmp_path))

    assert str(db_path) in refusal and "backup" in refusal
    with pytest.raises(sqlite3.DatabaseError):  # the file was left as it was, for forensics
        sqlite3.connect(db_path).execute("SELECT count(*) FROM sqlite_master").fetchone()


async def test_a_second_process_on_the_same_database_is_refused(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """The second start says who owns the file and exits; once the owner dies (SIGKILL: no
    clean-up ran), the next start takes over at once."""
    db_path = tmp_path / "shop.db"
    log_path = tmp_path / "first.log"
    first_env = bot_env(telegram, stripe_api, free_port(), db_path, ADMIN_ID)
    first = _bot(first_env, tmp_path)
    await first.start()
    try:
        async with aiohttp.ClientSession() as http:
            assert await _healthy(http, first, HEALTH_TIMEOUT), log_path.read_text()
            second_env = bot_env(telegram, stripe_api, free_port(), db_path, ADMIN_ID)
            refusal = _refusal(*await _run_until_exit(second_env, tmp_path))
            assert "Another process" in refusal and str(db_path) in refusal
            assert f"pid {first.pid}" in refusal
            assert await _healthy(http, first, 1.0), "the owner kept running"

            await first.kill()
            third = _bot(second_env, tmp_path)
            await third.start()
            try:
                assert await _healthy(http, third, HEALTH_TIMEOUT), log_path.read_text()
            finally:
                assert await third.stop(20) == 0
    finally:
        if first.running:
            await first.kill()
        await first.stop()


async def _health(http: aiohttp.ClientSession, port: int) -> tuple[int, dict[str, Any]]:
    async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
        return response.status, await response.json()


async def _health_until(
    http: aiohttp.ClientSession, port: int, status: int, within: float
) -> dict[str, Any]:
    """Poll /healthz the way a monitor does until it answers `status`; its JSON body."""
    deadline = time.monotonic() + within
    seen: tuple[int, dict[str, Any]] | None = None
    while time.monotonic() < deadline:
        try:
            seen = await _health(http, port)
        except aiohttp.ClientError:
            seen = None
        if seen is not None and seen[0] == status:
            return seen[1]
        await asyncio.sleep(0.2)
    raise AssertionError(f"/healthz never answered {status} within {within:.0f} s: {seen}")


@pytest.mark.slow
async def test_healthz_is_503_while_the_disk_takes_no_writes(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """The disk refuses every write (RLIMIT_FSIZE 1 on the running process: each write to a file
    fails with EFBIG, as on a full or read-only disk) while reads still work: /healthz turns
    503 and says why, and back to 200 once the disk takes writes again."""
    port = free_port()
    env = bot_env(telegram, stripe_api, port, tmp_path / "shop.db", ADMIN_ID)
    process = await _spawn_bot(env, tmp_path)
    assert process.stdout is not None
    output = asyncio.create_task(process.stdout.read())
    try:
        async with aiohttp.ClientSession() as http:
            healthy = await _health_until(http, port, 200, HEALTH_TIMEOUT)
            assert healthy == {"status": "ok", "database": True, "bot": True}

            resource.prlimit(process.pid, resource.RLIMIT_FSIZE, (1, resource.RLIM_INFINITY))
            broken = await _health_until(http, port, 503, 30)
            assert broken["status"] == "unavailable"
            assert broken["database"] is False and broken["bot"] is True
            assert len(broken["problems"]) == 1
            assert "cannot be written" in broken["problems"][0]

            limits = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
            resource.prlimit(process.pid, resource.RLIMIT_FSIZE, limits)
            assert await _health_until(http, port, 200, 30) == healthy
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), 20)
    log = (await output).decode()
    assert log.count("cannot be written") == 1, log  # one line when it broke, not one per poll
    assert "takes writes again" in log


def _wal_bytes(db_path: Path) -> int:
    return Path(f"{db_path}-wal").stat().st_size


async def test_healthz_polled_hard_writes_at_most_once_per_interval(app: ShopApp) -> None:
    """/healthz is polled by monitors: 40 polls in a row commit one probe per interval, seen as
    pages appended to the WAL (nothing else writes in an idle shop)."""
    assert app.port is not None and app.db is not None
    async with aiohttp.ClientSession() as http:
        await _health(http, app.port)  # the first probe, and the WAL file, exist now
        before, began = _wal_bytes(sqlite_path(app.settings)), time.monotonic()
        answers = [await _health(http, app.port) for _ in range(40)]
        elapsed = time.monotonic() - began
    assert {status for status, _ in answers} == {200}
    appended = _wal_bytes(sqlite_path(app.settings)) - before
    frames = appended // (WAL_PAGE_SIZE + WAL_FRAME_HEADER)
    assert frames <= 1 + int(elapsed / PROBE_INTERVAL_SECONDS), (frames, elapsed)


async def _run_tool(cwd: Path, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), EXIT_TIMEOUT)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def _plain_copy_sees_orders(db_path: Path, copy: Path) -> int | None:
    """What `cp shop.db` would give: the main file alone, without its WAL."""
    copy.write_bytes(db_path.read_bytes())
    try:
        return int(sqlite3.connect(copy).execute("SELECT count(*) FROM orders").fetchone()[0])
    except sqlite3.DatabaseError:
        return None


async def test_backup_while_the_bot_runs_restores_every_order(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """`python -m storage.backup DEST` beside the running bot (which holds its lock and has
    fresh orders only in the WAL) gives a checked copy; a bot started on that copy has them."""
    app = await start_app(settings_for(tmp_path, telegram, stripe_api), telegram, stripe_api)
    db_path = tmp_path / "shop.db"
    backups = tmp_path / "backups"
    backups.mkdir()
    try:
        product_id = await add_product(app)
        pay_message = await buy(telegram, BUYER_ID, await open_card(telegram, BUYER_ID, product_id))
        session_id = session_of(stripe_api, pay_message)
        assert await pay_and_notify(stripe_api, session_id) == 200
        await settled(app)
        paid = await order_of(app, session_id)
        assert not _plain_copy_sees_orders(db_path, tmp_path / "plain-copy.db"), "in the WAL"

        env = {"PATH": os.environ["PATH"], "DATABASE_URL": f"sqlite:///{db_path}"}
        status, out, err = await _run_tool(tmp_path, env, "-m", "storage.backup", str(backups))
    finally:
        await app.stop()
    assert (status, err) == (0, ""), err
    (copy,) = backups.iterdir()
    assert out.strip().startswith(f"{copy}: integrity ok, schema version ")
    assert "1 products, 1 orders" in out

    restored = await start_app(
        settings_for(tmp_path, telegram, stripe_api, DATABASE_URL=f"sqlite:///{copy}"),
        telegram,
        stripe_api,
    )
    try:
        assert restored.db is not None
        order = await orders.get(restored.db.reader, paid.id)
        assert order == paid
    finally:
        await restored.stop()


async def test_backup_check_refuses_a_damaged_copy(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.db", tmp_path / "bad.db"
    await (await SqliteDatabase.open(good)).close()
    status, out, err = await _run_tool(
        tmp_path, {"PATH": os.environ["PATH"]}, "-m", "storage.backup", "--check", str(good)
    )
    assert status == 0 and "integrity ok" in out, err
    _damage(bad, "garbage")
    status, out, err = await _run_tool(
        tmp_path, {"PATH": os.environ["PATH"]}, "-m", "storage.backup", "--check", str(bad)
    )
    assert status == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"backup failed: {bad} cannot be read")


async def test_a_database_newer_than_the_code_stops_the_start_naming_both_versions(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """A rollback deploy: the database was migrated by a newer shop. This code must not run on
    tables it does not know — one line naming both schema versions, exit 2, nothing changed."""
    db_path = tmp_path / "shop.db"
    await (await SqliteDatabase.open(db_path)).close()
    newer = latest_schema_version() + 1
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute(f"PRAGMA user_version = {newer}")
        conn.commit()
    env = bot_env(telegram, stripe_api, free_port(), db_path, ADMIN_ID)

    refusal = _refusal(*await _run_until_exit(env, tmp_path))

    assert str(db_path) in refusal
    assert f"schema is version {newer}" in refusal
    assert f"this code's {latest_schema_version()}" in refusal
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == newer
