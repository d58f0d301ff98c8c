"""The buyer's cart: add, change, remove, look, and the review before checkout.

A cart stores only product ids, quantities and the price the buyer was shown. Whatever the
buyer sees of it is read again from the products (title, price, stock; the title in the buyer's
language where the merchant translated it, shop/translations.py), and before a session is
made `review` compares the two and corrects the cart — a product hidden or deleted, a new
price, fewer items left — so the buyer is told what changed before paying for it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from shop import translations
from shop.context import Shop
from storage import carts, products, stock
from storage.carts import MAX_CART_LINES, MAX_LINE_QUANTITY
from storage.models import STARS_CURRENCY, Product, ProductKind, Rail
from storage.sql import Connection


class CartRefused(Exception):
    """Nothing was added; the subclass says why, for the buyer."""


class NotBuyable(CartRefused):
    """The product is gone or hidden."""


class CartFull(CartRefused):
    """The cart already has MAX_CART_LINES products."""


class NoneLeft(CartRefused):
    """A stock product with no item left to add."""


class LineFull(CartRefused):
    """The line already holds the most one order may take (`most`: the line's limit or what
    stock is left)."""

    def __init__(self, most: int) -> None:
        super().__init__(f"at most {most}")
        self.most = most


@dataclass(frozen=True)
class CartItem:
    """A cart line as it stands now: the product as the shop has it (None once deleted), the
    quantity asked, the price the buyer was shown, and the items left for stock products."""

    product_id: int
    product: Product | None
    quantity: int
    seen_unit_amount: int
    seen_currency: str
    left: int | None  # stock products only: what this buyer can have (see _left)
    seen_stars: int | None = None  # the Stars price the buyer saw, when it sold for Stars

    @property
    def subtotal(self) -> int:
        """At today's price (the one checkout charges)."""
        return self.product.price_minor * self.quantity if self.product else 0


@dataclass(frozen=True)
class Cart:
    items: tuple[CartItem, ...]

    @property
    def rails(self) -> list[Rail]:
        """The rails that can pay for the whole cart: those every line sells on. A cart's
        lines share one rail; one mixing Stars and Stripe products is paid in two orders."""
        sold = [item.product for item in self.items if item.product is not None]
        return [rail for rail in Rail if sold and all(p.sells_on(rail) for p in sold)]

    def to_take_out(self) -> tuple[Rail, list[str]] | None:
        """For a cart no one rail can pay: the rail most of its lines sell on (Stripe on a
        tie) and the titles of the lines to take out to pay the rest through it."""
        sold = [item.product for item in self.items if item.product is not None]
        if not sold or self.rails:
            return None
        rail = max(Rail, key=lambda r: sum(p.sells_on(r) for p in sold))
        return rail, [p.title for p in sold if not p.sells_on(rail)]

    @property
    def stars_total(self) -> int | None:
        """The cart in whole Stars, when every line sells for Stars."""
        if Rail.STARS not in self.rails:
            return None
        sold = [(item.product, item.quantity) for item in self.items if item.product]
        return sum(p.price_on(Rail.STARS)[0] * quantity for p, quantity in sold)

    @property
    def currencies(self) -> list[str]:
        """The currencies of the cart's card-paid (Stripe) products, the most common first."""
        counts: dict[str, int] = {}
        for item in self.items:
            if item.product is not None and item.product.sells_on(Rail.STRIPE):
                counts[item.product.currency] = counts.get(item.product.currency, 0) + 1
        return sorted(counts, key=lambda currency: (-counts[currency], currency))

    @property
    def totals(self) -> dict[str, int]:
        """The sum of the subtotals in each currency, in the order of `currencies` (a cart
        mixing them is shown with a total per currency: they never add up)."""
        sums = dict.fromkeys(self.currencies, 0)
        for item in self.items:
            if item.product is not None and item.product.sells_on(Rail.STRIPE):
                sums[item.product.currency] += item.subtotal
        return sums

    @property
    def total(self) -> int | None:
        """The sum of the subtotals; None when it mixes currencies (they never add up) or
        not every line is sold through Stripe."""
        totals = self.totals
        if len(totals) != 1 or Rail.STRIPE not in self.rails:
            return None
        return next(iter(totals.values()))

    @property
    def units(self) -> int:
        return sum(item.quantity for item in self.items)


class Change(enum.StrEnum):
    GONE = "gone"  # hidden or deleted: the line is removed
    PRICE = "price"  # a new price (or currency): the line now shows it
    FEWER = "fewer"  # fewer items left than asked: the quantity is lowered
    SOLD_OUT = "sold_out"  # none left: the line is removed


@dataclass(frozen=True)
class Changed:
    change: Change
    title: str  # "" for a product deleted meanwhile (the chat says "a product")
    before: int  # the price (PRICE) or quantity (FEWER, SOLD_OUT) the buyer had
    after: int
    currency: str = ""


async def load(conn: Connection, buyer_user_id: int, *, language: str | None = None) -> Cart:
    """The buyer's cart with each product as it is now, its texts in `language` (the buyer's)
    where the merchant translated them, as the merchant wrote them when None."""
    lines = await carts.lines(conn, buyer_user_id)
    found = {line.product_id: await products.get(conn, line.product_id) for line in lines}
    if language is not None:
        present = [product for product in found.values() if product is not None]
        found.update((p.id, p) for p in await translations.localized(conn, present, language))
    items = []
    for line in lines:
        product = found[line.product_id]
        left = await _left(conn, product, buyer_user_id)
        items.append(
            CartItem(
                line.product_id,
                product,
                line.quantity,
                line.unit_amount,
                line.currency,
                left,
                line.stars_amount,
            )  # fmt: skip
        )
    return Cart(tuple(items))


async def _left(conn: Connection, product: Product | None, buyer_user_id: int) -> int | None:
    """The items of a stock product this buyer can have: those free, plus those their own
    unpaid orders hold — a cart checked out and awaiting payment still holds its keys, and
    must not read as sold out to its own buyer (a second Checkout tap reuses that order)."""
    if product is None or product.kind is not ProductKind.DIGITAL_STOCK:
        return None
    held = await stock.reserved_by_buyer(conn, product.id, buyer_user_id)
    return await stock.available(conn, product.id) + held


async def add(shop: Shop, buyer_user_id: int, product_id: int, quantity: int) -> int:
    """Put `quantity` of a product in the buyer's cart (onto its line if it has one), at most
    MAX_LINE_QUANTITY and what stock is left; returns the line's quantity now. Refused when
    nothing could be added (LineFull, NoneLeft), so the buyer is never told "added" for
    nothing."""
    async with shop.transaction() as tx:
        product = await products.get(tx, product_id)
        if product is None or not product.buyable:
            raise NotBuyable
        had = await carts.quantity_of(tx, buyer_user_id, product_id)
        if not had and await carts.count(tx, buyer_user_id) >= MAX_CART_LINES:
            raise CartFull
        most = MAX_LINE_QUANTITY
        left = await _left(tx, product, buyer_user_id)
        if left is not None:
            if left <= had:
                raise NoneLeft
            most = min(most, left)
        if min(had + quantity, most) <= had:
            raise LineFull(most)
        await carts.add(
            tx,
            buyer_user_id,
            product_id=product_id,
            quantity=min(had + quantity, most) - had,
            unit_amount=product.price_minor,
            currency=product.currency,
            stars_amount=_stars_of(product),
        )
        return await carts.quantity_of(tx, buyer_user_id, product_id)


async def change(shop: Shop, buyer_user_id: int, product_id: int, delta: int) -> int:
    """− / + on a line: the new quantity (0: the line is gone), never past what may be had."""
    async with shop.transaction() as tx:
        had = await carts.quantity_of(tx, buyer_user_id, product_id)
        if not had:
            return 0
        most = MAX_LINE_QUANTITY
        left = await _left(tx, await products.get(tx, product_id), buyer_user_id)
        if left is not None:
            most = min(most, max(left, had if delta < 0 else 0))
        wanted = max(min(had + delta, most), 0)
        await carts.set_quantity(tx, buyer_user_id, product_id, wanted)
        return wanted


async def remove(shop: Shop, buyer_user_id: int, product_id: int) -> None:
    async with shop.transaction() as tx:
        await carts.remove(tx, buyer_user_id, product_id)


async def empty(shop: Shop, buyer_user_id: int) -> None:
    async with shop.transaction() as tx:
        await carts.empty(tx, buyer_user_id)


async def review(shop: Shop, buyer_user_id: int, *, language: str | None = None) -> list[Changed]:
    """Bring the cart up to date with the shop before checkout, and say what changed (each
    line named in `language`, the buyer's, as `load` names it).

    Every difference is corrected in the cart itself, so the cart the buyer is shown next is the
    one checkout would charge: they confirm with a second tap, never by surprise."""
    changes, _ = await reviewed(shop, buyer_user_id, language=language)
    return changes


async def reviewed(
    shop: Shop, buyer_user_id: int, *, language: str | None = None
) -> tuple[list[Changed], Cart]:
    """`review`, and the cart as it is afterwards (for the page that shows it).

    Read first, outside any write: a cart that already matches the shop — nearly every /cart
    and Checkout tap — needs no write at all, and reading it inside the write transaction held
    the serial lock (every instance's writes queue behind it, storage/postgres.py) for half a
    dozen round trips per tap. Checkout prices and reserves from the database in its own
    transaction anyway, so a change landing after this read is no different from one landing
    after the review's commit."""
    seen = await load(shop.db.reader, buyer_user_id, language=language)
    if not any(_stale(item) for item in seen.items):
        return [], seen
    changes = []
    async with shop.transaction() as tx:
        for item in (await load(tx, buyer_user_id, language=language)).items:
            changed = _compare(item)
            if changed is not None:
                await _correct(tx, buyer_user_id, item, changed)
                changes.append(changed)
            elif item.product is not None and item.seen_stars != _stars_of(item.product):
                await _remember_prices(tx, buyer_user_id, item.product)  # none seen before
    return changes, await load(shop.db.reader, buyer_user_id, language=language)


def _stale(item: CartItem) -> bool:
    """Whether `review` has to write the line: it differs from the product, or has not
    remembered the product's Stars price yet."""
    if _compare(item) is not None:
        return True
    return item.product is not None and item.seen_stars != _stars_of(item.product)


def _stars_of(product: Product) -> int | None:
    """The Stars price a buyer sees for the product, or None when it does not sell for Stars."""
    return product.price_on(Rail.STARS)[0] if product.sells_on(Rail.STARS) else None


async def _remember_prices(tx: Connection, buyer_user_id: int, product: Product) -> None:
    """The buyer has been shown the product's prices now: its cart line remembers them."""
    await carts.reprice(
        tx, buyer_user_id, product.id, product.price_minor, product.currency, _stars_of(product)
    )


def _compare(item: CartItem) -> Changed | None:
    """What differs between the line and the product now, if anything (the first that
    matters: a product gone is not also repriced)."""
    product = item.product
    if product is None or not product.buyable:
        title = product.title if product is not None else ""
        return Changed(Change.GONE, title, item.quantity, 0)
    if (product.price_minor, product.currency) != (item.seen_unit_amount, item.seen_currency):
        return Changed(
            Change.PRICE, product.title, item.seen_unit_amount, product.price_minor,
            product.currency,
        )  # fmt: skip
    stars = _stars_of(product)
    if item.seen_stars is not None and stars is not None and stars != item.seen_stars:
        return Changed(Change.PRICE, product.title, item.seen_stars, stars, STARS_CURRENCY)
    if item.left is not None and item.left < item.quantity:
        kind = Change.SOLD_OUT if item.left == 0 else Change.FEWER
        return Changed(kind, product.title, item.quantity, item.left)
    return None


async def _correct(tx: Connection, buyer_user_id: int, item: CartItem, changed: Changed) -> None:
    if changed.change in (Change.GONE, Change.SOLD_OUT):
        await carts.remove(tx, buyer_user_id, item.product_id)
    elif changed.change is Change.FEWER:
        await carts.set_quantity(tx, buyer_user_id, item.product_id, changed.after)
    elif item.product is not None:
        await _remember_prices(tx, buyer_user_id, item.product)
