"""Product repository: one function per question the shop asks about products."""

from __future__ import annotations

import aiosqlite

from storage.clock import now
from storage.models import Product


async def add(
    conn: aiosqlite.Connection,
    *,
    title: str,
    price_minor: int,
    currency: str,
    description: str = "",
    photo: str | None = None,
    delivery_text: str = "",
    active: bool = True,
    position: int | None = None,
) -> int:
    """Insert a product (last in the catalog unless a position is given); returns its id."""
    if position is None:
        async with conn.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM products") as cur:
            row = await cur.fetchone()
        position = int(row[0]) if row else 1
    ts = now()
    cursor = await conn.execute(
        "INSERT INTO products (title, description, price_minor, currency, photo, delivery_text,"
        " active, position, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            title,
            description,
            price_minor,
            currency,
            photo,
            delivery_text,
            int(active),
            position,
            ts,
            ts,
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def get(conn: aiosqlite.Connection, product_id: int) -> Product | None:
    async with conn.execute("SELECT * FROM products WHERE id = ?", (product_id,)) as cursor:
        row = await cursor.fetchone()
    return Product.from_row(row) if row else None


async def count_active(conn: aiosqlite.Connection) -> int:
    async with conn.execute("SELECT COUNT(*) FROM products WHERE active = 1") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def list_active(conn: aiosqlite.Connection, *, offset: int, limit: int) -> list[Product]:
    """One catalog page, in the merchant's order."""
    async with conn.execute(
        "SELECT * FROM products WHERE active = 1 ORDER BY position, id LIMIT ? OFFSET ?",
        (limit, offset),
    ) as cursor:
        rows = await cursor.fetchall()
    return [Product.from_row(row) for row in rows]
