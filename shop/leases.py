"""One-at-a-time work across the instances that share a database.

Each job takes its lease (storage/leases.py) before it runs: the reconciliation passes once per
period whichever instance's timer fires first, Telegram's set-up once per start-up wave, the
polling loop on one instance at a time. On SQLite there is one process, so it always gets them.
"""

from __future__ import annotations

import time

from shop.context import Shop
from storage import leases


def _now_ms() -> int:
    return int(time.time() * 1000)


async def take(shop: Shop, name: str, seconds: float) -> bool:
    """Take (or, as its holder, renew) the lease `name` for `seconds`; False while another
    instance holds it."""
    async with shop.db.transaction(serial=False) as tx:  # one upsert: safe side by side
        return await leases.take(
            tx, name, shop.instance, now_ms=_now_ms(), ttl_ms=int(seconds * 1000)
        )


async def release(shop: Shop, name: str) -> None:
    """Give the lease up: the next instance need not wait for it to expire."""
    async with shop.db.transaction(serial=False) as tx:
        await leases.release(tx, name, shop.instance)


async def after_restart(shop: Shop) -> None:
    """Free the leases a crashed process left, where this one is alone on the database."""
    async with shop.db.transaction(serial=False) as tx:
        await leases.after_restart(tx)


async def release_all(shop: Shop) -> None:
    """A clean stop: every lease this instance holds, at once."""
    async with shop.db.transaction(serial=False) as tx:
        await leases.release_all(tx, shop.instance)


async def holder(shop: Shop, name: str) -> str | None:
    """The instance holding the lease unexpired, if any."""
    return await leases.holder_of(shop.db.reader, name, now_ms=_now_ms())


async def renew_mine(shop: Shop, prefix: str, seconds: float) -> set[str]:
    """Renew every lease this instance holds under `prefix`; the names it still holds."""
    async with shop.db.transaction(serial=False) as tx:
        held = await leases.renew_mine(
            tx, prefix, shop.instance, now_ms=_now_ms(), ttl_ms=int(seconds * 1000)
        )
    return set(held)


async def count_fresh(shop: Shop, prefix: str, fresh_seconds: float) -> int:
    """Leases under `prefix` renewed so lately that they run `fresh_seconds` more at least."""
    fresh_until = _now_ms() + int(fresh_seconds * 1000)
    return await leases.count_fresh(shop.db.reader, prefix, fresh_until_ms=fresh_until)


async def held_names(shop: Shop, prefix: str) -> set[str]:
    """Lease names under `prefix` that someone holds unexpired."""
    return await leases.held_names(shop.db.reader, prefix, now_ms=_now_ms())
