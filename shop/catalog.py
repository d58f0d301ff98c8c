"""Catalog use-cases: the admin adds, edits, hides, reorders and deletes products and uploads
stock items. Each is one transaction; the admin's chat (bot/admin_products.py,
bot/admin_wizard.py) asks the questions and renders the outcomes, and writes no SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from shop.money import Money
from storage import products, stock
from storage.db import Database
from storage.models import STARS_CURRENCY, Product, ProductKind, ProductRail, Rail

# --- the rails a product is sold through (issue 13) ---------------------------------------------

DIGITAL_KINDS = frozenset({ProductKind.DIGITAL_TEXT, ProductKind.DIGITAL_STOCK})

# A Stars price is a whole number of Stars per unit. Telegram's Bot API documents no ceiling for
# a Stars invoice (sendInvoice only says the amounts are whole Stars), so this bound is ours: it
# keeps a typo (an extra zero or two) from reaching a buyer's payment sheet.
MAX_STARS_PRICE = 10_000


def default_rail(kind: ProductKind) -> ProductRail:
    """The rail the wizard suggests: Telegram's terms (§6.2) want digital goods paid in Stars;
    physical goods and services stay on Stripe, which collects addresses and takes cards."""
    return ProductRail.STARS if kind in DIGITAL_KINDS else ProductRail.STRIPE


def rail_allowed(kind: ProductKind, rail: ProductRail) -> bool:
    """A physical product is Stripe's only: Stars sell digital goods and services, and only
    Checkout collects a delivery address (migration 0008's CHECK says the same)."""
    return rail is ProductRail.STRIPE or kind is not ProductKind.PHYSICAL


def money_price(product: Product) -> Money | None:
    """The product's price by card, or None when it is not sold through Stripe."""
    if not product.sells_on(Rail.STRIPE):
        return None
    return Money(product.price_minor, product.currency)


@dataclass(frozen=True)
class RailPrices:
    """A rail and the prices stored with it (see `rail_prices`)."""

    rail: ProductRail
    stars_price: int | None
    price_minor: int
    currency: str

    def columns(self) -> dict[str, object]:
        """As `edit_product` takes them."""
        return {
            "rail": self.rail,
            "stars_price": self.stars_price,
            "price_minor": self.price_minor,
            "currency": self.currency,
        }


def rail_prices(rail: ProductRail, money: Money | None, stars: int | None) -> RailPrices:
    """A rail with its prices, every price the rail sells at required and no other kept: a
    Stars-only product stores its Stars price as its price (in "xtr"), so whatever shows
    `price_minor`/`currency` shows what the buyer pays, never a stale card price; a product not
    sold for Stars has no Stars price (migration 0008's CHECK)."""
    if rail.includes(Rail.STARS) and stars is None:
        raise ValueError(f"a {rail.value} product needs its Stars price")
    if rail.includes(Rail.STRIPE) and money is None:
        raise ValueError(f"a {rail.value} product needs its price by card")
    if money is None or not rail.includes(Rail.STRIPE):
        assert stars is not None
        money = Money(stars, STARS_CURRENCY)
    kept = stars if rail.includes(Rail.STARS) else None
    return RailPrices(rail, kept, money.amount, money.currency)


def risks_the_terms(product: Product) -> bool:
    """A digital product sold by card only: Telegram's terms (§6.2) want digital goods paid in
    Stars, and a bot found taking other payments for them may be removed. Shown as a warning."""
    return product.kind in DIGITAL_KINDS and not product.sells_on(Rail.STARS)


# --- use-cases ----------------------------------------------------------------------------------


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
            rail=product.rail,
            stars_price=product.stars_price,
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
