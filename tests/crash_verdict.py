"""The crash tests' verdict: every way a storm's outcome breaks a promise, and one paragraph of
what the storm did (printed, and attached to every failure).

The promises: every session Stripe says is paid has a paid/fulfilled order whose goods are in
the buyer's chat exactly once (0 lost, 0 duplicated); no unpaid order's goods were ever shown;
no stock item is reserved by an order that is over, every paid stock order holds exactly its
quantity of sold items, no key reached two orders; no order is still open; every event and
update got its 2xx; the outbox is empty and no claim on it is left; every recorded update was
handled. The short "payment received" push notice may repeat (DESIGN.md: an outbox is
at-least-once, only the goods are made idempotent by editing the order's own message); it is
counted, not forbidden."""

from __future__ import annotations

import contextlib
from collections import Counter

from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from tests.crash_audit import Audit, OrderRow, describe_chat, goods_messages, notices, refusals
from tests.crash_chaos import Chaos, KillableShop
from tests.crash_storm import Outcome, Storm

MIN_KILLS = 50  # issue 15: at least 50 SIGKILLs a storm
PAID_STATES = {"paid", "fulfilled"}
OVER_STATES = {"expired", "failed", "paid", "fulfilled", "refunded", "partially_refunded"}


def check(storm: Storm, chaos: Chaos, outcome: Outcome) -> str:
    """Assert every promise (the failure names each broken one, with the storm's paragraph);
    the paragraph when all hold, the instances' logs removed (kept only when it fails)."""
    paid = paid_orders(storm.stripe_api)
    found = problems(storm, outcome.audit, paid)
    bots = storm.bots
    own_exits = [code for bot in bots for code in bot.own_exits]
    per_instance = f" {[bot.kills for bot in bots]} per instance" if len(bots) > 1 else ""
    text = "; ".join(
        [
            f"{chaos.kills} SIGKILLs{per_instance} "
            f"({sum(bot.kills_before_healthy for bot in bots)} before /healthz said ready)",
            f"{chaos.starts} starts, Stripe trouble spells {chaos.stripe_troubles}",
            *summary(storm, outcome.audit, outcome.stranded, paid, outcome.aged),
            f"lives that ended on their own {own_exits}, logs {[str(b.log_path) for b in bots]}",
            f"stop steps cut short at the deadline {_cut_short(bots)}",
            "seconds " + ", ".join(f"{k} {v:.0f}" for k, v in outcome.phases.items()),
        ]
    )
    print(text)
    assert chaos.kills >= MIN_KILLS, text
    assert paid, text
    assert set(storm.exit_codes) == {0}, text
    # A life that ended by itself with a status (not by a signal from outside) is a crash of
    # the bot: a start that fails on a database a kill left behind would show here.
    crashed = [code for code in own_exits if code >= 0]
    assert not crashed, f"the bot exited by itself (see the log): {text}"
    assert not found, f"{len(found)} problems:\n" + "\n".join(found[:40]) + "\n" + text
    for bot in bots:
        with contextlib.suppress(OSError):
            bot.log_path.unlink()
    return text


def paid_orders(stripe_api: FakeStripe) -> set[int]:
    """The orders whose Checkout Session Stripe says is paid."""
    return {
        int(s["metadata"]["order_id"])
        for s in stripe_api.sessions.values()
        if s["payment_status"] == "paid"
    }


def problems(storm: Storm, audit: Audit, paid: set[int]) -> list[str]:
    """Every way the storm's outcome breaks a promise, as lines for the failure message."""
    shown = goods_messages(storm.telegram, storm.buyers, audit)
    pushed = notices(storm.telegram, storm.buyers)
    found: list[str] = []
    for stream in (storm.stream, storm.updates):
        if stream is not None and (stream.pending or stream.in_flight):
            found.append(f"{len(stream.pending)} webhook deliveries never got a 2xx")
    unacked = [
        e
        for f in storm.ledger.sessions.values()
        for e in f.event_ids
        if e not in storm.stream.acked
    ]
    if unacked:
        found.append(f"events never answered 2xx: {unacked}")
    found += [f"order {o}: LOST — paid at Stripe, no such order" for o in paid - set(audit.orders)]

    items_by_order: dict[int, Counter[str]] = {}
    for _, state, order_id in audit.items:
        if order_id is not None:
            items_by_order.setdefault(order_id, Counter())[state] += 1

    for order_id, order in sorted(audit.orders.items()):
        items = items_by_order.get(order_id, Counter())
        messages = shown.get(order_id, [])
        if order_id in paid:
            found += _paid_order_problems(storm.telegram, order, items, messages, pushed)
        else:
            if order.status in PAID_STATES:
                found.append(f"order {order_id}: {order.status} without a paid session")
            if messages:
                found.append(f"order {order_id}: unpaid ({order.status}) but goods shown")
            if items["sold"]:
                found.append(f"order {order_id}: unpaid ({order.status}) but items sold")
        if order.status in OVER_STATES and order_id not in paid and items["reserved"]:
            found.append(f"order {order_id}: LEAKED reservation ({order.status}, {items})")
        if order.status in ("awaiting_payment", "processing"):
            found.append(f"order {order_id}: still {order.status} after every session ended")
        if order.status == "pending":
            found.append(f"order {order_id}: still pending after its link's life was over")
    if -1 in shown:
        found.append(f"goods shown that no paid order owns: {shown[-1]}")
    if any(state == "reserved" for _, state, _ in audit.items):
        found.append("stock items still reserved after every order ended")
    if audit.deliveries["pending"]:
        found.append(f"{audit.deliveries['pending']} outbox deliveries still pending")
    if audit.claimed:
        found.append(f"{audit.claimed} outbox deliveries still claimed by an instance")
    if audit.unhandled_updates:
        found.append(f"{audit.unhandled_updates} recorded Telegram updates never handled")
    if audit.unapplied_events:
        found.append(f"{audit.unapplied_events} recorded Stripe events never applied")
    return found


def _paid_order_problems(
    telegram: FakeTelegram,
    order: OrderRow,
    items: Counter[str],
    messages: list[tuple[int, int]],
    pushed: Counter[int],
) -> list[str]:
    """A paid order: paid or fulfilled, its goods exactly once in its buyer's chat, a notice,
    and (stock) exactly its quantity of items sold."""
    order_id = order.id
    found: list[str] = []
    if order.status not in PAID_STATES:
        found.append(f"order {order_id}: paid at Stripe but {order.status}")
    if not messages:
        found.append(f"order {order_id}: LOST — paid, goods never shown")
    elif len(messages) > 1:
        found.append(
            f"order {order_id}: DUPLICATED goods in {messages}: "
            + describe_chat(telegram, order.buyer, {m for _, m in messages})
        )
    if any(chat != order.buyer for chat, _ in messages):
        found.append(f"order {order_id}: goods shown outside the buyer's chat")
    if pushed[order_id] < 1:
        found.append(f"order {order_id}: no payment notice")
    if order.kind == "digital_stock" and (items["sold"] != order.quantity or items["reserved"]):
        found.append(f"order {order_id}: items {dict(items)}, qty {order.quantity}")
    return found


def summary(
    storm: Storm, audit: Audit, stranded_audit: Audit, paid: set[int], aged: int
) -> list[str]:
    """What the storm did, as the parts of one paragraph (the kills are the caller's to say)."""
    stream, ledger, telegram = storm.stream, storm.ledger, storm.telegram
    pushed = notices(telegram, storm.buyers)
    stranded = {o.id for o in stranded_audit.orders.values() if o.status == "pending"}
    stranded_keys = sum(
        1
        for _, state, order_id in stranded_audit.items
        if state == "reserved" and order_id in stranded
    )
    repeats = sum(n - 1 for order_id, n in pushed.items() if n > 1 and order_id in paid)
    fates = Counter(f.fate for f in ledger.sessions.values())
    states = Counter(o.status for o in audit.orders.values())
    parts = [
        f"sessions {len(storm.stripe_api.sessions)} {dict(fates)}, swept at the end {storm.swept}",
        f"orders {len(audit.orders)} {dict(states)}, paid {len(paid)}",
        f"events {stream.sent_events} (+{stream.copies} duplicates), "
        f"attempts {stream.attempts}, refused {dict(stream.refused)}",
    ]
    if storm.updates is not None:
        updates = storm.updates
        parts.append(
            f"updates {updates.sent_events} (+{updates.copies} duplicates), "
            f"attempts {updates.attempts}, refused {dict(updates.refused)}"
        )
    return [
        *parts,
        f"repeated notices {repeats}, outbox {dict(audit.deliveries)}",
        f"orders stranded before Stripe {len(stranded)} holding {stranded_keys} keys "
        f"(released by reconciliation; {aged} aged)",
        f"buyer misses: cards {ledger.cards_missed}, links {ledger.links_missed}, "
        f"sold out {ledger.sold_out_seen}; told {dict(refusals(telegram, storm.buyers))}",
        f"exits {storm.exit_codes} (one per instance and life after the storm)",
    ]


def _cut_short(bots: list[KillableShop]) -> int:
    """How many stop steps the instances cut short at the stop's deadline (bot/shutdown.py):
    reported, since a stop that has to cut a step short is a stop that waited on something."""
    return sum(bot.log_path.read_text(errors="replace").count("cut short") for bot in bots)
