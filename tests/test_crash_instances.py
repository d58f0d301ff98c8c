"""Three instances on one PostgreSQL database, SIGKILLed one at a time dozens of times while
people buy, then audit everything (issue 15, "Tests and benchmarks": 0 lost, 0 goods twice,
0 leaked reservations).

The SQLite storm (test_crash.py) kills the only process; here the shop keeps running on the
others while one dies, so what is tested is the hand-over between instances through the
database alone: webhook updates recorded by one instance and handled by whichever holds the
chat's partition, partitions taken over when a dead holder's lease runs out, outbox claims a
dead instance left expiring and sent by another, Stripe events answered by any instance,
reservations made by an instance that then died.

How: `python -m bot` three times in webhook mode (the mode behind a load balancer: every
instance takes Telegram's updates and Stripe's events, the update inbox spreads the chats over
the instances; in polling mode only the poller would see buyers at all) on a PostgreSQL
server of the test's own. The test is the balancer and both senders: buyers' messages and taps
and Stripe's signed events are posted to a random instance, dead or starting ones included,
retried until a 2xx (Telegram's updates some twice; Stripe's events some twice and some
overtaken by later ones), while the buyers pay, pay late, let links expire or walk away
(tests/crash_shoppers.py) and Stripe fails session creations now and then.

The rhythm (tests/crash_chaos.py, RollingChaos) keeps the shop's own lease and claim times
(10 s partition leases, 30 s outbox claims) rather than shortening them with a test-only
setting: each cycle kills one random instance in the middle of its work, crash-loops it a few
times (killed during start-up, right after it is ready, or after a little work), brings it
back, and the next cycle starts only when the first kill's partition leases have expired and
been taken over (PERIOD = the lease + a rebalancing round). So at most one instance's chats
wait for a hand-over at a time, as in a real outage of one machine, and the kills still come
every two seconds or so; a dead instance's outbox claims outlast a cycle, which the settle
phase waits out. Then: the buyers stop, every open session expires (Stripe's events for
them), the outbox and the inbox empty, all stop; "an hour later" the open orders' links and
the reconciliation's lease are over, the three start again and one of them reconciles; all
stop cleanly (exit 0) and the audit reads the database through psycopg and the stand-ins'
chats (tests/crash_verdict.py says every promise it checks).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import update_inbox
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from storage.db import PostgresServer
from testkit.postgres import PostgresCluster
from tests.conftest import ADMIN_ID
from tests.crash_audit import PostgresAudit
from tests.crash_chaos import KillableShop, RollingChaos
from tests.crash_storm import Storm, seed_products
from tests.crash_verdict import check
from tests.crash_webhooks import stripe_stream, telegram_stream

pytestmark = [pytest.mark.postgresql_only, pytest.mark.slow, pytest.mark.timeout(300)]

SEED = 515151
INSTANCES = 3
KILLS = 55
KILLS_EACH = 10  # at least, per instance: the kills are spread
BUYERS = 12
SECRET = "storm_Secret-0123"
# A cycle lasts until a dead instance's chats are someone else's again.
PERIOD = update_inbox.LEASE_SECONDS + update_inbox.REBALANCE_SECONDS


@pytest.fixture
def storm_database() -> Iterator[str]:
    """A PostgreSQL server of the test's own (the instances' pools and nobody else's)."""
    cluster = PostgresCluster.start()
    try:
        yield cluster.create_database("storm")
    finally:
        cluster.stop()


async def test_three_instances_killed_one_at_a_time_lose_nothing_and_repeat_nothing(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe, storm_database: str
) -> None:
    specs, markers = await seed_products(PostgresServer(storm_database))
    telegram.user_sends(ADMIN_ID, "/help", first_name="Admin", queue=False)
    webhook_mode = {"TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": SECRET}
    bots = [
        KillableShop(
            telegram,
            stripe_api,
            storm_database,
            ADMIN_ID,
            workdir=tmp_path,
            name=f"shop-{n}",
            extra=webhook_mode,
        )
        for n in range(INSTANCES)
    ]

    def balancer() -> list[str]:
        return [bot.url for bot in bots]

    stream = stripe_stream(stripe_api, balancer, random.Random(SEED + 1))
    updates = telegram_stream(SECRET, balancer, random.Random(SEED + 3))
    buyers = [730001 + n for n in range(BUYERS)]
    db = PostgresAudit(storm_database)
    storm = Storm(telegram, stripe_api, db, bots, stream, buyers, updates=updates)
    chaos = RollingChaos(bots, random.Random(SEED + 2), KILLS, stripe_api, period=PERIOD)
    text = check(storm, chaos, await storm.run(chaos, specs, markers, SEED))
    assert all(bot.kills >= KILLS_EACH for bot in bots), text
