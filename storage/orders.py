"""Order repository. Status changes go through `transition`, which enforces the allow-list."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage.clock import now
from storage.models import (
    PAID_STATES,
    Order,
    OrderLine,
    OrderStatus,
    ProductKind,
    Rail,
    ShippingStage,
    basket_of,
    can_move_shipping,
    can_transition,
)
from storage.sql import Connection, Row, fetch_all, fetch_one

# Stripe Checkout takes at most 100 line items per session in payment mode.
MAX_LINES = 100

_UPDATABLE = frozenset(
    {"checkout_session_id", "checkout_url", "payment_intent_id", "message_id", "failure_reason",
     "paid_at", "shipping_address", "shipped_at", "tracking", "amount_refunded",
     "amount_discount", "amount_charged", "telegram_payment_charge_id"}
)  # fmt: skip


@dataclass(frozen=True)
class NewLine:
    """A line of an order being made, with the product's figures read in the same transaction
    (never from the client)."""

    product_id: int
    title: str
    kind: ProductKind
    unit_amount: int
    quantity: int


async def create(
    conn: Connection,
    *,
    buyer_user_id: int,
    buyer_chat_id: int,
    buyer_name: str,
    lines: Sequence[NewLine],
    currency: str,
    expires_at: int,
    from_cart: bool = False,
    rail: Rail = Rail.STRIPE,
    language: str | None = None,
) -> Order:
    """Insert a pending order and its lines, paid through `rail`; its `ref` is random so
    idempotency keys never collide across databases (order ids restart when a merchant starts
    afresh, Stripe keeps keys for 24 h) and a Stars invoice's payload names only this order."""
    if not 1 <= len(lines) <= MAX_LINES:
        raise ValueError(f"an order has 1 to {MAX_LINES} lines, not {len(lines)}")
    ts = now()
    inserted = await fetch_one(
        conn,
        "INSERT INTO orders (ref, buyer_user_id, buyer_chat_id, buyer_name, basket, ships,"
        " from_cart, amount_total, currency, status, expires_at, created_at, updated_at, rail,"
        " language) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            secrets.token_hex(12),
            buyer_user_id,
            buyer_chat_id,
            buyer_name,
            basket_of([(line.product_id, line.quantity) for line in lines]),
            any(line.kind is ProductKind.PHYSICAL for line in lines),
            from_cart,
            sum(line.unit_amount * line.quantity for line in lines),
            currency,
            OrderStatus.PENDING.value,
            expires_at,
            ts,
            ts,
            rail.value,
            language,
        ),
    )
    assert inserted is not None
    order_id = int(inserted[0])
    await conn.executemany(
        "INSERT INTO order_lines (order_id, line_no, product_id, title, kind, unit_amount,"
        " quantity) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (order_id, n, line.product_id, line.title, line.kind.value, line.unit_amount,
             line.quantity)
            for n, line in enumerate(lines)
        ],
    )  # fmt: skip
    order = await get(conn, order_id)
    assert order is not None
    return order


async def _with_lines(conn: Connection, rows: Sequence[Row]) -> list[Order]:
    """Order rows as Orders with their lines, read in one more query for all of them."""
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    marks = ",".join("?" * len(ids))
    lines: dict[int, list[OrderLine]] = {order_id: [] for order_id in ids}
    for line in await fetch_all(
        conn,
        f"SELECT * FROM order_lines WHERE order_id IN ({marks})",
        ids,  # noqa: S608
    ):
        lines[line["order_id"]].append(OrderLine.from_row(line))
    return [Order.from_row(row, lines[row["id"]]) for row in rows]


async def _one(conn: Connection, sql: str, args: Sequence[object] = ()) -> Order | None:
    row = await fetch_one(conn, sql, args)
    return (await _with_lines(conn, [row]))[0] if row else None


async def _many(conn: Connection, sql: str, args: Sequence[object] = ()) -> list[Order]:
    return await _with_lines(conn, await fetch_all(conn, sql, args))


async def get(conn: Connection, order_id: int) -> Order | None:
    return await _one(conn, "SELECT * FROM orders WHERE id = ?", (order_id,))


async def get_many(conn: Connection, order_ids: list[int]) -> list[Order]:
    """Orders by id, in id order; ids that do not exist are left out."""
    if not order_ids:
        return []
    marks = ",".join("?" * len(order_ids))
    return await _many(
        conn, f"SELECT * FROM orders WHERE id IN ({marks}) ORDER BY id", tuple(order_ids)
    )


async def by_session(conn: Connection, session_id: str) -> Order | None:
    return await _one(conn, "SELECT * FROM orders WHERE checkout_session_id = ?", (session_id,))


async def by_payment_intent(conn: Connection, payment_intent_id: str) -> Order | None:
    return await _one(
        conn, "SELECT * FROM orders WHERE payment_intent_id = ?", (payment_intent_id,)
    )


async def by_ref(conn: Connection, ref: str) -> Order | None:
    """The order a Stars invoice's payload names."""
    return await _one(conn, "SELECT * FROM orders WHERE ref = ?", (ref,))


async def by_star_charge(conn: Connection, charge_id: str) -> Order | None:
    """The order a Telegram Stars payment was recorded on, if it was."""
    return await _one(
        conn, "SELECT * FROM orders WHERE telegram_payment_charge_id = ?", (charge_id,)
    )


async def open_for(
    conn: Connection,
    *,
    buyer_user_id: int,
    basket: str,
    valid_after: int,
    rail: Rail = Rail.STRIPE,
) -> Order | None:
    """The buyer's still-payable order on `rail` for the same purchase (the same products and
    quantities, see `basket_of`), so a second tap reuses it: a Stripe order once it has its
    Checkout URL, a Stars order (payable by its invoice, made from the row) at once."""
    return await _one(
        conn,
        "SELECT * FROM orders WHERE buyer_user_id = ? AND basket = ?"
        " AND status = ? AND rail = ? AND (rail = ? OR checkout_url IS NOT NULL)"
        " AND expires_at > ? ORDER BY id DESC LIMIT 1",
        (
            buyer_user_id,
            basket,
            OrderStatus.AWAITING_PAYMENT.value,
            rail.value,
            Rail.STARS.value,
            valid_after,
        ),
    )


async def purchase_in_flight(
    conn: Connection, *, buyer_user_id: int, basket: str, rail: Rail, since: int
) -> bool:
    """Whether the buyer has an order for the same purchase written at or after `since` that
    is still pending: its Checkout Session is being made right now, by this instance or
    another. (A unique index could not tell that from an order a crash left pending, which
    must not block the buyer until it expires.)"""
    row = await fetch_one(
        conn,
        "SELECT 1 FROM orders WHERE buyer_user_id = ? AND basket = ? AND rail = ?"
        " AND status = ? AND created_at >= ? LIMIT 1",
        (buyer_user_id, basket, rail.value, OrderStatus.PENDING.value, since),
    )
    return row is not None


async def count_open(conn: Connection, buyer_user_id: int, at: int) -> int:
    """The buyer's payment links that can still be paid (or are being made)."""
    row = await fetch_one(
        conn,
        "SELECT COUNT(*) FROM orders WHERE buyer_user_id = ? AND status IN (?, ?)"
        " AND expires_at > ?",
        (buyer_user_id, OrderStatus.PENDING.value, OrderStatus.AWAITING_PAYMENT.value, at),
    )
    return int(row[0]) if row else 0


async def for_buyer(
    conn: Connection, buyer_user_id: int, *, offset: int, limit: int
) -> list[Order]:
    """The buyer's orders, newest first, leaving out attempts that never got a payment link."""
    return await _many(
        conn,
        "SELECT * FROM orders WHERE buyer_user_id = ? AND status != ?"
        " ORDER BY id DESC LIMIT ? OFFSET ?",
        (buyer_user_id, OrderStatus.PENDING.value, limit, offset),
    )


async def count_for_buyer(conn: Connection, buyer_user_id: int) -> int:
    row = await fetch_one(
        conn,
        "SELECT COUNT(*) FROM orders WHERE buyer_user_id = ? AND status != ?",
        (buyer_user_id, OrderStatus.PENDING.value),
    )
    return int(row[0]) if row else 0


async def update(conn: Connection, order_id: int, **fields: Any) -> None:
    """Set non-status fields (session id, message id, …)."""
    _check_fields(fields, _UPDATABLE)
    assignments = ", ".join(f"{name} = ?" for name in fields)
    await conn.execute(
        f"UPDATE orders SET {assignments}, updated_at = ? WHERE id = ?",  # noqa: S608
        (*fields.values(), now(), order_id),
    )


async def any_on_rail(conn: Connection, rail: Rail) -> bool:
    """Whether any order was ever made on `rail` (a shop that never sold for Stars has no
    Stars payment to look for)."""
    row = await fetch_one(conn, "SELECT 1 FROM orders WHERE rail = ? LIMIT 1", (rail.value,))
    return row is not None


async def transition(conn: Connection, order: Order, new: OrderStatus, **fields: Any) -> bool:
    """Move the order to `new` if the allow-list permits; False (and no change) otherwise.

    The `WHERE status = ?` guard makes the move conditional on the state we decided from."""
    if not can_transition(order.status, new):
        return False
    _check_fields(fields, _UPDATABLE)
    assignments = "".join(f", {name} = ?" for name in fields)
    changed = await conn.execute(
        f"UPDATE orders SET status = ?{assignments}, updated_at = ?"  # noqa: S608
        " WHERE id = ? AND status = ?",
        (new.value, *fields.values(), now(), order.id, order.status.value),
    )
    return changed == 1


_SHIPPING_FIELDS = frozenset({"shipped_at", "tracking", "delivered_at"})


def _check_fields(fields: dict[str, Any], allowed: frozenset[str]) -> None:
    """Column names are spelled into SQL: only known ones may pass."""
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")


async def move_shipping(conn: Connection, order: Order, new: ShippingStage, **fields: Any) -> bool:
    """Move a paid physical order to stage `new` (ship it, change its tracking number, mark
    it delivered) if SHIPPING_MOVES permits; False (and no change) otherwise.

    Guarded by everything the stage was decided from, like `transition`, so two admins acting
    on the same order at once change it, and tell the buyer, once."""
    if not can_move_shipping(order.shipping_stage, new):
        return False
    _check_fields(fields, _SHIPPING_FIELDS)
    assignments = "".join(f", {name} = ?" for name in fields)
    changed = await conn.execute(
        f"UPDATE orders SET updated_at = ?{assignments}"  # noqa: S608
        " WHERE id = ? AND status = ? AND shipped_at IS NOT DISTINCT FROM ?"
        " AND tracking IS NOT DISTINCT FROM ? AND delivered_at IS NOT DISTINCT FROM ?",
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
    return changed == 1


# Read through the partial index orders_to_ship (migration 0006), which spells the same
# condition: the planner would otherwise walk every paid order of the shop's history by status.
_TO_SHIP = (
    " INDEXED BY orders_to_ship WHERE ships = 1 AND shipped_at IS NULL"
    f" AND status IN ({', '.join(repr(s.value) for s in sorted(PAID_STATES))})"
)


async def to_ship(conn: Connection, *, offset: int, limit: int) -> list[Order]:
    """Paid physical orders not marked shipped yet, newest first."""
    return await _many(
        conn,
        f"SELECT * FROM orders{_TO_SHIP} ORDER BY id DESC LIMIT ? OFFSET ?",  # noqa: S608
        (limit, offset),
    )


async def count_to_ship(conn: Connection) -> int:
    row = await fetch_one(conn, f"SELECT COUNT(*) FROM orders{_TO_SHIP}")  # noqa: S608
    return int(row[0]) if row else 0


async def recent(
    conn: Connection,
    *,
    offset: int,
    limit: int,
    statuses: frozenset[OrderStatus] | None = None,
) -> list[Order]:
    """All buyers' orders, newest first, optionally only in some states (admin view)."""
    where, args = _status_filter(statuses)
    return await _many(
        conn,
        f"SELECT * FROM orders{where} ORDER BY id DESC LIMIT ? OFFSET ?",  # noqa: S608
        (*args, limit, offset),
    )


async def count(conn: Connection, *, statuses: frozenset[OrderStatus] | None = None) -> int:
    """How many orders (in these states): one row per state from `order_counts`, which
    triggers keep (migration 0003), so the admin's list never counts a million rows."""
    where, args = _status_filter(statuses)
    row = await fetch_one(conn, f"SELECT COALESCE(SUM(n), 0) FROM order_counts{where}", args)  # noqa: S608
    return int(row[0]) if row else 0


async def oldest_created_at(
    conn: Connection, statuses: frozenset[OrderStatus], rail: Rail = Rail.STRIPE
) -> int | None:
    """When the oldest order on `rail` in these states was created: how far back
    reconciliation must look at Stripe's sessions (a session is always created after its
    order; Stars orders have none)."""
    where, args = _status_filter(statuses)
    row = await fetch_one(
        conn,
        f"SELECT MIN(created_at) FROM orders{where}{' AND' if where else ' WHERE'} rail = ?",  # noqa: S608
        (*args, rail.value),
    )
    return int(row[0]) if row and row[0] is not None else None


async def open_expired(
    conn: Connection, *, before: int, limit: int, rail: Rail = Rail.STRIPE
) -> list[Order]:
    """Orders on `rail` still waiting for a payment whose link (or invoice) expired before
    `before`, oldest first: reconciliation settles them."""
    return await _many(
        conn,
        "SELECT * FROM orders WHERE rail = ? AND status IN (?, ?) AND expires_at < ?"
        " ORDER BY expires_at, id LIMIT ?",
        (rail.value, OrderStatus.PENDING.value, OrderStatus.AWAITING_PAYMENT.value, before, limit),
    )


async def processing_since_before(conn: Connection, *, before: int, limit: int) -> list[Order]:
    """Orders whose delayed payment (a bank debit) was still being confirmed at `before`,
    longest-waiting first."""
    return await _many(
        conn,
        "SELECT * FROM orders WHERE status = ? AND updated_at < ? ORDER BY updated_at, id LIMIT ?",
        (OrderStatus.PROCESSING.value, before, limit),
    )


def _status_filter(statuses: frozenset[OrderStatus] | None) -> tuple[str, tuple[str, ...]]:
    if not statuses:
        return "", ()
    marks = ", ".join("?" for _ in statuses)
    return f" WHERE status IN ({marks})", tuple(sorted(s.value for s in statuses))
