"""SIGKILL the real bot process dozens of times while people buy, then audit everything.

Why: "exactly once" is only worth something if it survives the process dying on any line — in
the middle of a Buy tap, between committing an event and answering Stripe, between Telegram
accepting the receipt and the outbox marking it sent, during start-up. This test runs
`python -m bot` (polling mode) against the Telegram and Stripe fakes in this process, lets
buyers open cards and tap Buy through the Telegram fake while the test pays, settles, expires
and abandons their Checkout Sessions and delivers the signed events the way Stripe does (retried
until a 2xx, some twice, some overtaken by later ones), and kills the process with SIGKILL at
seeded random moments. After a last restart and a quiet moment it checks:

* every paid session's order is paid/fulfilled and its goods are in the buyer's chat exactly
  once (0 lost, 0 duplicated); no unpaid order's goods were ever shown;
* no stock item is reserved by an order that is over (expired, failed, paid), every paid stock
  order holds exactly its quantity of sold items, and no key reached two orders;
* the only orders still open are ones the kill caught before Stripe had a session for them.

The short "payment received" push notice may repeat (DESIGN.md: an outbox is at-least-once,
only the goods are made idempotent by editing the order's own message); it is counted, not
forbidden. A Buy tap that Telegram re-delivers after a restart may reuse or create a session;
the audit follows sessions, not taps.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import pytest

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import ApiError, FakeTelegram
from storage.db import SqliteFile
from tests.conftest import ADMIN_ID, BUYER_ID
from tests.crash_audit import SqliteAudit
from tests.crash_chaos import Chaos, KillableShop
from tests.crash_storm import Storm, seed_products
from tests.crash_verdict import check
from tests.crash_webhooks import stripe_stream
from tests.story import add_product, buy, open_card, order_of, pay_and_notify, session_of, settled

# The SQLite crash storm: the file's own consistency (the PostgreSQL storm is multi-instance).
pytestmark = pytest.mark.sqlite_file

SEED = 424242
KILLS = 55
BUYERS = 10


@pytest.mark.slow
@pytest.mark.timeout(480)
async def test_sigkill_storm_loses_nothing_and_repeats_nothing(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    db_path = tmp_path / "shop.db"
    specs, markers = await seed_products(SqliteFile(db_path))
    telegram.user_sends(ADMIN_ID, "/help", first_name="Admin", queue=False)
    bot = KillableShop(telegram, stripe_api, db_path, ADMIN_ID, workdir=tmp_path)
    stream = stripe_stream(stripe_api, lambda: [bot.url], random.Random(SEED + 1))
    buyers = [720001 + n for n in range(BUYERS)]
    storm = Storm(telegram, stripe_api, SqliteAudit(db_path), [bot], stream, buyers)
    chaos = Chaos([bot], random.Random(SEED + 2), KILLS, stripe_api)
    check(storm, chaos, await storm.run(chaos, specs, markers, SEED))


async def test_product_bug_goods_land_in_two_messages_when_a_second_pay_message_overtakes_a_retry(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PRODUCT BUG (found by the crash test under CPU load, pinned down here without kills):
    the goods are delivered by editing `orders.message_id`, but a second Buy tap for the same
    still-open order (a double tap, or Telegram redelivering the tap after a restart) replies
    with a fresh pay message and overwrites `message_id`. When that happens after the first
    goods attempt edited the old message and before the attempt was marked sent (a crash, or as
    here a transient failure of the push notice), the retry edits the *new* message too: the
    goods appear twice. Fix idea: never move `message_id` once it is set (update it only where
    it is NULL), or pin the message the first goods attempt edited in the delivery row."""
    product_id = await add_product(app, delivery_text="GOODS-exactly-once")
    card = await open_card(telegram, BUYER_ID, product_id)
    first = await buy(telegram, BUYER_ID, card)
    session_id = session_of(stripe_api, first)

    # Telegram holds the second pay message until the first goods attempt is over, and fails
    # that attempt's push notice once (a 502), so the outbox retries the delivery.
    original = telegram._handlers["sendMessage"]
    second_reply, release, notice_failed = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def send_message(params: dict[str, Any]) -> Any:
        text = str(params.get("text", ""))
        if params.get("chat_id") == BUYER_ID and text.startswith("🧾") and not release.is_set():
            second_reply.set()
            await release.wait()
        if "Payment received" in text and not notice_failed.is_set():
            notice_failed.set()
            raise ApiError(502, "Bad Gateway")
        return await original(params)

    monkeypatch.setitem(telegram._handlers, "sendMessage", send_message)
    telegram.user_taps(BUYER_ID, card, card.button("Buy")["callback_data"])
    await asyncio.wait_for(second_reply.wait(), 30)
    assert await pay_and_notify(stripe_api, session_id) == 200
    await asyncio.wait_for(notice_failed.wait(), 30)
    release.set()
    await telegram.wait_for(BUYER_ID, lambda m: "Payment received" in (m.text or ""), timeout=30)
    await settled(app)

    goods = [m.message_id for m in telegram.messages(BUYER_ID) if "GOODS-exactly" in (m.text or "")]
    assert goods == [first.message_id], (
        f"the goods are in messages {goods}; the order's message is now "
        f"{(await order_of(app, session_id)).message_id}"
    )
