"""Service-level tests of the one outbox API (shop/outbox.py) on a real SQLite file: typed
dedupe keys, once per key, one row per admin, and the wake-up sent by the transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shop import outbox
from shop.outbox import Owed, Topic
from storage import deliveries, orders
from storage.db import Database, fetch_all
from storage.models import DeliveryKind, Order, OrderStatus
from tests.shop_records import add_product, new_order, scratch_db


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with scratch_db(tmp_path) as database:
        yield database


async def _order(db: Database) -> Order:
    async with db.transaction() as tx:
        return await new_order(tx, await add_product(tx), buyer=5)


async def _rows(db: Database) -> list[tuple[str, int, str]]:
    rows = await fetch_all(
        db.reader, "SELECT dedupe_key, chat_id, kind FROM deliveries ORDER BY id"
    )
    return [(row[0], row[1], row[2]) for row in rows]


def test_typed_keys_keep_the_stored_format() -> None:
    """Rows owed by earlier releases must still match: the keys render as they always did."""
    assert Owed(Topic.ORDER_MESSAGE, 7, "paid").key() == "order_message:7:paid"
    assert Owed(Topic.REFUND, 7, 250).key() == "refund:7:250"
    assert Owed(Topic.SALE, 7).key(42) == "sale:7:42"
    assert Owed(Topic.UNDELIVERED, 31).key(42) == "undelivered:31:42"
    assert Owed(Topic.TRACKING, 7, 2).key() == "tracking:7:2"


async def test_a_message_is_owed_once_per_key_and_once_per_admin(db: Database) -> None:
    order = await _order(db)
    wakes: list[None] = []
    for _ in range(2):  # the same event, delivered twice
        async with outbox.transaction(db, lambda: wakes.append(None)) as tx:
            notice = Owed.notice(DeliveryKind.GOODS, order)
            await outbox.owe_buyer(tx, order, DeliveryKind.GOODS, notice)
            owed = Owed(Topic.SALE, order.id)
            await outbox.owe_admins(tx, {2, 1}, order.id, DeliveryKind.SALE_ALERT, owed)
    assert await _rows(db) == [
        (f"goods:{order.id}", 50, "goods"),
        (f"sale:{order.id}:1", 1, "sale_alert"),
        (f"sale:{order.id}:2", 2, "sale_alert"),
    ]
    assert len(wakes) == 1  # the repeat owed nothing new, so it woke nobody


async def test_resend_owes_one_copy_per_tap(db: Database) -> None:
    order = await _order(db)
    async with outbox.transaction(db, lambda: None) as tx:
        await outbox.resend(tx, order, "q1")
        await outbox.resend(tx, order, "q1")
        await outbox.resend(tx, order, "admin:q2")
    keys = [key for key, _, _ in await _rows(db)]
    assert keys == [f"resend:{order.id}:q1", f"resend:{order.id}:admin:q2"]


async def test_the_worker_is_woken_after_commit_only(db: Database) -> None:
    order = await _order(db)
    wakes: list[None] = []

    def wake() -> None:
        wakes.append(None)

    with pytest.raises(RuntimeError):
        async with outbox.transaction(db, wake) as tx:
            await outbox.owe_edit(tx, order, "expired")
            raise RuntimeError("the use-case failed after owing")
    assert wakes == [] and await _rows(db) == []  # rolled back: nothing owed, nobody woken
    async with outbox.transaction(db, wake) as tx:
        await orders.update(tx, order.id, message_id=3)  # no message owed
    assert wakes == []
    async with outbox.transaction(db, wake) as tx:
        await outbox.owe_edit(tx, order, "expired")
        assert wakes == []  # not before the commit
    assert len(wakes) == 1 and len(await _rows(db)) == 1


async def test_send_again_owes_one_copy_per_tap_and_only_to_the_buyer(db: Database) -> None:
    order = await _order(db)
    wakes: list[None] = []

    def wake() -> None:
        wakes.append(None)

    assert await outbox.send_again(db, wake, order.id, "t0") is None  # not paid yet
    async with db.transaction() as tx:
        for status in (OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID):
            current = await orders.get(tx, order.id)
            assert current is not None and await orders.transition(tx, current, status)
    assert await outbox.send_again(db, wake, order.id, "t1", buyer=6) is None  # not theirs
    assert await outbox.send_again(db, wake, order.id, "t1", buyer=5) is not None
    assert await outbox.send_again(db, wake, order.id, "admin:t2") is not None
    assert await outbox.send_again(db, wake, 999, "t3") is None
    assert [key for key, _, _ in await _rows(db)] == [
        f"resend:{order.id}:t1",
        f"resend:{order.id}:admin:t2",
    ]
    assert len(wakes) == 2


async def test_one_delivery_at_a_time_writes_an_order_s_message(db: Database) -> None:
    """The order's message edit and its goods both owed: the goods go first, the edit waits
    until they are settled (storage/deliveries.py: each renders the order when it is sent,
    and two in flight could land in either order)."""
    order = await _order(db)
    async with outbox.transaction(db, lambda: None) as tx:
        await outbox.owe_edit(tx, order, "processing")
        await outbox.owe_buyer(
            tx, order, DeliveryKind.GOODS, Owed.notice(DeliveryKind.GOODS, order)
        )
    async with db.transaction() as tx:
        claimed = await deliveries.claim_due(tx, "a", limit=10, claim_seconds=30)
    assert {d.kind for d in claimed} == {DeliveryKind.ORDER_MESSAGE, DeliveryKind.GOODS}
    elsewhere = await deliveries.orders_written_elsewhere(db.reader, "a", claimed)
    assert elsewhere == set()  # only "a" claimed any
    (goods,), let_go = deliveries.one_writer_per_order(claimed, elsewhere)
    assert goods.kind is DeliveryKind.GOODS and len(let_go) == 1
    async with db.transaction() as tx:
        await deliveries.postpone(tx, let_go, at=0)
    async with db.transaction() as tx:  # the edit, due again, is not claimed beside the goods
        assert await deliveries.claim_due(tx, "b", limit=10, claim_seconds=30) == []
        await deliveries.mark_sent(tx, goods.id)
        (edit,) = await deliveries.claim_due(tx, "b", limit=10, claim_seconds=30)
    assert edit.kind is DeliveryKind.ORDER_MESSAGE
