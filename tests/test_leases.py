"""Leases for one-at-a-time work (shop/leases.py) on either engine: two instances asking at
once get one holder; the holder renews, the other waits for the end of the lease or its
release; a process alone on a SQLite file frees a crashed predecessor's leases at start."""

from __future__ import annotations

import asyncio
import dataclasses
import time

from shop import leases
from shop.context import Shop, instance_name
from tests.backend import ON_POSTGRES


def _other_instance(shop: Shop) -> Shop:
    return dataclasses.replace(shop, instance=instance_name())


async def test_two_instances_asking_at_once_get_one_holder(shop: Shop) -> None:
    other = _other_instance(shop)
    won = await asyncio.gather(*(leases.take(s, "job", 60) for s in (shop, other)))
    assert sorted(won) == [False, True]
    holder, waiter = (shop, other) if won[0] else (other, shop)
    assert await leases.take(holder, "job", 60)  # its holder renews it
    assert not await leases.take(waiter, "job", 60)
    await leases.release(holder, "job")
    assert await leases.take(waiter, "job", 60)
    assert await leases.holder(shop, "job") == waiter.instance


async def test_an_expired_lease_goes_to_the_next_instance(shop: Shop) -> None:
    other = _other_instance(shop)
    assert await leases.take(shop, "job", 0.2)
    assert not await leases.take(other, "job", 60)
    await asyncio.sleep(0.3)  # the holder died: nobody renewed it
    assert await leases.take(other, "job", 60)
    assert not await leases.take(shop, "job", 60)


async def test_a_restart_frees_a_crashed_process_leases_only_where_it_is_alone(shop: Shop) -> None:
    crashed = _other_instance(shop)
    assert await leases.take(crashed, "reconcile", 300)
    await leases.after_restart(shop)
    started = time.monotonic()
    assert await leases.take(shop, "reconcile", 300) is (not ON_POSTGRES)
    assert time.monotonic() - started < 1
