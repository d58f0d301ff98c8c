"""Order repository. Status changes go through `transition`, which enforces the allow-list."""

from __future__ import annotations

import secrets
from typing import Any

import aiosqlite

from storage.clock import now
from storage.db import fetch_all, fetch_one
from storage.models import (
    OPEN_STATES,
    PAID_STATES,
    Order,
    OrderStatus,
    ProductKind,
    ShippingStage,
    can_move_shipping,
    can_transition,
)

_UPDATABLE = frozenset(
    {"checkout_session_id", "checkout_url", "payment_intent_id", "message_id", "failure_reason",
     "paid_at", "shipping_address", "shipped_at", "tracking", "amount_refunded",
     "amount_discount", "amount_charged"}
)  # fmt: skip


async def create(
    conn: aiosqlite.Connection,
    *,
    buyer_user_id: int,
    buyer_chat_id: int,
    buyer_name: str,
    product_id: int,
    product_title: str,
    quantity: int,
    unit_amount: int,
    currency: str,
    expires_at: int,
    product_kind: ProductKind = ProductKind.DIGITAL_TEXT,
) -> Order:
    """Insert a pending order; its `ref` is random so idempotency keys never collide across
    databases (order ids restart when a merchant starts afresh, Stripe keeps keys for 24 h)."""
    ts = now()
    cursor = await conn.execute(
        "INSERT INTO orders (ref, buyer_user_id, buyer_chat_id, buyer_name, product_id,"
        " product_title, quantity, unit_amount, amount_total, currency, status, expires_at,"
        " product_kind, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            secrets.token_hex(12),
            buyer_user_id,
            buyer_chat_id,
            buyer_name,
            product_id,
            product_title,
            quantity,
            unit_amount,
            unit_amount * quantity,
            currency,
            OrderStatus.PENDING.value,
            expires_at,
            product_kind.value,
            ts,
            ts,
        ),
    )
    assert cursor.lastrowid is not None
    order = await get(conn, cursor.lastrowid)
    assert order is not None
    return order


async def get(conn: aiosqlite.Connection, order_id: int) -> Order | None:
    row = await fetch_one(conn, "SELECT * FROM orders WHERE id = ?", (order_id,))
    return Order.from_row(row) if row else None


async def get_many(conn: aiosqlite.Connection, order_ids: list[int]) -> list[Order]:
    """Orders by id, in id order; ids that do not exist are left out."""
    if not order_ids:
        return []
    marks = ",".join("?" * len(order_ids))
    rows = await fetch_all(
        conn, f"SELECT * FROM orders WHERE id IN ({marks}) ORDER BY id", tuple(order_ids)
    )
    return [Order.from_row(row) for row in rows]


async def by_session(conn: aiosqlite.Connection, session_id: str) -> Order | None:
    row = await fetch_one(conn, "SELECT * FROM orders WHERE checkout_session_id = ?", (session_id,))
    return Order.from_row(row) if row else None


async def by_payment_intent(conn: aiosqlite.Connection, payment_intent_id: str) -> Order | None:
    row = await fetch_one(
        conn, "SELECT * FROM orders WHERE payment_intent_id = ?", (payment_intent_id,)
    )
    return Order.from_row(row) if row else None


async def open_for(
    conn: aiosqlite.Connection,
    *,
    buyer_user_id: int,
    product_id: int,
    quantity: int,
    valid_after: int,
) -> Order | None:
    """The buyer's still-payable session for the same purchase, so a second tap reuses it."""
    row = await fetch_one(
        conn,
        "SELECT * FROM orders WHERE buyer_user_id = ? AND product_id = ? AND quantity = ?"
        " AND status = ? AND checkout_url IS NOT NULL AND expires_at > ?"
        " ORDER BY id DESC LIMIT 1",
        (buyer_user_id, product_id, quantity, OrderStatus.AWAITING_PAYMENT.value, valid_after),
    )
    return Order.from_row(row) if row else None


async def count_open(conn: aiosqlite.Connection, buyer_user_id: int, at: int) -> int:
    """The buyer's payment links that can still be paid (or are being made)."""
    row = await fetch_one(
        conn,
        "SELECT COUNT(*) FROM orders WHERE buyer_user_id = ? AND status IN (?, ?)"
        " AND expires_at > ?",
        (buyer_user_id, OrderStatus.PENDING.value, OrderStatus.AWAITING_PAYMENT.value, at),
    )
    return int(row[0]) if row else 0


async def for_buyer(
    conn: aiosqlite.Connection, buyer_user_id: int, *, offset: int, limit: int
) -> list[Order]:
    """The buyer's orders, newest first, leaving out attempts that never got a payment link."""
    rows = await fetch_all(
        conn,
        "SELECT * FROM orders WHERE buyer_user_id = ? AND status != ?"
        " ORDER BY id DESC LIMIT ? OFFSET ?",
        (buyer_user_id, OrderStatus.PENDING.value, limit, offset),
    )
    return [Order.from_row(row) for row in rows]


async def count_for_buyer(conn: aiosqlite.Connection, buyer_user_id: int) -> int:
    row = await fetch_one(
        conn,
        "SELECT COUNT(*) FROM orders WHERE buyer_user_id = ? AND status != ?",
        (buyer_user_id, OrderStatus.PENDING.value),
    )
    return int(row[0]) if row else 0


async def update(conn: aiosqlite.Connection, order_id: int, **fields: Any) -> None:
    """Set non-status fields (session id, message id, …)."""
    _check_fields(fields, _UPDATABLE)
    assignments = ", ".join(f"{name} = ?" for name in fields)
    await conn.execute(
        f"UPDATE orders SET {assignments}, updated_at = ? WHERE id = ?",  # noqa: S608
        (*fields.values(), now(), order_id),
    )


async def claim_message(conn: aiosqlite.Connection, order_id: int, message_id: int) -> bool:
    """Make `message_id` the order's own message unless it already has one."""
    cursor = await conn.execute(
        "UPDATE orders SET message_id = ?, updated_at = ? WHERE id = ? AND message_id IS NULL",
        (message_id, now(), order_id),
    )
    return cursor.rowcount == 1


async def transition(
    conn: aiosqlite.Connection, order: Order, new: OrderStatus, **fields: Any
) -> bool:
    """Move the order to `new` if the allow-list permits; False (and no change) otherwise.

    The `WHERE status = ?` guard makes the move conditional on the state we decided from."""
    if not can_transition(order.status, new):
        return False
    _check_fields(fields, _UPDATABLE)
    assignments = "".join(f", {name} = ?" for name in fields)
    cursor = await conn.execute(
        f"UPDATE orders SET status = ?{assignments}, updated_at = ?"  # noqa: S608
        " WHERE id = ? AND status = ?",
        (new.value, *fields.values(), now(), order.id, order.status.value),
    )
    return cursor.rowcount == 1


_SHIPPING_FIELDS = frozenset({"shipped_at", "tracking", "delivered_at"})


def _check_fields(fields: dict[str, Any], allowed: frozenset[str]) -> None:
    """Column names are spelled into SQL: only known ones may pass."""
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")


async def move_shipping(
    conn: aiosqlite.Connection, order: Order, new: ShippingStage, **fields: Any
) -> bool:
    """Move a paid physical order to stage `new` (ship it, change its tracking number, mark
    it delivered) if SHIPPING_MOVES permits; False (and no change) otherwise.

    Guarded by everything the stage was decided from, like `transition`, so two admins acting
    on the same order at once change it, and tell the buyer, once."""
    if not can_move_shipping(order.shipping_stage, new):
        return False
    _check_fields(fields, _SHIPPING_FIELDS)
    assignments = "".join(f", {name} = ?" for name in fields)
    cursor = await conn.execute(
        f"UPDATE orders SET updated_at = ?{assignments}"  # noqa: S608
        " WHERE id = ? AND status = ? AND shipped_at IS ? AND tracking IS ?"
        " AND delivered_at IS ?",
        (
            now(),
            *fields.values(),
            order.id,
            order.status.value,
            order.shipped_at,
            order.tracking,
            order.delivered_at,
        ),
    )
    return cursor.rowcount == 1


# Read through the partial index orders_to_ship (migration 0006), which spells the same
# condition: the planner would otherwise walk every paid order of the shop's history by status.
_TO_SHIP = (
    " INDEXED BY orders_to_ship WHERE product_kind = 'physical' AND shipped_at IS NULL"
    f" AND status IN ({', '.join(repr(s.value) for s in sorted(PAID_STATES))})"
)


async def to_ship(conn: aiosqlite.Connection, *, offset: int, limit: int) -> list[Order]:
    """Paid physical orders not marked shipped yet, newest first."""
    rows = await fetch_all(
        conn,
        f"SELECT * FROM orders{_TO_SHIP} ORDER BY id DESC LIMIT ? OFFSET ?",  # noqa: S608
        (limit, offset),
    )
    return [Order.from_row(row) for row in rows]


async def count_to_ship(conn: aiosqlite.Connection) -> int:
    row = await fetch_one(conn, f"SELECT COUNT(*) FROM orders{_TO_SHIP}")  # noqa: S608
    return int(row[0]) if row else 0


def is_open(order: Order) -> bool:
    return order.status in OPEN_STATES


async def recent(
    conn: aiosqlite.Connection,
    *,
    offset: int,
    limit: int,
    statuses: frozenset[OrderStatus] | None = None,
) -> list[Order]:
    """All buyers' orders, newest first, optionally only in some states (admin view)."""
    where, args = _status_filter(statuses)
    rows = await fetch_all(
        conn,
        f"SELECT * FROM orders{where} ORDER BY id DESC LIMIT ? OFFSET ?",  # noqa: S608
        (*args, limit, offset),
    )
    return [Order.from_row(row) for row in rows]


async def count(
    conn: aiosqlite.Connection, *, statuses: frozenset[OrderStatus] | None = None
) -> int:
    """How many orders (in these states): one row per state from `order_counts`, which
    triggers keep (migration 0003), so the admin's list never counts a million rows."""
    where, args = _status_filter(statuses)
    row = await fetch_one(conn, f"SELECT COALESCE(SUM(n), 0) FROM order_counts{where}", args)  # noqa: S608
    return int(row[0]) if row else 0


async def oldest_created_at(
    conn: aiosqlite.Connection, statuses: frozenset[OrderStatus]
) -> int | None:
    """When the oldest order in these states was created: how far back reconciliation must
    look at Stripe's sessions (a session is always created after its order)."""
    where, args = _status_filter(statuses)
    row = await fetch_one(conn, f"SELECT MIN(created_at) FROM orders{where}", args)  # noqa: S608
    return int(row[0]) if row and row[0] is not None else None


async def open_expired(conn: aiosqlite.Connection, *, before: int, limit: int) -> list[Order]:
    """Orders still waiting for a payment whose link expired before `before`, oldest first:
    their sessions are over, so reconciliation settles them."""
    rows = await fetch_all(
        conn,
        "SELECT * FROM orders WHERE status IN (?, ?) AND expires_at < ?"
        " ORDER BY expires_at, id LIMIT ?",
        (OrderStatus.PENDING.value, OrderStatus.AWAITING_PAYMENT.value, before, limit),
    )
    return [Order.from_row(row) for row in rows]


async def processing_since_before(
    conn: aiosqlite.Connection, *, before: int, limit: int
) -> list[Order]:
    """Orders whose delayed payment (a bank debit) was still being confirmed at `before`,
    longest-waiting first."""
    rows = await fetch_all(
        conn,
        "SELECT * FROM orders WHERE status = ? AND updated_at < ? ORDER BY updated_at, id LIMIT ?",
        (OrderStatus.PROCESSING.value, before, limit),
    )
    return [Order.from_row(row) for row in rows]


def _status_filter(statuses: frozenset[OrderStatus] | None) -> tuple[str, tuple[str, ...]]:
    if not statuses:
        return "", ()
    marks = ", ".join("?" for _ in statuses)
    return f" WHERE status IN ({marks})", tuple(sorted(s.value for s in statuses))
