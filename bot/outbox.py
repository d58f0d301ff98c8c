"""The outbox's one way in: what message is owed to whom, and why — each owed once.

A state change and the messages it owes commit together (DESIGN: exactly-once delivery), and a
message is owed once per *reason*: its dedupe key. The keys used to be f-strings spelled at
each call site; here a key is a `Why` (one member per reason a message is owed) plus the thing
it is about and, where a reason recurs, the step that makes it new (a refunded total, the n-th
tracking change, the tap that asked for a resend). The worker sends what is owed
(`bot/delivery.py`); the caller wakes it after the commit.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

import aiosqlite

from storage import deliveries
from storage.models import DeliveryKind, Order


class Why(enum.StrEnum):
    """Why a message is owed; the first part of its dedupe key (kept as stored since v1)."""

    GOODS = DeliveryKind.GOODS.value
    PROCESSING = DeliveryKind.PROCESSING_NOTICE.value
    FAILED = DeliveryKind.FAILED_NOTICE.value
    EXPIRED = DeliveryKind.EXPIRED_NOTICE.value
    HELD = DeliveryKind.HELD_NOTICE.value
    ORDER_MESSAGE = DeliveryKind.ORDER_MESSAGE.value  # the order's own message, per step
    REFUND = "refund"  # per refunded total
    SHIPPED = "shipped"
    TRACKING = "tracking"  # per change of the tracking number
    RESEND = "resend"  # per tap
    SALE = "sale"  # to each admin
    MISMATCH = "mismatch"  # to each admin: a payment held for their check
    SHORT = "short"  # to each admin: paid, but the stock ran short
    UNDELIVERED = "undelivered"  # to each admin, about one delivery that failed for good


# The message each buyer-facing reason owes (reasons that owe several kinds say theirs).
_BUYER_KIND = {
    Why.GOODS: DeliveryKind.GOODS,
    Why.PROCESSING: DeliveryKind.PROCESSING_NOTICE,
    Why.FAILED: DeliveryKind.FAILED_NOTICE,
    Why.EXPIRED: DeliveryKind.EXPIRED_NOTICE,
    Why.HELD: DeliveryKind.HELD_NOTICE,
    Why.ORDER_MESSAGE: DeliveryKind.ORDER_MESSAGE,
    Why.REFUND: DeliveryKind.REFUND_NOTICE,
    Why.SHIPPED: DeliveryKind.SHIPPED_NOTICE,
    Why.TRACKING: DeliveryKind.TRACKING_NOTICE,
    Why.RESEND: DeliveryKind.RESEND,
}


@dataclass(frozen=True)
class DedupeKey:
    """`why:subject[:step][:chat]` — the same reason about the same thing is owed once."""

    why: Why
    subject: int  # the order, or for UNDELIVERED the delivery
    step: str = ""
    chat: int | None = None  # for messages owed to each admin

    def __str__(self) -> str:
        parts = [self.why.value, str(self.subject)]
        if self.step:
            parts.append(self.step)
        if self.chat is not None:
            parts.append(str(self.chat))
        return ":".join(parts)


async def owe_buyer(
    tx: aiosqlite.Connection, order: Order, why: Why, *, step: str = "", detail: str = ""
) -> bool:
    """Owe the order's buyer the message `why` stands for; False when it was owed already."""
    return await deliveries.enqueue(
        tx,
        dedupe_key=str(DedupeKey(why, order.id, step)),
        order_id=order.id,
        kind=_BUYER_KIND[why],
        chat_id=order.buyer_chat_id,
        detail=detail,
    )


async def resend(tx: aiosqlite.Connection, order: Order, tap_id: str, *, by_admin: bool) -> bool:
    """The goods once more, asked for by one tap (a second tap is a second request)."""
    step = f"admin:{tap_id}" if by_admin else tap_id
    return await owe_buyer(tx, order, Why.RESEND, step=step)


async def owe_admins(
    tx: aiosqlite.Connection,
    admins: Iterable[int],
    order: Order,
    why: Why,
    kind: DeliveryKind,
    *,
    subject: int | None = None,
    detail: str = "",
) -> None:
    """Owe each admin one message about the order (or, for UNDELIVERED, about `subject`)."""
    for admin in sorted(admins):
        await deliveries.enqueue(
            tx,
            dedupe_key=str(DedupeKey(why, order.id if subject is None else subject, chat=admin)),
            order_id=order.id,
            kind=kind,
            chat_id=admin,
            detail=detail,
        )
