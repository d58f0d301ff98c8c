"""Buy → an order row committed → a Checkout Session → the order awaits payment."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiosqlite
import stripe

from shop.context import Shop
from shop.gateways.stripe_gateway import CheckoutLink, StripeBusy
from shop.unpaid import end_unpaid
from storage import orders, products, stock
from storage.clock import now
from storage.db import Database
from storage.models import Order, OrderStatus, Product, ProductKind

log = logging.getLogger(__name__)

# Stripe checks expires_at against its own clock: 30 minutes to 24 hours after creation. Keep
# this far inside both bounds so that a clock up to 5 minutes off ours (the start-up check warns
# past a minute) cannot push a request outside and fail every Buy.
CLOCK_SKEW_ALLOWANCE_SECONDS = 5 * 60
_MIN_LIFE = 30 * 60 + CLOCK_SKEW_ALLOWANCE_SECONDS
_MAX_LIFE = 24 * 60 * 60 - CLOCK_SKEW_ALLOWANCE_SECONDS
# A link that expires sooner than this is not offered again; a fresh session is made instead.
REUSE_MARGIN_SECONDS = 5 * 60
MAX_OPEN_SESSIONS_PER_BUYER = 5


class CheckoutRefused(Exception):
    """No payment link for this tap; the subclass says why, for the buyer."""


class ProductUnavailable(CheckoutRefused):
    """The product is gone or hidden."""


class SoldOut(CheckoutRefused):
    """Not enough stock items left for the quantity asked."""

    def __init__(self, available: int) -> None:
        super().__init__(f"{available} left")
        self.available = available


class HoldingTooMany(CheckoutRefused):
    """The buyer's unpaid orders already hold (nearly) as many units of the product as one
    buyer may; `room` is how many more they can take now."""

    def __init__(self, room: int) -> None:
        super().__init__(f"{room} more allowed")
        self.room = room


class TooManyOpen(CheckoutRefused):
    """The buyer already has as many unpaid payment links as we allow."""


class SlowDown(CheckoutRefused):
    """The buyer taps Buy faster than a person shops."""


class CheckoutFailed(CheckoutRefused):
    """Stripe refused or could not be reached; the order is marked failed."""


@dataclass(frozen=True)
class Buyer:
    user_id: int
    chat_id: int
    name: str


def session_expiry(minutes: int, at: int) -> int:
    return at + min(max(minutes * 60, _MIN_LIFE), _MAX_LIFE)


async def start_checkout(
    shop: Shop,
    buyer: Buyer,
    product_id: int,
    quantity: int,
    before_stripe: Callable[[], Awaitable[None]] | None = None,
) -> Order:
    """Return an order awaiting payment with its Checkout URL, reusing an open one.

    Serialised per buyer, so a double tap cannot create two sessions. Every refusal is raised
    before `before_stripe` runs (then only Stripe can fail), so the caller can answer a refusal
    in the tap's own answer and otherwise announce the link while Stripe works."""
    if not shop.buy_taps.allow(buyer.user_id):
        raise SlowDown
    async with shop.buyer_locks.hold(buyer.user_id):
        product = await _buyable_product(shop, product_id)
        existing = await _reusable_order(shop, buyer, product, quantity)
        if existing is not None:
            return existing
        await _refuse_too_many_open(shop, buyer)
        order = await _new_order(shop, buyer, product, quantity)
        if before_stripe is not None:
            await before_stripe()
        link = await _create_session(shop, order, product)
        return await _attach_session(shop, order, link)


async def _buyable_product(shop: Shop, product_id: int) -> Product:
    product = await products.get(shop.db.reader, product_id)
    if product is None or not product.buyable:
        raise ProductUnavailable
    return product


async def _reusable_order(
    shop: Shop, buyer: Buyer, product: Product, quantity: int
) -> Order | None:
    """The buyer's open order for the same product and quantity whose link stays valid a while
    longer: a second tap gets the same link instead of a second session."""
    return await orders.open_for(
        shop.db.reader,
        buyer_user_id=buyer.user_id,
        product_id=product.id,
        quantity=quantity,
        valid_after=now() + REUSE_MARGIN_SECONDS,
    )


async def _refuse_too_many_open(shop: Shop, buyer: Buyer) -> None:
    if await orders.count_open(shop.db.reader, buyer.user_id, now()) >= MAX_OPEN_SESSIONS_PER_BUYER:
        raise TooManyOpen


async def _new_order(shop: Shop, buyer: Buyer, product: Product, quantity: int) -> Order:
    """The pending order row, with its stock reserved in the same transaction (all or none).

    Durable: once Stripe has the session, a payment may name this order at any time, so its row
    must survive even a power loss (see `Database.transaction`)."""
    async with shop.db.transaction(durable=True) as tx:
        order = await orders.create(
            tx,
            buyer_user_id=buyer.user_id,
            buyer_chat_id=buyer.chat_id,
            buyer_name=buyer.name,
            product_id=product.id,
            product_title=product.title,
            quantity=quantity,
            unit_amount=product.price_minor,
            currency=product.currency,
            expires_at=session_expiry(shop.settings.checkout_expires_minutes, now()),
            product_kind=product.kind,
        )
        if product.kind is ProductKind.DIGITAL_STOCK:
            # Raising rolls the order back too: nothing was promised to anyone.
            await _reserve_within_cap(shop, tx, buyer, order, quantity)
    return order


async def _reserve_within_cap(
    shop: Shop, tx: aiosqlite.Connection, buyer: Buyer, order: Order, quantity: int
) -> None:
    """Reserve the order's items, unless the buyer would then hold more of this product in
    unpaid orders than MAX_RESERVED_PER_BUYER (so one account cannot hold a whole pool)."""
    held = await stock.reserved_by_buyer(tx, order.product_id, buyer.user_id)
    cap = shop.settings.max_reserved_per_buyer
    if held + quantity > cap:
        raise HoldingTooMany(max(cap - held, 0))
    if not await stock.reserve(tx, order.product_id, order.id, quantity):
        raise SoldOut(await stock.available(tx, order.product_id))


async def _create_session(shop: Shop, order: Order, product: Product) -> CheckoutLink:
    """The order's Checkout Session; when Stripe is busy or refuses, the order fails (its stock
    released) and CheckoutFailed says so to the buyer."""
    try:
        return await shop.stripe.create_checkout_session(order, product, shop.checkout_settings)
    except StripeBusy as error:
        await _fail(shop, order, "checkout: busy")
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
        await _fail(shop, order, f"checkout: {error.code or type(error).__name__}")
        raise CheckoutFailed from error


async def _attach_session(shop: Shop, order: Order, link: CheckoutLink) -> Order:
    """Store the session on the order and move it to awaiting payment."""
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


async def _fail(shop: Shop, order: Order, reason: str) -> None:
    async with shop.db.transaction() as tx:
        await end_unpaid(tx, order, OrderStatus.FAILED, failure_reason=reason)


async def claim_pay_message(db: Database, order_id: int, message_id: int) -> None:
    """The first pay message stays the order's own: the goods are edited into it, so a second
    one (a double tap reusing the session) must not move the delivery elsewhere."""
    async with db.transaction() as tx:
        await orders.claim_message(tx, order_id, message_id)
