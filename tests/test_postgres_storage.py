"""PostgreSQL under real concurrency (issue 15, items 1, 2 and 5): transactions that SQLite's
single writer used to run one after another now run side by side, so each read-then-write must
be safe on its own; and a server that is missing, refuses us or is newer than us is one clear
line at start."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from sandbox.standins import free_port
from storage import deliveries, inbox, orders, stock
from storage.clock import now
from storage.db import Database, PostgresServer, SchemaTooNew, fetch_all, open_database
from storage.migrations import latest_version
from storage.models import Delivery, DeliveryKind, Order, OrderStatus, ProductKind
from storage.postgres import POOL_MAX, DatabaseUnreachable, PostgresDatabase
from testkit.postgres import PostgresCluster
from tests.backend import SESSION
from tests.shop_records import add_product, new_order

pytestmark = pytest.mark.postgresql_only


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    assert SESSION.url is not None
    database = await open_database(PostgresServer(SESSION.url))
    try:
        yield database
    finally:
        await database.close()


async def _stocked(db: Database, items: int) -> int:
    async with db.transaction() as tx:
        product_id = await add_product(tx, ProductKind.DIGITAL_STOCK)
        await stock.add_items(tx, product_id, [f"KEY-{n}" for n in range(items)])
    return product_id


async def test_two_checkouts_racing_for_the_last_key_reserve_it_once(db: Database) -> None:
    product_id = await _stocked(db, 1)
    async with db.transaction() as tx:
        first, second = [await new_order(tx, product_id, buyer=buyer) for buyer in (1, 2)]
    both_open = asyncio.Barrier(2)

    async def claim(order: Order) -> bool:
        async with db.transaction(serial=False) as tx:  # side by side, as claims run
            await tx.execute("SELECT 1")
            await both_open.wait()  # both transactions are open before either claims
            return await stock.reserve(tx, product_id, order.id, 1)

    results = await asyncio.wait_for(asyncio.gather(claim(first), claim(second)), timeout=10)
    assert sorted(results) == [False, True]
    assert await stock.counts(db.reader, product_id) == (0, 1)


async def test_a_short_claim_is_put_back_whole(db: Database) -> None:
    product_id = await _stocked(db, 3)
    async with db.transaction() as tx:
        order = await new_order(tx, product_id)
        assert not await stock.reserve(tx, product_id, order.id, 5)
        assert await stock.counts(tx, product_id) == (3, 0)


async def test_orders_moving_at_once_in_every_order_keep_the_counts_and_never_deadlock(
    db: Database,
) -> None:
    """Payments, deliveries and refunds move the shared aggregate rows (the day's sales, the
    per-status counts) in different orders; forty of them at once all commit."""
    product_id = await _stocked(db, 0)
    async with db.transaction() as tx:
        made = [await new_order(tx, product_id, buyer=n) for n in range(40)]
    paths = [
        [OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID, OrderStatus.FULFILLED],
        [OrderStatus.AWAITING_PAYMENT, OrderStatus.EXPIRED],
        [OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID, OrderStatus.REFUNDED],
        [OrderStatus.AWAITING_PAYMENT, OrderStatus.PROCESSING, OrderStatus.FAILED],
    ]

    async def walk(order: Order, path: list[OrderStatus]) -> None:
        for status in path:
            async with db.transaction(serial=False) as tx:  # the schema's own guard alone
                current = await orders.get(tx, order.id)
                assert current is not None
                paid = {"paid_at": 1_800_000_000} if status is OrderStatus.PAID else {}
                assert await orders.transition(tx, current, status, **paid)
            await asyncio.sleep(0)

    await asyncio.wait_for(
        asyncio.gather(*(walk(o, paths[n % 4]) for n, o in enumerate(made))), timeout=30
    )
    counts = await db.reader.execute_fetchall("SELECT status, n FROM order_counts WHERE n > 0")
    assert {row[0]: row[1] for row in counts} == {
        "fulfilled": 10,
        "expired": 10,
        "refunded": 10,
        "failed": 10,
    }
    totals = await db.reader.execute_fetchall("SELECT orders, revenue FROM sales_total")
    assert [tuple(row) for row in totals] == [(20, 20 * 500)]


async def test_instances_starting_together_migrate_once(
    postgres_cluster: PostgresCluster,
) -> None:
    url = postgres_cluster.create_database("starting_together")
    opened = await asyncio.gather(*(PostgresDatabase.open(url) for _ in range(4)))
    try:
        rows = await opened[0].reader.execute_fetchall("SELECT version FROM schema_version")
        assert [tuple(row) for row in rows] == [(latest_version(),)]
    finally:
        for database in opened:
            await database.close()


async def test_a_schema_newer_than_the_code_is_refused_naming_both_versions(
    postgres_cluster: PostgresCluster,
) -> None:
    url = postgres_cluster.create_database("from_the_future")
    await (await PostgresDatabase.open(url)).close()
    postgres_cluster.psql(
        f"UPDATE schema_version SET version = {latest_version() + 1}", "from_the_future"
    )
    with pytest.raises(SchemaTooNew, match=f"version {latest_version() + 1}.*{latest_version()}"):
        await PostgresDatabase.open(url)


async def test_a_server_that_refuses_us_is_one_line_without_the_password(
    postgres_cluster: PostgresCluster,
) -> None:
    nobody = f"postgresql://ghost:hunter2-secret@127.0.0.1:{postgres_cluster.port}/nowhere"
    with pytest.raises(DatabaseUnreachable) as refused:
        await PostgresDatabase.open(nobody)
    message = str(refused.value)
    assert "\n" not in message and "hunter2-secret" not in message
    assert "ghost:***@127.0.0.1" in message


async def test_a_server_that_is_not_there_is_one_line() -> None:
    url = f"postgresql://shop:pw@127.0.0.1:{free_port()}/shop"
    with pytest.raises(DatabaseUnreachable, match="cannot use PostgreSQL at") as refused:
        await PostgresDatabase.open(url)
    assert "\n" not in str(refused.value) and ":pw@" not in str(refused.value)


async def _claimed_at_once(db: Database, *, limit: int) -> tuple[list[Delivery], ...]:
    """What instances "a" and "b" claim from the outbox at the same moment: both transactions
    open before either claims."""
    both_open = asyncio.Barrier(2)

    async def claim(holder: str) -> list[Delivery]:
        async with db.transaction(serial=False) as tx:
            await tx.execute("SELECT 1")
            await both_open.wait()
            return await deliveries.claim_due(tx, holder, limit=limit, claim_seconds=30)

    return tuple(await asyncio.wait_for(asyncio.gather(claim("a"), claim("b")), timeout=10))


async def test_instances_claiming_the_outbox_at_once_never_take_the_same_row(
    db: Database,
) -> None:
    product_id = await _stocked(db, 0)
    async with db.transaction() as tx:
        order = await new_order(tx, product_id)
        for n in range(40):
            await deliveries.enqueue(
                tx, dedupe_key=f"k{n}", order_id=order.id, kind=DeliveryKind.REFUND_NOTICE,
                chat_id=7,
            )  # fmt: skip
    first, second = ([d.id for d in claimed] for claimed in await _claimed_at_once(db, limit=30))
    assert not set(first) & set(second)
    assert len(first) + len(second) == 40
    async with db.transaction(serial=False) as tx:  # all claimed: nothing left for a third
        assert await deliveries.claim_due(tx, "c", limit=30, claim_seconds=30) == []


async def test_instances_claiming_at_once_never_write_one_order_s_message_together(
    db: Database,
) -> None:
    """Two instances claim at the same moment, each order owing its message's edit and its
    goods: after each sorts out its committed claims, no order's message has two writers."""
    product_id = await _stocked(db, 0)
    async with db.transaction() as tx:
        for buyer in range(1, 21):
            order = await new_order(tx, product_id, buyer=buyer)
            for kind in (DeliveryKind.ORDER_MESSAGE, DeliveryKind.GOODS):
                await deliveries.enqueue(
                    tx, dedupe_key=f"{kind}:{order.id}", order_id=order.id, kind=kind,
                    chat_id=buyer,
                )  # fmt: skip

    async def sort_out(holder: str, claimed: list[Delivery]) -> list[Delivery]:
        """As the delivery worker does once its claim has committed."""
        elsewhere = await deliveries.orders_written_elsewhere(db.reader, holder, claimed)
        kept, let_go = deliveries.one_writer_per_order(claimed, elsewhere)
        async with db.transaction(serial=False) as tx:
            await deliveries.postpone(tx, let_go, at=now() + 1)
        return kept

    at_once = await _claimed_at_once(db, limit=25)
    first, second = [await sort_out(h, c) for h, c in zip("ab", at_once, strict=True)]
    writers = [d.order_id for d in first + second]
    assert len(writers) == len(set(writers)), sorted(writers)
    claims = await fetch_all(db.reader, "SELECT id FROM deliveries WHERE claimed_by IS NOT NULL")
    assert {int(row[0]) for row in claims} == {d.id for d in first + second}  # the rest let go


async def test_appliers_claiming_at_once_never_split_an_order_s_events(db: Database) -> None:
    """Eight appliers claim two events at a time, all at once, as instances do: each order's
    waiting events are only ever held by one of them (storage/inbox.py: claims run serially)."""
    arrivals = [
        inbox.Arrival(f"evt_{order}_{n}", "checkout.session.completed", f"order:{order}", n, "{}")
        for order in range(30)
        for n in range(3)
    ]
    async with db.transaction(serial=False) as tx:
        await inbox.add(tx, arrivals, now=1)

    async def claim(holder: str) -> list[inbox.Waiting]:
        async with db.transaction() as tx:
            return await inbox.claim(tx, holder, now=2, lease_seconds=60, limit=2)

    for _ in range(12):
        rounds = await asyncio.wait_for(
            asyncio.gather(*(claim(f"applier-{n}") for n in range(8))), timeout=10
        )
        holders: dict[str, set[int]] = {}
        for number, claimed in enumerate(rounds):
            for event in claimed:
                holders.setdefault(event.order_key, set()).add(number)
        assert all(len(held) == 1 for held in holders.values()), holders
        async with db.transaction() as tx:
            for claimed in rounds:
                for event in claimed:
                    assert await inbox.mark_applied(tx, event.seq, now=3)
    assert await inbox.count_waiting(db.reader) == 0


async def test_serial_writes_waiting_for_another_instance_leave_the_pool_to_reads(
    db: Database,
) -> None:
    """Another instance holds the shared write lock; this one's serial transactions (a flash
    sale's worth) queue for it holding one pooled connection between them, so a read — the next
    buyer's cart, the lock holder's own next step elsewhere — still gets a connection at once."""
    assert SESSION.url is not None
    other = await open_database(PostgresServer(SESSION.url))
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold_the_lock() -> None:
        async with other.transaction():
            holding.set()
            await release.wait()

    async def write() -> None:
        async with db.transaction() as tx:
            await tx.execute("SELECT 1")

    holder = asyncio.create_task(hold_the_lock())
    await holding.wait()
    writers = [asyncio.create_task(write()) for _ in range(POOL_MAX * 2)]
    try:
        await asyncio.sleep(0.2)  # the writers are queued
        assert await asyncio.wait_for(db.reader.execute_fetchall("SELECT 1"), timeout=2)
        assert not any(writer.done() for writer in writers)  # still one at a time, after it
    finally:
        release.set()
        await holder
        await asyncio.wait_for(asyncio.gather(*writers), timeout=10)
        await other.close()
