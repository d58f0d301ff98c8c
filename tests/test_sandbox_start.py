"""When the sandbox starts, on what, and what it refuses: the rules of bot.launch and
sandbox/settings.py, through the real entry point where the story is about `make run`."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from bot.__main__ import main as bot_main
from bot.config import ConfigError, Settings
from bot.launch import PRODUCTION_SETTINGS, choose_launch
from sandbox.personas import ADMIN
from sandbox.run import banner
from sandbox.seed import DEMO_KEYS, DEMO_PRODUCTS
from sandbox.settings import Credentials, sandbox_settings
from sandbox.standins import free_port
from storage import products, stock
from storage.db import SqliteFile
from tests.config_env import ALL_VARIABLES
from tests.sandbox_helpers import started_sandbox

# The sandbox runs on its own scratch SQLite file whatever the suite's engine.
pytestmark = pytest.mark.sqlite_file

CONFIG_VARIABLES = sorted(ALL_VARIABLES)
GAME_KEY = 2  # id of the seeded game key in a fresh database
TOKEN = "123456:TEST-fake-token-0123456789abcdef"
# One value of each production setting, as a half-finished deployment might have it.
PRODUCTION_VALUES = {
    "TELEGRAM_BOT_TOKEN": TOKEN,
    "STRIPE_SECRET_KEY": "sk_live_" + "k" * 24,
    "STRIPE_WEBHOOK_SECRET": "whsec_" + "s" * 24,
    "PUBLIC_BASE_URL": "https://shop.example",
    "ADMIN_IDS": "42",
    "DATABASE_URL": "sqlite:////var/lib/shop/shop.db",
}


def test_the_sandbox_starts_by_itself_only_without_any_production_setting(
    tmp_path: Path,
) -> None:
    assert set(PRODUCTION_VALUES) == set(PRODUCTION_SETTINGS)
    assert choose_launch({}, env_file=None).sandbox
    assert choose_launch({"TELEGRAM_BOT_TOKEN": "", "HOST": "127.0.0.1"}, env_file=None).sandbox
    dotenv = tmp_path / ".env"
    for name, value in PRODUCTION_VALUES.items():
        alone = choose_launch({name: value}, env_file=None)
        assert not alone.sandbox and alone.present == (name,), name
        dotenv.write_text(f"{name}={value}\n")
        assert not choose_launch({}, env_file=dotenv).sandbox, name
    on_purpose = choose_launch({**PRODUCTION_VALUES, "SANDBOX": "1"}, env_file=None)
    assert on_purpose.sandbox and on_purpose.on_purpose
    forbidden = choose_launch({"SANDBOX": "0"}, env_file=None)
    assert not forbidden.sandbox and forbidden.sandbox_hint is None
    with pytest.raises(ConfigError, match="SANDBOX “maybe” is not a yes/no value"):
        choose_launch({"SANDBOX": "maybe"}, env_file=None)


def bot_environ(**settings: str) -> dict[str, str]:
    """This process's environment without any shop setting, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    return {**env, **settings}


async def run_bot(cwd: Path, environ: dict[str, str]) -> tuple[int | None, str]:
    """`python -m bot` until it exits (at most 20 s): its status and what it printed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=cwd, env=environ,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        output, _ = await asyncio.wait_for(process.communicate(), 20)
    except TimeoutError:  # still running: it started something
        process.kill()
        output, _ = await process.communicate()
    return process.returncode, output.decode()


@pytest.mark.parametrize(
    "present",
    [
        {"DATABASE_URL": "sqlite:///prod/shop.db"},
        {k: PRODUCTION_VALUES[k] for k in ("STRIPE_WEBHOOK_SECRET", "PUBLIC_BASE_URL")},
    ],
    ids=["database-only", "secrets-not-injected"],
)
async def test_a_production_setting_without_credentials_is_an_error_never_a_sandbox(
    tmp_path: Path, present: dict[str, str]
) -> None:
    """A failed secret injection: the shop refuses to start and says how to get the sandbox,
    instead of serving the sandbox (on the production database) to whoever reaches the port."""
    status, output = await run_bot(tmp_path, bot_environ(PORT=str(free_port()), **present))
    assert status == 2, output
    assert "TELEGRAM_BOT_TOKEN is missing" in output and "STRIPE_SECRET_KEY is missing" in output
    assert "SANDBOX=1 make run" in output and "SANDBOX —" not in output
    assert not (tmp_path / "data").exists() and not (tmp_path / "prod").exists()


def test_entry_point_lists_what_is_missing_when_half_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in CONFIG_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    assert bot_main() == 2
    error = capsys.readouterr().err
    assert "STRIPE_SECRET_KEY is missing" in error and "SANDBOX=1" in error
    monkeypatch.setenv("SANDBOX", "0")  # the sandbox is forbidden: no hint about it
    assert bot_main() == 2
    assert "SANDBOX" not in capsys.readouterr().err
    assert not (tmp_path / "data").exists()


def test_production_never_loads_the_sandbox_package() -> None:
    """The stand-ins and the play page are not even imported unless the sandbox is chosen."""
    probe = (
        "import sys, bot.__main__, bot.app; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sandbox'))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert loaded.stdout.strip() == "[]"


def on_purpose_it_still_refuses_production_data_and_public_addresses(
    urls: Callable[..., Settings],
) -> None:
    """On purpose (SANDBOX=1), it still refuses another database and a public address, and
    says both at once with anything else that is wrong."""
    with pytest.raises(ConfigError) as refused:
        urls(
            environ={**PRODUCTION_VALUES, "SANDBOX": "1", "HOST": "0.0.0.0", "PORT": "x"},
            env_file=None,
        )
    assert [p.split()[0] for p in refused.value.problems] == ["HOST", "DATABASE_URL", "PORT"]
    assert "SANDBOX_ALLOW_PUBLIC=1" in refused.value.problems[0]
    scratch = urls(
        environ={"DATABASE_URL": "sqlite:///data/sandbox.db", "HOST": "::1"}, env_file=None
    )
    assert scratch.database == SqliteFile(Path("data/sandbox.db")) and scratch.host == "::1"
    public = urls(
        environ={
            **PRODUCTION_VALUES,
            "DATABASE_URL": "sqlite:///data/sandbox.db",
            "SANDBOX_ALLOW_PUBLIC": "1",
            "HOST": "0.0.0.0",
            "PUBLIC_BASE_URL": "http://sandbox.lan:8080",
        },
        env_file=None,
    )
    assert (public.host, public.public_base_url) == ("0.0.0.0", "http://sandbox.lan:8080")
    assert public.admin_ids == {ADMIN.user_id} and public.stripe_secret_key.startswith("sk_test_")


def test_sandbox_settings_are_checked_like_production_and_keep_their_own_credentials() -> None:
    credentials = Credentials()
    urls = functools.partial(
        sandbox_settings,
        credentials,
        telegram_api_base_url="http://127.0.0.1:1/bot",
        stripe_api_base="http://x:2",
    )
    settings = urls(environ={}, env_file=None)
    assert settings.telegram_bot_token == credentials.bot_token
    assert settings.stripe_secret_key.startswith("sk_test_") and not settings.stripe_livemode
    assert settings.stripe_webhook_secret.startswith("whsec_")
    assert settings.public_base_url == "http://localhost:8080"
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.admin_ids == {ADMIN.user_id}
    assert settings.database == SqliteFile(Path("data/sandbox.db"))
    assert settings.telegram_api_base_url == "http://127.0.0.1:1/bot"

    tuned = urls(
        environ={
            "PORT": "9000",
            "DEFAULT_CURRENCY": "eur",
            "TELEGRAM_MODE": "webhook",  # the stand-in has no HTTPS: ignored, as are these
            "ADMIN_IDS": "1",
            "STRIPE_API_BASE": "https://api.stripe.com",
        },
        env_file=None,
    )
    assert (tuned.port, tuned.public_base_url) == (9000, "http://localhost:9000")
    assert tuned.default_currency == "eur" and tuned.telegram_mode == "polling"
    assert tuned.admin_ids == {ADMIN.user_id} and tuned.stripe_api_base == "http://x:2"

    with pytest.raises(ConfigError) as bad:
        urls(environ={"PORT": "eighty"}, env_file=None)
    assert len(bad.value.problems) == 1 and "PORT" in bad.value.problems[0]

    on_purpose_it_still_refuses_production_data_and_public_addresses(urls)


async def test_python_m_bot_with_nothing_configured_starts_the_sandbox(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env={**env, "PORT": str(port)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        assert line.decode().strip() == banner(port)
        assert banner(port) == (
            "SANDBOX — nothing here talks to Telegram or Stripe; "
            f"open http://localhost:{port}/sandbox"
        )
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://localhost:{port}/healthz") as health:
                assert health.status == 200
            async with http.get(f"http://localhost:{port}/sandbox") as page:
                assert page.status == 200 and "Sandbox" in await page.text()
        assert (tmp_path / "data" / "sandbox.db").exists()
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_a_fresh_shop_each_start_and_never_another_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    scratch = tmp_path / "data" / "sandbox.db"

    async def titles(environ: dict[str, str], add: str | None = None) -> list[str]:
        running = await started_sandbox(scratch, environ)
        try:
            assert running.app is not None and running.app.db is not None
            db = running.app.db
            if add is not None:
                async with db.transaction() as tx:
                    await products.add(tx, title=add, price_minor=500, currency="usd")
            listed = await products.list_all(db.reader, offset=0, limit=50)
            assert await stock.available(db.reader, GAME_KEY) == len(DEMO_KEYS)
            return [p.title for p in listed]
        finally:
            await running.stop()

    seeded = await titles({}, add="Extra")
    assert len(seeded) == len(DEMO_PRODUCTS) + 1 and "Sandbox mug" in seeded
    assert await titles({}) == seeded[:-1]  # the scratch database started over

    # SANDBOX=1 on a production configuration: the credentials are ignored, loudly, and the
    # production database is neither opened nor created.
    production = {**PRODUCTION_VALUES, "DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}"}
    with pytest.raises(ConfigError, match="DATABASE_URL is set, but the sandbox runs only"):
        await started_sandbox(scratch, {**production, "SANDBOX": "1"})
    assert not (tmp_path / "shop.db").exists()
    with caplog.at_level("WARNING", logger="sandbox"):
        own = {"DATABASE_URL": f"sqlite:///{scratch}"}
        assert await titles({**production, **own, "SANDBOX": "1"}) == seeded[:-1]
    assert any("SANDBOX=1" in r.message and "NOT used" in r.message for r in caplog.records)


@pytest.mark.parametrize(
    ("same_folder", "same_port", "refusal"),
    [
        (True, True, "is already running the shop on"),  # the scratch file's lock
        (True, False, "is already running the shop on"),
        (False, True, "Stop it, or set PORT to a free port"),  # another folder, a busy port
    ],
)
async def test_a_second_start_leaves_the_running_sandbox_alone(
    tmp_path: Path, same_folder: bool, same_port: bool, refusal: str
) -> None:
    """`make run` twice, in the same folder or another one, on the same port or another one:
    the second stops before it touches the first one's scratch database."""
    port = free_port()
    environ = bot_environ(PORT=str(port))
    first = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=environ,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert first.stdout is not None
        line = await asyncio.wait_for(first.stdout.readline(), 30)
        assert line.decode().strip() == banner(port)
        database = tmp_path / "data" / "sandbox.db"
        before = database.stat().st_ino
        second = environ if same_port else bot_environ(PORT=str(free_port()))
        folder = tmp_path if same_folder else tmp_path / "elsewhere"
        folder.mkdir(exist_ok=True)
        status, output = await run_bot(folder, second)
        assert database.stat().st_ino == before  # the very same file, not a fresh one
        assert status == 2 and refusal in output, output
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/healthz") as health,
        ):
            assert health.status == 200
    finally:
        first.kill()
        await first.wait()
