"""Buy → an order row committed → a Checkout Session → the order awaits payment."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import stripe

from shop import translations
from shop.context import BUY_TAPS, Shop
from shop.gateways.stripe_gateway import CheckoutLink, StripeBusy
from shop.i18n import N_
from shop.money import MAX_AMOUNT
from shop.said import Said
from shop.unpaid import end_unpaid
from storage import order_messages, orders, products, stock
from storage.clock import now
from storage.db import Database
from storage.models import (
    Order,
    OrderLine,
    OrderStatus,
    Product,
    ProductKind,
    Rail,
    basket_of,
)
from storage.sql import Connection

log = logging.getLogger(__name__)

# Stripe checks expires_at against its own clock: 30 minutes to 24 hours after creation. Keep
# this far inside both bounds so that a clock up to 5 minutes off ours (the start-up check warns
# past a minute) cannot push a request outside and fail every Buy.
CLOCK_SKEW_ALLOWANCE_SECONDS = 5 * 60
_MIN_LIFE = 30 * 60 + CLOCK_SKEW_ALLOWANCE_SECONDS
_MAX_LIFE = 24 * 60 * 60 - CLOCK_SKEW_ALLOWANCE_SECONDS
# A link that expires sooner than this is not offered again; a fresh session is made instead.
REUSE_MARGIN_SECONDS = 5 * 60
# An order still pending this long after it was written is not having its link made any more
# (the process making it died): a new tap makes a new order rather than waiting on it.
LINK_IN_FLIGHT_SECONDS = 60
MAX_OPEN_SESSIONS_PER_BUYER = 5


class CheckoutRefused(Exception):
    """No payment link for this tap; the subclass says why, for the buyer."""


class ProductUnavailable(CheckoutRefused):
    """A product is gone or hidden."""


class SoldOut(CheckoutRefused):
    """Not enough stock items left for the quantity asked of `title`."""

    def __init__(self, available: int, title: str = "") -> None:
        super().__init__(f"{available} left")
        self.available = available
        self.title = title


class HoldingTooMany(CheckoutRefused):
    """The buyer's unpaid orders already hold (nearly) as many units of the product `title` as
    one buyer may; `room` is how many more they can take now."""

    def __init__(self, room: int, title: str = "") -> None:
        super().__init__(f"{room} more allowed")
        self.room = room
        self.title = title


class MixedCurrencies(CheckoutRefused):
    """One Checkout Session takes one currency; `by_currency` lists the titles in each, the
    currency most lines use first, so the buyer knows which lines to remove."""

    def __init__(self, by_currency: dict[str, list[str]]) -> None:
        super().__init__(", ".join(by_currency))
        self.by_currency = by_currency


class NotOnRail(CheckoutRefused):
    """Some lines are not sold through the rail asked for (`rail`): their `titles`, so the buyer
    knows which to remove (a cart mixing Stars and Stripe products is paid in two orders)."""

    def __init__(self, rail: Rail, titles: list[str]) -> None:
        super().__init__(f"not sold through {rail.value}: {', '.join(titles)}")
        self.rail = rail
        self.titles = titles


class TotalTooLarge(CheckoutRefused):
    """The order's total is over what Stripe takes in one payment (`most`, minor units)."""

    def __init__(self, most: int) -> None:
        super().__init__(f"at most {most}")
        self.most = most


class NoCommonCountry(CheckoutRefused):
    """The physical products ship to no country in common: one address cannot get them all."""


class TooManyOpen(CheckoutRefused):
    """The buyer already has as many unpaid payment links as we allow."""


class SlowDown(CheckoutRefused):
    """The buyer taps Buy faster than a person shops."""


class LinkInProgress(SlowDown):
    """A second tap on the same purchase while its payment link is being made (on another
    instance: this one serialises a buyer's checkouts): the first tap's link is on its way."""


class CheckoutFailed(CheckoutRefused):
    """Stripe refused or could not be reached; the order is marked failed."""


@dataclass(frozen=True)
class Buyer:
    user_id: int
    chat_id: int
    name: str
    language: str | None = None  # the language they shop in: the order keeps it


def session_expiry(minutes: int, at: int) -> int:
    return at + min(max(minutes * 60, _MIN_LIFE), _MAX_LIFE)


@dataclass(frozen=True)
class Wanted:
    """A line the buyer asks for: a product and how many (only ids and numbers come from the
    buyer; everything else is read from the database)."""

    product_id: int
    quantity: int


async def start_checkout(
    shop: Shop,
    buyer: Buyer,
    wanted: Sequence[Wanted],
    *,
    from_cart: bool = False,
    before_stripe: Callable[[], Awaitable[None]] | None = None,
) -> Order:
    """Return an order awaiting payment with its Checkout URL, reusing an open one for the same
    products and quantities ("Buy now" is a one-line order, a cart one line per product).

    Serialised per buyer, so a double tap cannot create two sessions. Every refusal is raised
    before `before_stripe` runs (then only Stripe can fail), so the caller can answer a refusal
    in the tap's own answer and otherwise announce the link while Stripe works."""
    if not await shop.limits.allow(BUY_TAPS, buyer.user_id):
        raise SlowDown
    async with shop.buyer_locks.hold(buyer.user_id):
        sold = await products_for_sale(shop, wanted, Rail.STRIPE, buyer.language)
        countries = _shipping_countries(sold, shop.checkout_settings.shipping_countries)
        existing = await open_order(shop, buyer, wanted, Rail.STRIPE)
        if existing is not None:
            return existing
        order = await new_order(shop, buyer, sold, wanted, from_cart, Rail.STRIPE)
        if before_stripe is not None:
            await before_stripe()
        link = await _create_session(shop, order, sold, countries)
        return await _attach(shop, order, link)


async def open_order(
    shop: Shop, buyer: Buyer, wanted: Sequence[Wanted], rail: Rail
) -> Order | None:
    """The buyer's open order on `rail` for the same products and quantities, to offer again;
    None when a new one may be made, TooManyOpen when the buyer has as many unpaid orders
    (of either rail) as we allow. Call it holding the buyer's lock."""
    existing = await orders.open_for(
        shop.db.reader,
        buyer_user_id=buyer.user_id,
        basket=basket_of([(w.product_id, w.quantity) for w in wanted]),
        valid_after=now() + REUSE_MARGIN_SECONDS,
        rail=rail,
    )
    if existing is not None:
        return existing
    if await orders.count_open(shop.db.reader, buyer.user_id, now()) >= MAX_OPEN_SESSIONS_PER_BUYER:
        raise TooManyOpen
    return None


async def products_for_sale(
    shop: Shop, wanted: Sequence[Wanted], rail: Rail, language: str | None
) -> dict[int, Product]:
    """The products asked for, by id, each buyable now, all sold through `rail` (NotOnRail
    names the lines that are not) and, on Stripe, all in one currency.

    Each comes with its texts in `language` (the buyer's) where the merchant translated them:
    the order's lines keep the titles as the buyer saw them, Stripe's line items and the Stars
    invoice are made from them, and a refusal names the lines as the buyer knows them."""
    if len({line.product_id for line in wanted}) != len(wanted):
        raise ValueError("one line per product")
    if not 1 <= len(wanted) <= orders.MAX_LINES:
        raise ProductUnavailable
    found: list[Product] = []
    for line in wanted:
        product = await products.get(shop.db.reader, line.product_id)
        if product is None or not product.buyable:
            raise ProductUnavailable
        found.append(product)
    code = shop.languages.get(language).code
    sold = {p.id: p for p in await translations.localized(shop.db.reader, found, code)}
    elsewhere = [product.title for product in sold.values() if not product.sells_on(rail)]
    if elsewhere:
        raise NotOnRail(rail, elsewhere)
    by_currency: dict[str, list[str]] = {}
    for product in sold.values():
        by_currency.setdefault(product.price_on(rail)[1], []).append(product.title)
    if len(by_currency) > 1:
        ordered = sorted(by_currency.items(), key=lambda item: (-len(item[1]), item[0]))
        raise MixedCurrencies(dict(ordered))
    total = sum(sold[line.product_id].price_on(rail)[0] * line.quantity for line in wanted)
    if total > MAX_AMOUNT:
        raise TotalTooLarge(MAX_AMOUNT)
    return sold


def _shipping_countries(sold: dict[int, Product], shop_countries: tuple[str, ...]) -> list[str]:
    """Where every physical product can go: each one's own list (or the shop's), in the first
    one's order. Empty when nothing ships; NoCommonCountry when they share no country."""
    common: list[str] | None = None
    for product in sold.values():
        if product.kind is ProductKind.PHYSICAL:
            own = product.shipping_countries or shop_countries
            common = list(own) if common is None else [c for c in common if c in own]
    if common is not None and not common:
        raise NoCommonCountry
    return common or []


async def _create_session(
    shop: Shop, order: Order, sold: dict[int, Product], countries: list[str]
) -> CheckoutLink:
    """Stripe's session for the order; a refusal or an outage ends the order (its stock back)."""
    try:
        return await shop.stripe.create_checkout_session(
            order, sold, countries, shop.checkout_settings
        )
    except StripeBusy as error:
        await _fail(shop, order, N_("Stripe was busy: no payment link was created"))
        raise CheckoutFailed from error
    except stripe.StripeError as error:
        log.error(
            "checkout for order %s failed: %s (status %s, code %s, request %s)",
            order.id,
            type(error).__name__,
            error.http_status,
            error.code,
            error.request_id,
        )
        refused = Said(
            N_("Stripe refused the payment link ({code})"),
            {"code": error.code or type(error).__name__},
        )
        await _fail(shop, order, refused.stored())
        raise CheckoutFailed from error


async def _attach(shop: Shop, order: Order, link: CheckoutLink) -> Order:
    """The session is the order's: it now awaits payment at that URL."""
    async with shop.db.transaction() as tx:
        current = await orders.get(tx, order.id)
        assert current is not None
        await orders.update(
            tx, order.id, checkout_session_id=link.session_id, checkout_url=link.url
        )
        await orders.transition(tx, current, OrderStatus.AWAITING_PAYMENT)
        updated = await orders.get(tx, order.id)
    assert updated is not None
    return updated


async def new_order(
    shop: Shop,
    buyer: Buyer,
    sold: dict[int, Product],
    wanted: Sequence[Wanted],
    from_cart: bool,
    rail: Rail,
) -> Order:
    """The order row and its lines, priced from the database at `rail`'s prices, with every
    stock line's items reserved in the same transaction (all lines or none). A Stripe order is
    pending until its session exists; a Stars order awaits payment at once (its invoice is
    made from this row alone).

    Durable: once Stripe has the session (or the buyer the invoice), a payment may name this
    order at any time, so its row must survive even a power loss (see `Database.transaction`)."""
    lines = [_priced(sold[line.product_id], line.quantity, rail) for line in wanted]
    async with shop.db.transaction(durable=True) as tx:
        if await orders.purchase_in_flight(
            tx,
            buyer_user_id=buyer.user_id,
            basket=basket_of([(w.product_id, w.quantity) for w in wanted]),
            rail=rail,
            since=now() - LINK_IN_FLIGHT_SECONDS,
        ):
            raise LinkInProgress
        order = await orders.create(
            tx,
            buyer_user_id=buyer.user_id,
            buyer_chat_id=buyer.chat_id,
            buyer_name=buyer.name,
            lines=lines,
            currency=sold[wanted[0].product_id].price_on(rail)[1],
            expires_at=session_expiry(shop.settings.checkout_expires_minutes, now()),
            from_cart=from_cart,
            rail=rail,
            language=buyer.language,
        )
        for line in order.lines:
            if line.kind is ProductKind.DIGITAL_STOCK:
                # Raising rolls the order back too: nothing was promised to anyone.
                await _reserve_within_cap(shop, tx, buyer, order, line)
        if rail is Rail.STARS:
            await orders.transition(tx, order, OrderStatus.AWAITING_PAYMENT)
            order = await orders.get(tx, order.id) or order
    return order


def _priced(product: Product, quantity: int, rail: Rail) -> orders.NewLine:
    """An order line as the product is sold on `rail` right now: its title, kind and price."""
    unit_amount, _ = product.price_on(rail)
    return orders.NewLine(product.id, product.title, product.kind, unit_amount, quantity)


async def _reserve_within_cap(
    shop: Shop, tx: Connection, buyer: Buyer, order: Order, line: OrderLine
) -> None:
    """Reserve the line's items, unless the buyer would then hold more of this product in
    unpaid orders than MAX_RESERVED_PER_BUYER (so one account cannot hold a whole pool)."""
    held = await stock.reserved_by_buyer(tx, line.product_id, buyer.user_id)
    cap = shop.settings.max_reserved_per_buyer
    if held + line.quantity > cap:
        raise HoldingTooMany(max(cap - held, 0), line.title)
    if not await stock.reserve(tx, line.product_id, order.id, line.quantity):
        raise SoldOut(await stock.available(tx, line.product_id), line.title)


async def _fail(shop: Shop, order: Order, reason: str) -> None:
    async with shop.db.transaction() as tx:
        await end_unpaid(tx, order, OrderStatus.FAILED, failure_reason=reason)


async def claim_pay_message(db: Database, order_id: int, message_id: int) -> None:
    """The first pay message stays the order's own: the goods are edited into it, so a second
    one (a double tap reusing the session) must not move the delivery elsewhere."""
    async with db.transaction() as tx:
        await order_messages.claim_message(tx, order_id, message_id)
