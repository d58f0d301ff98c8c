"""Records for the service-level tests (tests/test_shop_*.py): a scratch database and orders
written through the storage functions the shop itself uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from storage import orders, products
from storage.clock import now
from storage.db import Database, open_database
from storage.models import Order, OrderLine, OrderStatus, ProductKind
from storage.sql import Connection
from tests.backend import database_target_for, separate_database_for


@asynccontextmanager
async def scratch_db(folder: Path, *, separate: bool = False) -> AsyncIterator[Database]:
    """The test's migrated database (a SQLite file in `folder`, or the PostgreSQL pass's
    database), or with `separate` a second one beside it; closed afterwards."""
    target = separate_database_for(folder) if separate else database_target_for(folder)
    database = await open_database(target)
    try:
        yield database
    finally:
        await database.close()


async def add_product(
    tx: Connection, kind: ProductKind = ProductKind.DIGITAL_TEXT, price: int = 500
) -> int:
    return await products.add(tx, title="Key", price_minor=price, currency="eur", kind=kind)


async def new_order(tx: Connection, product_id: int, *, buyer: int = 7, quantity: int = 1) -> Order:
    """A pending order as checkout writes it (before its Checkout Session exists)."""
    product = await products.get(tx, product_id)
    assert product is not None
    return await orders.create(
        tx,
        buyer_user_id=buyer,
        buyer_chat_id=buyer * 10,
        buyer_name="Ada",
        lines=[
            orders.NewLine(product_id, product.title, product.kind, product.price_minor, quantity)
        ],
        currency=product.currency,
        expires_at=now() + 3600,
    )


def order_record(
    *,
    lines: list[OrderLine] | None = None,
    kind: ProductKind = ProductKind.DIGITAL_TEXT,
    **changes: Any,
) -> Order:
    """An Order as storage reads it, built in memory for the renderers' limit tests: one line
    ("Mug" × 1 at $9.99 of `kind`) unless `lines` are given; `changes` set any other field."""
    lines = lines or [OrderLine(0, 1, "Mug", kind, 999, 1)]
    order = Order(
        id=5, ref="r5", buyer_user_id=7, buyer_chat_id=7, buyer_name="Ada",
        basket=",".join(f"{line.product_id}x{line.quantity}" for line in lines),
        ships=any(line.ships for line in lines), from_cart=len(lines) > 1,
        amount_total=sum(line.subtotal for line in lines), currency="usd",
        status=OrderStatus.PAID, checkout_session_id="cs_1", checkout_url=None, expires_at=0,
        payment_intent_id="pi_1", message_id=None, failure_reason=None, created_at=0,
        updated_at=0, paid_at=0, shipping_address=None, shipped_at=None, tracking=None,
        amount_refunded=0, amount_discount=0, amount_charged=None, delivered_at=None,
        lines=tuple(lines),
    )  # fmt: skip
    return replace(order, **changes)
