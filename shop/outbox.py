"""What the shop owes people, written into the outbox in the same transaction as the change.

The use-cases never render chat texts: they record *that* a message is owed (a row in
`deliveries`), and the delivery worker in `bot/` renders it at send time. Every row is owed
through one of the functions here, each with a typed dedupe key (`Owed`): a message is owed
at most once per key, however often the event that makes it arrives. A transaction opened with
`transaction` wakes the delivery worker after it commits, when it owed anything.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from shop.i18n import N_
from storage import deliveries, orders
from storage.db import Database
from storage.models import DeliveryKind, Order
from storage.sql import Connection

# The buyer cancelled on Checkout: the order expired by their choice, not by the clock.
CANCELLED_REASON = N_("cancelled by the buyer")


class Topic(enum.StrEnum):
    """What an owed message is about; the first part of its dedupe key. The buyer's notices
    use their DeliveryKind's value (`Owed.notice`)."""

    ORDER_MESSAGE = "order_message"  # the order's own message follows a step of its life
    REFUND = "refund"
    RESEND = "resend"
    SHIPPED = "shipped"
    TRACKING = "tracking"
    SALE = "sale"
    MISMATCH = "mismatch"
    SHORT = "short"
    DOUBLE_PAYMENT = "double_payment"  # a second Stars charge for a paid order, by charge id
    UNDELIVERED = "undelivered"  # keyed by the delivery that failed, not by its order
    STUCK_EVENT = "stuck_event"  # a Stripe event the inbox keeps failing to apply, by event id


@dataclass(frozen=True)
class Owed:
    """A dedupe key: the topic, what it concerns (an order, or a failed delivery) and what
    makes this one unique (a step, a refunded total, a tap). Rendered as "topic:subject[:step]",
    the format stored since the first release, so rows owed before still match."""

    topic: str
    subject: int
    step: str | int | None = None

    @classmethod
    def notice(cls, kind: DeliveryKind, order: Order) -> Owed:
        """The buyer's one notice of this kind for the order."""
        return cls(kind.value, order.id)

    def key(self, recipient: int | None = None) -> str:
        parts = [self.topic, str(self.subject)]
        parts += [] if self.step is None else [str(self.step)]
        parts += [] if recipient is None else [str(recipient)]
        return ":".join(parts)


_owed_rows: ContextVar[list[int] | None] = ContextVar("owed_rows", default=None)


@asynccontextmanager
async def transaction(
    db: Database, wake: Callable[[], None], *, durable: bool = False
) -> AsyncIterator[Connection]:
    """`db.transaction()` that wakes the delivery workers after a commit that owed at least
    one message — this process's through `wake`, every other instance's through the database's
    announcement — so no caller has to remember to (and none wakes them for nothing)."""
    owed = [0]
    token = _owed_rows.set(owed)
    try:
        async with db.transaction(durable=durable) as tx:
            yield tx
            if owed[0]:
                await deliveries.announce(tx)
    finally:
        _owed_rows.reset(token)
    if owed[0]:
        wake()


async def _owe(
    tx: Connection, key: str, order_id: int, kind: DeliveryKind, chat: int, detail: str
) -> bool:
    added = await deliveries.enqueue(
        tx, dedupe_key=key, order_id=order_id, kind=kind, chat_id=chat, detail=detail
    )
    counter = _owed_rows.get()
    if added and counter is not None:
        counter[0] += 1
    return added


async def owe_buyer(
    tx: Connection, order: Order, kind: DeliveryKind, owed: Owed, detail: str = ""
) -> bool:
    """Owe the order's buyer a message once per key; False when it was already owed."""
    return await _owe(tx, owed.key(), order.id, kind, order.buyer_chat_id, detail)


async def owe_admins(
    tx: Connection,
    admin_ids: Iterable[int],
    order_id: int,
    kind: DeliveryKind,
    owed: Owed,
    detail: str = "",
) -> None:
    """Owe every admin the same alert, once per key and admin."""
    for admin in sorted(admin_ids):
        await _owe(tx, owed.key(admin), order_id, kind, admin, detail)


async def owe_edit(tx: Connection, order: Order, step: str) -> None:
    """Owe the edit for one step of the order's life (a new status, a new refunded total):
    once per step, however often the event that makes it arrives."""
    await owe_buyer(
        tx, order, DeliveryKind.ORDER_MESSAGE, Owed(Topic.ORDER_MESSAGE, order.id, step)
    )


async def resend(tx: Connection, order: Order, tap: str) -> None:
    """Owe the buyer their goods once more: one copy per tap (`tap` names who tapped and the
    callback query's id, which Telegram makes unique)."""
    await owe_buyer(tx, order, DeliveryKind.RESEND, Owed(Topic.RESEND, order.id, tap))


async def send_again(
    db: Database, wake: Callable[[], None], order_id: int, tap: str, *, buyer: int | None = None
) -> Order | None:
    """The buyer's "Send again" and the admin's Resend: the order when its goods are owed once
    more, None when there is no such order (or, with `buyer`, not theirs) or it has none to
    resend (`Order.can_resend`). One rule for both audiences; each renders its own refusal."""
    async with transaction(db, wake) as tx:
        order = await orders.get(tx, order_id)
        if order is None or not order.can_resend:
            return None
        if buyer is not None and order.buyer_user_id != buyer:
            return None
        await resend(tx, order, tap)
    return order
