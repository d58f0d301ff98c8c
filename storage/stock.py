"""The pool of unique items of a `digital_stock` product: add, reserve, sell, release."""

from __future__ import annotations

from storage.clock import now
from storage.sql import Connection, fetch_all, fetch_one

MAX_ITEM_CHARS = 256


def fits(item: str) -> bool:
    """An item short enough to deliver: at most MAX_ITEM_CHARS as Telegram counts length
    (UTF-16 code units, an emoji is two — bot.texts.utf16_len; storage imports nothing of the
    project), so the receipt of ten items always fits one message."""
    return len(item.encode("utf-16-le")) // 2 <= MAX_ITEM_CHARS


async def add_items(conn: Connection, product_id: int, items: list[str]) -> tuple[int, int]:
    """Add items (blank lines dropped); returns (added, skipped as duplicates or too long).

    One `executemany` for the whole upload: up to 10,000 lines would otherwise be as many
    hand-offs to SQLite's thread while the write lock that payments wait on is held."""
    lines = [text for text in (item.strip() for item in items) if text]
    fitting = [text for text in lines if fits(text)]
    ts = now()
    changed = await conn.executemany(
        "INSERT INTO stock_items (product_id, content, created_at) VALUES (?, ?, ?)"
        " ON CONFLICT (product_id, content) DO NOTHING",
        [(product_id, text, ts) for text in fitting],
    )
    added = max(changed, 0)
    return added, len(lines) - added


async def available(conn: Connection, product_id: int) -> int:
    row = await fetch_one(
        conn,
        "SELECT COUNT(*) FROM stock_items WHERE product_id = ? AND state = 'available'",
        (product_id,),
    )
    return int(row[0]) if row else 0


async def longest_item(conn: Connection, product_id: int) -> int:
    """The longest item of the product still to be handed out (available or held by an unpaid
    order), in UTF-8 bytes: never fewer than Telegram's UTF-16 units, so a safe bound for
    whether a receipt will fit. 0 for an empty pool."""
    row = await fetch_one(
        conn,
        f"SELECT MAX({conn.dialect.byte_length.format('content')}) FROM stock_items"
        " WHERE product_id = ? AND state IN ('available', 'reserved')",
        (product_id,),
    )
    return int(row[0]) if row and row[0] is not None else 0


async def counts(conn: Connection, product_id: int) -> tuple[int, int]:
    """(available, reserved) items of a product in one pass: reserved ones are held by unpaid
    orders and come back when those end, so the admin sees them apart."""
    row = await fetch_one(
        conn,
        "SELECT COUNT(CASE WHEN state = 'available' THEN 1 END),"
        " COUNT(CASE WHEN state = 'reserved' THEN 1 END)"
        " FROM stock_items WHERE product_id = ? AND state IN ('available', 'reserved')",
        (product_id,),
    )
    return (int(row[0]), int(row[1])) if row else (0, 0)


async def reserved_by_buyer(conn: Connection, product_id: int, buyer_user_id: int) -> int:
    """Items of the product held for the buyer's unpaid orders (only open orders hold any:
    paying sells them, ending the order releases them)."""
    row = await fetch_one(
        conn,
        "SELECT COUNT(*) FROM stock_items JOIN orders ON orders.id = stock_items.order_id"
        " WHERE stock_items.product_id = ? AND stock_items.state = 'reserved'"
        " AND orders.buyer_user_id = ?",
        (product_id, buyer_user_id),
    )
    return int(row[0]) if row else 0


async def reserve(conn: Connection, product_id: int, order_id: int, quantity: int) -> bool:
    """Reserve `quantity` more items for the order, all or none; call it inside a write
    transaction.

    The rows are claimed and counted in one statement. On PostgreSQL, where checkouts run side
    by side, each claims only rows no other transaction holds (`SKIP LOCKED`): two buyers racing
    for the last item never both get it, and neither waits for the other. A claim short of
    `quantity` is put back at once and refused."""
    claimed = await fetch_all(
        conn,
        "UPDATE stock_items SET state = 'reserved', order_id = ? WHERE id IN ("
        " SELECT id FROM stock_items WHERE product_id = ? AND state = 'available'"
        f" ORDER BY id LIMIT ?{conn.dialect.skip_locked}) RETURNING id",
        (order_id, product_id, quantity),
    )
    if len(claimed) == quantity:
        return True
    if claimed:
        await conn.executemany(
            "UPDATE stock_items SET state = 'available', order_id = NULL WHERE id = ?",
            [(row[0],) for row in claimed],
        )
    return False


async def reserved_for(conn: Connection, order_id: int, product_id: int | None = None) -> int:
    """Items held for the order (of one product of it, when given)."""
    row = await fetch_one(
        conn,
        "SELECT COUNT(*) FROM stock_items WHERE order_id = ? AND state = 'reserved'"
        " AND product_id = COALESCE(?, product_id)",
        (order_id, product_id),
    )
    return int(row[0]) if row else 0


async def sell(conn: Connection, order_id: int) -> int:
    """The order is paid: its reserved items become its own for good."""
    changed = await conn.execute(
        "UPDATE stock_items SET state = 'sold' WHERE order_id = ? AND state = 'reserved'",
        (order_id,),
    )
    return changed


async def release(conn: Connection, order_id: int) -> int:
    """The order will not be paid: its reserved items go back to the pool."""
    changed = await conn.execute(
        "UPDATE stock_items SET state = 'available', order_id = NULL"
        " WHERE order_id = ? AND state = 'reserved'",
        (order_id,),
    )
    return changed


async def items_of(conn: Connection, order_id: int) -> dict[int, list[str]]:
    """The items sold to an order, by product (a line each), in a stable order."""
    rows = await fetch_all(
        conn,
        "SELECT product_id, content FROM stock_items WHERE order_id = ? AND state = 'sold'"
        " ORDER BY id",
        (order_id,),
    )
    items: dict[int, list[str]] = {}
    for row in rows:
        items.setdefault(int(row[0]), []).append(str(row[1]))
    return items
