"""Moving a shop from SQLite to PostgreSQL (issue 15, item 6): `python -m storage.copy SOURCE_URL
TARGET_URL` copies a stopped shop whole (ids kept, aggregates summed anew and equal to the
source's: tests/test_storage_copy_aggregates.py, sequences past the copied ids), or refuses and
leaves the target empty; the shop then runs on the target as it ran on the file."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from sandbox.standins import free_port
from shop import cart
from storage import carts, job_state, languages, leases, orders, products, sales, translations
from storage.clock import now
from storage.copy import main
from storage.copy_tables import BOOKKEEPING, COPIED, LEFT_BEHIND, REBUILT, columns_of, tables_of
from storage.db import Database, SqliteFile, fetch_one, latest_schema_version, open_database
from storage.models import Order, ProductKind, ProductRail
from testkit.postgres import PostgresCluster
from tests import stars_steps as stars
from tests.admin_order_steps import admin_says, tap
from tests.cart_orders import ADA, add_product, checkout_cart, pay
from tests.conftest import BUYER_ID, app_with, settings_for, start_app
from tests.people import Person, shown
from tests.shop_records import new_order
from tests.story import refund_in_dashboard, settled

pytestmark = pytest.mark.postgresql_only

PASSWORD = "s3cret-pw"


def _new_database(cluster: PostgresCluster) -> str:
    return cluster.create_database(f"copy_{uuid.uuid4().hex[:10]}")


def _count(cluster: PostgresCluster, url: str, table: str = "pg_tables") -> int:
    """Rows of `table` in the database at `url`; by default its tables (0: never touched)."""
    where = " WHERE schemaname = 'public'" if table == "pg_tables" else ""
    return int(cluster.psql(f"SELECT count(*) FROM {table}{where}", url.rsplit("/", 1)[1]))


def _with_password(url: str) -> str:
    """The URL as an operator writes it, with a password (the test server trusts anyone)."""
    return url.replace("://shop@", f"://shop:{PASSWORD}@")


async def _run_copy(cwd: Path, source: str, target: str) -> tuple[int, str, str]:
    """`python -m storage.copy SOURCE TARGET` as the operator runs it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "storage.copy", source, target,
        cwd=cwd, env={"PATH": os.environ["PATH"]},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def _copy_here(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The same, in this process."""
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@asynccontextmanager
async def _opened(url: str) -> AsyncIterator[Database]:
    from bot.config import database_target

    db = await open_database(database_target(url))
    try:
        yield db
    finally:
        await db.close()


async def _every_row(db: Database) -> dict[str, list[tuple[object, ...]]]:
    """Every copied table's rows in key order, columns in one order for both engines."""
    rows = {}
    for table in COPIED:
        names = await columns_of(db.reader, table.name)
        found = await db.reader.execute_fetchall(
            f"SELECT {', '.join(sorted(names))} FROM {table.name}"  # noqa: S608
        )
        keys = [sorted(names).index(key) for key in table.key]
        rows[table.name] = sorted(
            (tuple(row) for row in found), key=lambda row: tuple(row[i] for i in keys)
        )
    return rows


async def _aggregates(db: Database) -> dict[str, list[tuple[object, ...]]]:
    """The rebuilt tables without their all-zero rows (see storage/copy_checks.py)."""
    found = {}
    for table in REBUILT:
        names = sorted(await columns_of(db.reader, table.name))
        values = " OR ".join(f"{name} <> 0" for name in names if name not in table.key)
        rows = await db.reader.execute_fetchall(
            f"SELECT {', '.join(names)} FROM {table.name} WHERE {values}"  # noqa: S608
        )
        found[table.name] = sorted(tuple(row) for row in rows)
    return found


def _sales_windows() -> tuple[int, ...]:
    """/sales's windows: all time, the last 7 days (starting mid-day, so read partly from the
    orders themselves), today."""
    at = now()
    return (0, at - 7 * 86_400, at - at % 86_400)


async def _sales_screens(db: Database, windows: tuple[int, ...]) -> list[object]:
    """What /sales reads for each window."""
    figures: list[object] = []
    for since in windows:
        figures.append(await sales.totals(db.reader, since=since))
        figures.append(await sales.top_products(db.reader, since=since))
    return figures


async def _a_shop_on_sqlite(app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe) -> Order:
    """Ada's history in a running shop: a discounted cart of three kinds paid and partly
    refunded in the Dashboard, an expired link, an order the admin refunded, one paid in
    Telegram Stars, one still awaiting payment (its key reserved), a cart, translations,
    languages, job state and a lease. The first order is returned."""
    assert app.db is not None and app.shop is not None
    db = app.db
    keys = [f"K-{n}" for n in range(5)]
    key = await add_product(app, "Game key", 500, ProductKind.DIGITAL_STOCK, keys)
    ebook = await add_product(app, "Ebook", 1200, ProductKind.DIGITAL_TEXT)
    mug = await add_product(app, "Mug", 1800, ProductKind.PHYSICAL)
    await add_product(app, "Consultation", 9000, ProductKind.SERVICE)
    async with app.db.transaction() as tx:
        sticker = await products.add(
            tx, title="Sticker", price_minor=100, currency="usd", rail=ProductRail.STARS,
            stars_price=50, category="extras", delivery_text="Sticker pack: t.me/addstickers/x",
        )  # fmt: skip
        await translations.set_product_text(tx, ebook, "de", "title", "E-Buch")
        await translations.set_category_name(tx, "extras", "de", "Extras")
        await languages.choose(tx, 700_009, "de")
        await job_state.advance(tx, "copy.test", None, "kept")
        await leases.take(tx, "copy.test", "instance-1", now_ms=now() * 1000, ttl_ms=60_000)

    first = await checkout_cart(app, telegram, [(key, 2), (ebook, 1), (mug, 1)])
    stripe_api.add_promotion_code(stripe_api.add_coupon(percent_off=25), "SPRING25")
    await pay(stripe_api, first, promotion_code="SPRING25")  # $40.00 less 25 %: $30.00
    await settled(app, buyers_only=True)
    assert first.checkout_session_id is not None
    intent = stripe_api.sessions[first.checkout_session_id]["payment_intent"]
    await refund_in_dashboard(stripe_api, intent, 500)
    assert (await stripe_api.deliver(stripe_api.refund_event(intent)))[0] == 200

    async def another(product_id: int) -> Order:
        async with db.transaction() as tx:
            await carts.empty(tx, ADA.user_id)
        return await checkout_cart(app, telegram, [(product_id, 1)])

    expired = await another(key)
    assert expired.checkout_session_id is not None
    stripe_api.expire(expired.checkout_session_id)
    event = stripe_api.session_event("checkout.session.expired", expired.checkout_session_id)
    assert (await stripe_api.deliver(event))[0] == 200
    refunded = await another(ebook)
    await pay(stripe_api, refunded)
    await settled(app, buyers_only=True)
    confirm = await admin_says(telegram, f"/refund {refunded.id}", lambda t: "Refund order" in t)
    await tap(telegram, confirm, "Refund $12.00", lambda t: "Refunded $12.00" in t)
    assert refunded.checkout_session_id is not None
    intent = stripe_api.sessions[refunded.checkout_session_id]["payment_intent"]
    assert (await stripe_api.deliver(stripe_api.refund_event(intent)))[0] == 200
    await stars.pay(telegram, BUYER_ID, await stars.buy_for_stars(telegram, BUYER_ID, sticker))
    await another(key)  # left awaiting payment, its key reserved
    await cart.add(app.shop, ADA.user_id, mug, 1)
    await settled(app, buyers_only=True)
    return first


async def test_a_shop_moves_whole_and_runs_on_postgresql(
    tmp_path: Path,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    postgres_cluster: PostgresCluster,
) -> None:
    source = f"sqlite:///{tmp_path / 'old' / 'shop.db'}"
    target = _new_database(postgres_cluster)
    async with app_with(
        tmp_path, telegram, stripe_api, DATABASE_URL=source, ALLOW_PROMOTION_CODES="true"
    ) as app:
        first = await _a_shop_on_sqlite(app, telegram, stripe_api)
        # The bot still runs: its lock refuses the copy, and the target is not touched.
        status, out, err = await _run_copy(tmp_path, source, _with_password(target))
        assert (status, out) == (1, ""), err
        assert err.startswith("copy failed: Another process") and err.count("\n") == 1
        assert "stopped shop" in err
        assert _count(postgres_cluster, target) == 0

    status, out, err = await _run_copy(tmp_path, source, _with_password(target))
    assert (status, err) == (0, ""), err
    assert PASSWORD not in out and ":***@" in out
    assert "every count, total and aggregate equal on both sides" in out.splitlines()[-1]
    assert len(out.splitlines()) == len(COPIED) + len(REBUILT) + len(LEFT_BEHIND) + 1
    assert "leases                         1 row left behind" in out
    assert _count(postgres_cluster, target, "leases") == 0

    async with _opened(source) as old, _opened(target) as new:
        assert await _every_row(new) == await _every_row(old)
        assert await _aggregates(new) == await _aggregates(old)
        assert any(await _aggregates(old)), "the story sold something"
        windows = _sales_windows()
        assert await _sales_screens(new, windows) == await _sales_screens(old, windows)
        copied_ids = [order.id for order in await orders.recent(old.reader, offset=0, limit=50)]

    # The shop starts on the copy: the buyer's orders read as before, new ids follow the old.
    settings = settings_for(tmp_path, telegram, stripe_api, DATABASE_URL=target)
    app = await start_app(settings, telegram, stripe_api)
    try:
        listing = shown(await Person(telegram, BUYER_ID).sends("/orders", "Your orders"))
        assert f"#{first.id} · Game key × 2 + 2 more · $30.00\n" in listing
        assert "partly refunded ($5.00)" in listing
        assert app.db is not None
        async with app.db.transaction() as tx:
            product_id = await products.add(tx, title="New", price_minor=700, currency="usd")
            order = await new_order(tx, product_id, buyer=BUYER_ID + 50)
        assert order.id > max(copied_ids) and product_id > 5
    finally:
        await app.stop()


async def _small_shop(path: Path) -> None:
    """A shop file with one product and one pending order, written by the storage functions."""
    db = await open_database(SqliteFile(path))
    try:
        async with db.transaction() as tx:
            product_id = await products.add(tx, title="Key", price_minor=500, currency="eur")
            await new_order(tx, product_id)
    finally:
        await db.close()


async def _held_rows(url: str) -> int:
    """Orders, products and order counts in the database at `url` (0: nothing kept)."""
    sql = "SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM products)"
    async with _opened(url) as db:
        row = await fetch_one(db.reader, f"{sql} + (SELECT count(*) FROM order_counts)")
        return int(row[0]) if row else -1


async def test_a_target_that_already_holds_a_shop_is_refused_and_left_as_it_was(
    tmp_path: Path, postgres_cluster: PostgresCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    await _small_shop(tmp_path / "shop.db")
    source, target = f"sqlite:///{tmp_path / 'shop.db'}", _new_database(postgres_cluster)
    assert (await asyncio.to_thread(main, [source, target])) == 0
    capsys.readouterr()
    before = await _held_rows(target)
    status, out, err = await asyncio.to_thread(_copy_here, capsys, source, target)
    assert (status, out) == (1, "")
    assert err.startswith("copy failed: the target is not empty (1 products, 1 orders")
    assert "never merges two shops or overwrites one" in err and err.count("\n") == 1
    assert await _held_rows(target) == before


@pytest.mark.parametrize("step", [-1, 1])
async def test_a_source_at_another_schema_version_is_refused(
    tmp_path: Path,
    postgres_cluster: PostgresCluster,
    capsys: pytest.CaptureFixture[str],
    step: int,
) -> None:
    await _small_shop(tmp_path / "shop.db")
    with sqlite3.connect(tmp_path / "shop.db") as conn:
        conn.execute(f"PRAGMA user_version = {latest_schema_version() + step}")
    target = _new_database(postgres_cluster)
    status, out, err = await asyncio.to_thread(
        _copy_here, capsys, f"sqlite:///{tmp_path / 'shop.db'}", target
    )
    assert (status, out) == (1, "")
    found = latest_schema_version() + step
    assert f"the source's schema is version {found}" in err and err.count("\n") == 1
    advice = "start this release once on the source" if step < 0 else "newer than this release"
    assert advice in err
    assert _count(postgres_cluster, target) == 0


async def test_a_copy_that_does_not_check_out_leaves_the_target_empty(
    tmp_path: Path, postgres_cluster: PostgresCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    """The source's aggregates disagree with its orders (a hand-made UPDATE): the rebuilt ones
    differ, and the whole copy is rolled back."""
    await _small_shop(tmp_path / "shop.db")
    with sqlite3.connect(tmp_path / "shop.db") as conn:
        conn.execute("UPDATE order_counts SET n = n + 1")
    source, target = f"sqlite:///{tmp_path / 'shop.db'}", _new_database(postgres_cluster)
    status, out, err = await asyncio.to_thread(_copy_here, capsys, source, target)
    assert (status, out) == (1, "")
    assert err.startswith("copy failed: the copy does not match the source, so nothing was kept")
    assert "order_counts rebuilt differently" in err and err.count("\n") == 1
    assert await _held_rows(target) == 0


async def test_a_row_the_target_refuses_leaves_it_empty(
    tmp_path: Path, postgres_cluster: PostgresCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hand-made UPDATE left text in an integer column, which SQLite keeps and PostgreSQL
    refuses: the copy fails at the last table, in one line, and keeps none of the others."""
    await _small_shop(tmp_path / "shop.db")
    with sqlite3.connect(tmp_path / "shop.db") as conn:
        conn.execute(
            "INSERT INTO category_translations (category, language, name, updated_at)"
            " VALUES ('extras', 'de', 'Extras', 'yesterday')"
        )
    target = _with_password(_new_database(postgres_cluster))
    status, out, err = await asyncio.to_thread(
        _copy_here, capsys, f"sqlite:///{tmp_path / 'shop.db'}", target
    )
    assert (status, out) == (1, "")
    assert err.startswith("copy failed: ") and "yesterday" in err
    assert err.count("\n") == 1 and PASSWORD not in err
    assert await _held_rows(target) == 0


async def test_a_table_the_copy_does_not_know_is_refused(
    tmp_path: Path, postgres_cluster: PostgresCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    await _small_shop(tmp_path / "shop.db")
    with sqlite3.connect(tmp_path / "shop.db") as conn:
        conn.execute("CREATE TABLE loyalty_points (user_id INTEGER PRIMARY KEY, points INTEGER)")
    target = _new_database(postgres_cluster)
    status, _, err = await asyncio.to_thread(
        _copy_here, capsys, f"sqlite:///{tmp_path / 'shop.db'}", target
    )
    assert status == 1
    assert "the source has tables this copy does not know (loyalty_points)" in err
    assert await _held_rows(target) == 0


async def test_every_table_of_the_schema_is_copied_or_rebuilt(
    tmp_path: Path, postgres_cluster: PostgresCluster
) -> None:
    """A migration that adds a table must say how a copy treats it (storage/copy_tables.py)."""
    known = {table.name for table in (*COPIED, *REBUILT, *LEFT_BEHIND)}
    for url in (f"sqlite:///{tmp_path / 'shop.db'}", _new_database(postgres_cluster)):
        async with _opened(url) as db:
            assert set(await tables_of(db.reader)) - BOOKKEEPING == known, url


async def test_an_unreachable_target_is_one_line_without_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _small_shop(tmp_path / "shop.db")
    target = f"postgresql://shop:{PASSWORD}@127.0.0.1:{free_port()}/shop"
    status, out, err = await asyncio.to_thread(
        _copy_here, capsys, f"sqlite:///{tmp_path / 'shop.db'}", target
    )
    assert (status, out) == (1, "")
    assert err.startswith("copy failed: cannot use PostgreSQL at postgresql://shop:***@")
    assert PASSWORD not in err and err.count("\n") == 1


def test_arguments_that_name_no_such_copy_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'shop.db'}"
    postgres_url = f"postgresql://shop:{PASSWORD}@127.0.0.1:5432/shop"
    for argv, says in [
        (["mysql://db/shop", postgres_url], "SOURCE_URL must look like"),
        ([sqlite_url, "sqlite:///:memory:"], "TARGET_URL cannot be an in-memory database"),
        ([postgres_url, sqlite_url], "from SQLite to PostgreSQL"),
        ([postgres_url, postgres_url], "name the same database"),
    ]:
        status, out, err = _copy_here(capsys, *argv)
        assert (status, out) == (2, ""), argv
        assert says in err and PASSWORD not in err and err.count("\n") == 1, err
    with pytest.raises(SystemExit) as usage:
        main([sqlite_url])
    assert usage.value.code == 2
    assert not (tmp_path / "shop.db").exists()


async def test_a_missing_source_file_is_refused_not_created(
    tmp_path: Path, postgres_cluster: PostgresCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    target = _new_database(postgres_cluster)
    status, _, err = await asyncio.to_thread(
        _copy_here, capsys, f"sqlite:///{tmp_path / 'nowhere.db'}", target
    )
    assert status == 1 and f"there is no database at {tmp_path / 'nowhere.db'}" in err
    assert not (tmp_path / "nowhere.db").exists()
