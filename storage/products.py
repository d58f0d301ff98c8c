"""Product repository: one function per question the shop asks about products."""

from __future__ import annotations

from storage.clock import now
from storage.models import Product, ProductKind, ProductRail
from storage.sql import Connection, fetch_all, fetch_one

# Fields an admin may edit after creating a product.
EDITABLE = frozenset(
    {
        "title",
        "description",
        "price_minor",
        "currency",
        "photo",
        "delivery_text",
        "kind",
        "category",
        "shipping_countries",
        "rail",
        "stars_price",
    }
)


def _stored(value: object) -> object:
    """A field as its column holds it: a kind or rail by its value, countries comma-separated."""
    if isinstance(value, (ProductKind, ProductRail)):
        return value.value
    if isinstance(value, tuple):
        return ",".join(value) or None
    return value


async def add(
    conn: Connection,
    *,
    title: str,
    price_minor: int,
    currency: str,
    description: str = "",
    photo: str | None = None,
    delivery_text: str = "",
    active: bool = True,
    position: int | None = None,
    kind: ProductKind = ProductKind.DIGITAL_TEXT,
    category: str | None = None,
    shipping_countries: tuple[str, ...] | None = None,
    show_when_stocked: bool = False,
    rail: ProductRail = ProductRail.STRIPE,
    stars_price: int | None = None,
) -> int:
    """Insert a product (last in the catalog unless a position is given); returns its id."""
    if position is None:
        row = await fetch_one(conn, "SELECT COALESCE(MAX(position), 0) + 1 FROM products")
        position = int(row[0]) if row else 1
    ts = now()
    inserted = await fetch_one(
        conn,
        "INSERT INTO products (title, description, price_minor, currency, photo, delivery_text,"
        " active, position, kind, category, shipping_countries, show_when_stocked, rail,"
        " stars_price, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            title,
            description,
            price_minor,
            currency,
            photo,
            delivery_text,
            int(active),
            position,
            kind.value,
            category,
            _stored(shipping_countries or ()),
            int(show_when_stocked),
            rail.value,
            stars_price,
            ts,
            ts,
        ),
    )
    assert inserted is not None
    return int(inserted[0])


async def get(conn: Connection, product_id: int) -> Product | None:
    row = await fetch_one(conn, "SELECT * FROM products WHERE id = ?", (product_id,))
    return Product.from_row(row) if row else None


_VISIBLE = "active = 1 AND archived = 0"


async def count_active(conn: Connection, *, category: str | None = None) -> int:
    """Products buyers can see (in one category when given)."""
    where, args = _in_category(category)
    row = await fetch_one(
        conn,
        f"SELECT COUNT(*) FROM products WHERE {_VISIBLE}{where}",
        args,  # noqa: S608
    )
    return int(row[0]) if row else 0


async def list_active(
    conn: Connection, *, offset: int, limit: int, category: str | None = None
) -> list[Product]:
    """One catalog page, in the merchant's order."""
    where, args = _in_category(category)
    rows = await fetch_all(
        conn,
        f"SELECT * FROM products WHERE {_VISIBLE}{where}"  # noqa: S608
        " ORDER BY position, id LIMIT ? OFFSET ?",
        (*args, limit, offset),
    )
    return [Product.from_row(row) for row in rows]


def _in_category(category: str | None) -> tuple[str, tuple[str, ...]]:
    """None: every product; "": products without a category; else that category."""
    if category is None:
        return "", ()
    if category == "":
        return " AND category IS NULL", ()
    return " AND category = ?", (category,)


async def catalog_groups(conn: Connection) -> list[tuple[str, int, int]]:
    """(category, products, first product id) for visible products, in catalog order; the
    category "" holds products without one. The first product's id names the group in buttons."""
    groups = await fetch_all(
        conn,
        f"SELECT COALESCE(category, ''), COUNT(*), MIN(position) FROM products"  # noqa: S608
        f" WHERE {_VISIBLE} GROUP BY COALESCE(category, '') ORDER BY MIN(position)",
    )
    result = []
    for name, count, _ in groups:
        first = await list_active(conn, offset=0, limit=1, category=str(name))
        result.append((str(name), int(count), first[0].id))
    return result


async def categories(conn: Connection) -> list[str]:
    """Every category in use (for the admin to choose from)."""
    rows = await fetch_all(
        conn,
        "SELECT DISTINCT category FROM products WHERE archived = 0 AND category IS NOT NULL"
        " ORDER BY category",
    )
    return [str(row[0]) for row in rows]


async def count_all(conn: Connection) -> int:
    """Products the admin manages: shown and hidden, not archived."""
    row = await fetch_one(conn, "SELECT COUNT(*) FROM products WHERE archived = 0")
    return int(row[0]) if row else 0


async def list_all(conn: Connection, *, offset: int, limit: int) -> list[Product]:
    rows = await fetch_all(
        conn,
        "SELECT * FROM products WHERE archived = 0 ORDER BY position, id LIMIT ? OFFSET ?",
        (limit, offset),
    )
    return [Product.from_row(row) for row in rows]


async def update(conn: Connection, product_id: int, **fields: object) -> None:
    """Change editable fields; validation is the caller's (the same as when adding)."""
    unknown = set(fields) - EDITABLE
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    values = [_stored(v) for v in fields.values()]
    assignments = ", ".join(f"{name} = ?" for name in fields)
    await conn.execute(
        f"UPDATE products SET {assignments}, updated_at = ? WHERE id = ?",  # noqa: S608
        (*values, now(), product_id),
    )


async def set_active(conn: Connection, product_id: int, active: bool) -> None:
    """Show or hide; the admin's own choice also ends any wait for stock."""
    await conn.execute(
        "UPDATE products SET active = ?, show_when_stocked = 0, updated_at = ? WHERE id = ?",
        (int(active), now(), product_id),
    )


async def show_if_waiting_for_stock(conn: Connection, product_id: int) -> bool:
    """Show a product that was kept hidden until it had items; True when it was."""
    changed = await conn.execute(
        "UPDATE products SET active = 1, show_when_stocked = 0, updated_at = ?"
        " WHERE id = ? AND show_when_stocked = 1 AND archived = 0",
        (now(), product_id),
    )
    return changed == 1


async def move(conn: Connection, product_id: int, direction: int) -> bool:
    """Swap the product with its neighbour above (-1) or below (+1); False at either end."""
    product = await get(conn, product_id)
    if product is None:
        return False
    comparison, order = ("<", "DESC") if direction < 0 else (">", "ASC")
    neighbour = await fetch_one(
        conn,
        f"SELECT id, position FROM products WHERE archived = 0"  # noqa: S608
        f" AND (position {comparison} ? OR (position = ? AND id {comparison} ?))"
        f" ORDER BY position {order}, id {order} LIMIT 1",
        (product.position, product.position, product.id),
    )
    if neighbour is None:
        return False
    other_position = int(neighbour["position"])
    if other_position == product.position:  # equal positions: spread them first
        other_position += direction
    await conn.execute(
        "UPDATE products SET position = ? WHERE id = ?", (other_position, product.id)
    )
    await conn.execute(
        "UPDATE products SET position = ? WHERE id = ?", (product.position, neighbour["id"])
    )
    return True


async def has_orders(conn: Connection, product_id: int) -> bool:
    return (
        await fetch_one(
            conn, "SELECT 1 FROM order_lines WHERE product_id = ? LIMIT 1", (product_id,)
        )
        is not None
    )


async def delete(conn: Connection, product_id: int) -> str:
    """Erase a product nobody ordered; archive one with orders. Returns "deleted"/"archived".
    Either way it leaves every buyer's cart: it can no longer be bought."""
    await conn.execute("DELETE FROM cart_lines WHERE product_id = ?", (product_id,))
    if await has_orders(conn, product_id):
        await conn.execute(
            "UPDATE products SET archived = 1, active = 0, updated_at = ? WHERE id = ?",
            (now(), product_id),
        )
        await conn.execute(
            "DELETE FROM stock_items WHERE product_id = ? AND state = 'available'", (product_id,)
        )
        return "archived"
    await conn.execute("DELETE FROM stock_items WHERE product_id = ?", (product_id,))
    await conn.execute("DELETE FROM products WHERE id = ?", (product_id,))
    return "deleted"


async def list_of_kind(conn: Connection, kind: ProductKind, *, limit: int) -> list[Product]:
    """The admin's products of one kind (not archived), in catalog order."""
    rows = await fetch_all(
        conn,
        "SELECT * FROM products WHERE archived = 0 AND kind = ? ORDER BY position, id LIMIT ?",
        (kind.value, limit),
    )
    return [Product.from_row(row) for row in rows]
