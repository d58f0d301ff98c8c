"""The buyers' carts: one per buyer, a line per product, kept in the database so a cart
survives restarts. Only ids, quantities and the price the buyer saw are stored: checkout reads
every product again (storage/products) and prices the order from there."""

from __future__ import annotations

from dataclasses import dataclass

from storage.clock import now
from storage.sql import Connection, fetch_all, fetch_one

# How many different products one cart holds: a cart is one message with a row of buttons per
# line, and a Checkout Session takes at most 100 line items.
MAX_CART_LINES = 20
# How many of one product a line holds (as on a card; the order_lines CHECK agrees).
MAX_LINE_QUANTITY = 10


@dataclass(frozen=True)
class CartLine:
    product_id: int
    quantity: int
    unit_amount: int  # the price the buyer saw when adding, to tell them it changed
    currency: str
    stars_amount: int | None = None  # the Stars price they saw, when it sold for Stars


async def lines(conn: Connection, buyer_user_id: int) -> list[CartLine]:
    """The buyer's cart, in the order the lines were added."""
    rows = await fetch_all(
        conn,
        "SELECT product_id, quantity, unit_amount, currency, stars_amount FROM cart_lines"
        " WHERE buyer_user_id = ? ORDER BY added_at, product_id",
        (buyer_user_id,),
    )
    return [
        CartLine(int(r[0]), int(r[1]), int(r[2]), str(r[3]), None if r[4] is None else int(r[4]))
        for r in rows
    ]


async def count(conn: Connection, buyer_user_id: int) -> int:
    """How many lines the buyer's cart has (the catalog's "Cart (N)" button)."""
    row = await fetch_one(
        conn, "SELECT COUNT(*) FROM cart_lines WHERE buyer_user_id = ?", (buyer_user_id,)
    )
    return int(row[0]) if row else 0


async def add(
    conn: Connection,
    buyer_user_id: int,
    *,
    product_id: int,
    quantity: int,
    unit_amount: int,
    currency: str,
    stars_amount: int | None = None,
) -> int:
    """Add `quantity` of a product (to its line if there is one, at the price shown now), up
    to MAX_LINE_QUANTITY; returns the line's quantity. The caller checks MAX_CART_LINES and
    the stock: this only stores."""
    if quantity < 1:
        raise ValueError("add at least one")
    await conn.execute(
        "INSERT INTO cart_lines (buyer_user_id, product_id, quantity, unit_amount, currency,"
        " stars_amount, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (buyer_user_id, product_id) DO UPDATE SET"
        " quantity = CASE WHEN cart_lines.quantity + excluded.quantity < ? "
        " THEN cart_lines.quantity + excluded.quantity ELSE ? END,"
        " unit_amount = excluded.unit_amount, currency = excluded.currency,"
        " stars_amount = excluded.stars_amount",
        (
            buyer_user_id,
            product_id,
            min(quantity, MAX_LINE_QUANTITY),
            unit_amount,
            currency,
            stars_amount,
            now(),
            MAX_LINE_QUANTITY,
            MAX_LINE_QUANTITY,
        ),  # fmt: skip
    )
    return await quantity_of(conn, buyer_user_id, product_id)


async def quantity_of(conn: Connection, buyer_user_id: int, product_id: int) -> int:
    row = await fetch_one(
        conn,
        "SELECT quantity FROM cart_lines WHERE buyer_user_id = ? AND product_id = ?",
        (buyer_user_id, product_id),
    )
    return int(row[0]) if row else 0


async def set_quantity(
    conn: Connection, buyer_user_id: int, product_id: int, quantity: int
) -> bool:
    """Change a line's quantity (0 removes it); False when the cart has no such line."""
    if quantity <= 0:
        return await remove(conn, buyer_user_id, product_id)
    changed = await conn.execute(
        "UPDATE cart_lines SET quantity = ? WHERE buyer_user_id = ? AND product_id = ?",
        (min(quantity, MAX_LINE_QUANTITY), buyer_user_id, product_id),
    )
    return changed == 1


async def reprice(
    conn: Connection,
    buyer_user_id: int,
    product_id: int,
    unit_amount: int,
    currency: str,
    stars_amount: int | None,
) -> None:
    """The buyer has been shown the product's new prices: the line now remembers those."""
    await conn.execute(
        "UPDATE cart_lines SET unit_amount = ?, currency = ?, stars_amount = ?"
        " WHERE buyer_user_id = ? AND product_id = ?",
        (unit_amount, currency, stars_amount, buyer_user_id, product_id),
    )


async def remove(conn: Connection, buyer_user_id: int, product_id: int) -> bool:
    changed = await conn.execute(
        "DELETE FROM cart_lines WHERE buyer_user_id = ? AND product_id = ?",
        (buyer_user_id, product_id),
    )
    return changed == 1


async def empty(conn: Connection, buyer_user_id: int) -> int:
    """Remove every line; returns how many there were."""
    changed = await conn.execute("DELETE FROM cart_lines WHERE buyer_user_id = ?", (buyer_user_id,))
    return changed


async def remove_bought(conn: Connection, buyer_user_id: int, product_ids: list[int]) -> int:
    """A cart's order is paid: the products it bought leave the cart."""
    marks = ",".join("?" * len(product_ids))
    changed = await conn.execute(
        f"DELETE FROM cart_lines WHERE buyer_user_id = ? AND product_id IN ({marks})",  # noqa: S608
        (buyer_user_id, *product_ids),
    )
    return changed
