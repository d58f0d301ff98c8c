"""Catalog use-cases: the admin adds, edits, hides, reorders and deletes products and uploads
stock items. Each is one transaction; the admin's chat (bot/admin_products.py,
bot/admin_wizard.py) asks the questions and renders the outcomes, and writes no SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage import products, stock
from storage.db import Database
from storage.models import Product


async def add_product(
    db: Database, product: Product, items: list[str], *, hidden: bool
) -> tuple[Product, int, int]:
    """The product and its items in one transaction: (product, items added, items skipped);
    `hidden`: kept out of the catalog until a stock upload gives it items."""
    async with db.transaction() as tx:
        product_id = await products.add(
            tx,
            title=product.title,
            description=product.description,
            price_minor=product.price_minor,
            currency=product.currency,
            photo=product.photo,
            delivery_text=product.delivery_text,
            kind=product.kind,
            category=product.category,
            shipping_countries=product.shipping_countries,
            active=not hidden,
            show_when_stocked=hidden,
        )
        added, skipped = await stock.add_items(tx, product_id, items)
        saved = await products.get(tx, product_id)
    assert saved is not None
    return saved, added, skipped


async def edit_product(db: Database, product_id: int, **changes: object) -> None:
    """Change editable fields (validated by the caller, as when adding)."""
    async with db.transaction() as tx:
        await products.update(tx, product_id, **changes)


async def set_visible(db: Database, product_id: int, visible: bool) -> None:
    """Hide or show; the admin's own choice also ends any wait for stock."""
    async with db.transaction() as tx:
        await products.set_active(tx, product_id, visible)


async def move_product(db: Database, product_id: int, direction: int) -> bool:
    """One place earlier (-1) or later (+1) in the catalog; False at either end."""
    async with db.transaction() as tx:
        return await products.move(tx, product_id, direction)


async def delete_product(db: Database, product_id: int) -> str:
    """ "deleted" (nobody ordered it) or "archived" (kept for its orders' records)."""
    async with db.transaction() as tx:
        return await products.delete(tx, product_id)


@dataclass(frozen=True)
class StockUpload:
    """What a stock upload did: items added and skipped, available now, and whether a
    product waiting hidden for its items was shown."""

    added: int
    skipped: int
    available: int
    shown: bool


async def upload_stock(db: Database, product_id: int, items: list[str]) -> StockUpload:
    """Add items in one transaction; a product waiting hidden for its items is shown in the
    same transaction."""
    async with db.transaction() as tx:
        added, skipped = await stock.add_items(tx, product_id, items)
        available = await stock.available(tx, product_id)
        shown = available > 0 and await products.show_if_waiting_for_stock(tx, product_id)
    return StockUpload(added, skipped, available, shown)
