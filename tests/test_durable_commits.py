"""The order row a payment will later name is committed with `synchronous=FULL`; every other
commit keeps WAL's `NORMAL` (README, Operations: what a power loss can lose)."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.db import Database, fetch_one
from storage.sqlite import SqliteDatabase

FULL, NORMAL = 2, 1


async def _synchronous(db: Database, *, durable: bool) -> int:
    async with db.transaction(durable=durable) as tx:
        row = await fetch_one(tx, "PRAGMA synchronous")
    assert row is not None
    return int(row[0])


async def test_a_durable_transaction_commits_with_full_sync_and_then_goes_back(
    tmp_path: Path,
) -> None:
    db = await SqliteDatabase.open(tmp_path / "shop.db")
    try:
        assert await _synchronous(db, durable=False) == NORMAL
        assert await _synchronous(db, durable=True) == FULL
        assert await _synchronous(db, durable=False) == NORMAL  # only that one commit
    finally:
        await db.close()


async def test_a_durable_transaction_that_fails_rolls_back_and_restores_normal(
    tmp_path: Path,
) -> None:
    db = await SqliteDatabase.open(tmp_path / "shop.db")
    try:
        with pytest.raises(RuntimeError):
            async with db.transaction(durable=True) as tx:
                await tx.execute("UPDATE products SET title = 'gone'")
                raise RuntimeError("the reservation failed")
        assert await _synchronous(db, durable=False) == NORMAL
    finally:
        await db.close()
