"""Typed records read from the database, and the order life cycle's allow-list."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage.sql import Row


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    AWAITING_PAYMENT = "awaiting_payment"
    PROCESSING = "processing"
    PAID = "paid"
    FULFILLED = "fulfilled"
    FAILED = "failed"
    EXPIRED = "expired"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


S = OrderStatus

# Where an order may go from each state. Anything else would move it backwards and is refused,
# so events arriving late, twice or out of order cannot undo a payment. Money taken always wins:
# an order that failed or expired locally still becomes paid if Stripe says it was paid, and one
# whose payment was taken but not delivered (it did not match the order) can be refunded.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: frozenset({S.AWAITING_PAYMENT, S.PROCESSING, S.PAID, S.FAILED, S.EXPIRED}),
    S.AWAITING_PAYMENT: frozenset({S.PROCESSING, S.PAID, S.FAILED, S.EXPIRED}),
    S.PROCESSING: frozenset({S.PAID, S.FAILED}),
    S.PAID: frozenset({S.FULFILLED, S.REFUNDED, S.PARTIALLY_REFUNDED}),
    S.FULFILLED: frozenset({S.REFUNDED, S.PARTIALLY_REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.FAILED: frozenset({S.PAID, S.REFUNDED}),
    S.EXPIRED: frozenset({S.PAID, S.REFUNDED}),
    S.REFUNDED: frozenset(),
}

# States in which the buyer has paid and is owed (or has had) the goods.
PAID_STATES = frozenset({S.PAID, S.FULFILLED, S.PARTIALLY_REFUNDED})
# States in which a Checkout Session may still be paid.
OPEN_STATES = frozenset({S.PENDING, S.AWAITING_PAYMENT})


def can_transition(current: OrderStatus, new: OrderStatus) -> bool:
    return new in TRANSITIONS[current]


class ShippingStage(enum.StrEnum):
    """Where a paid physical order is on its way to the buyer (beside its payment status,
    which goes on deciding refunds and sales: a shipped order can still be partly refunded)."""

    TO_SHIP = "to_ship"
    SHIPPED = "shipped"  # with or without tracking; the tracking may be added or corrected
    DELIVERED = "delivered"  # the admin's optional mark


# The stages' allow-list, the counterpart of TRANSITIONS: SHIPPED → SHIPPED is a tracking
# number added or corrected.
SHIPPING_MOVES: dict[ShippingStage, frozenset[ShippingStage]] = {
    ShippingStage.TO_SHIP: frozenset({ShippingStage.SHIPPED}),
    ShippingStage.SHIPPED: frozenset({ShippingStage.SHIPPED, ShippingStage.DELIVERED}),
    ShippingStage.DELIVERED: frozenset(),
}


def can_move_shipping(current: ShippingStage | None, new: ShippingStage) -> bool:
    """Only a paid physical order (one with a stage) moves, and only along SHIPPING_MOVES."""
    return current is not None and new in SHIPPING_MOVES[current]


class ProductKind(enum.StrEnum):
    DIGITAL_TEXT = "digital_text"  # a fixed delivery text (a link, instructions)
    DIGITAL_STOCK = "digital_stock"  # one unique item per unit from a pool (license keys)
    PHYSICAL = "physical"  # shipped: Checkout collects the address
    SERVICE = "service"  # confirmation plus the merchant's note


class Rail(enum.StrEnum):
    """How an order is paid: Stripe Checkout, or Telegram Stars (currency `STARS_CURRENCY`)."""

    STRIPE = "stripe"
    STARS = "stars"


class ProductRail(enum.StrEnum):
    """Which rails a product is sold through; `both` lets the buyer pick."""

    STRIPE = "stripe"
    STARS = "stars"
    BOTH = "both"

    def includes(self, rail: Rail) -> bool:
        """Whether a product on this rail is sold (so priced) through `rail`."""
        return self is ProductRail.BOTH or self.value == rail.value


# A Stars order's currency: Telegram's code is "XTR"; we store codes in lower case.
STARS_CURRENCY = "xtr"


@dataclass(frozen=True)
class Product:
    id: int
    title: str
    description: str
    price_minor: int
    currency: str
    photo: str | None
    delivery_text: str
    active: bool
    position: int
    kind: ProductKind = ProductKind.DIGITAL_TEXT
    category: str | None = None
    archived: bool = False
    shipping_countries: tuple[str, ...] | None = None  # physical only; None: the shop's list
    show_when_stocked: bool = False  # hidden until a /stock upload gives it items
    rail: ProductRail = ProductRail.STRIPE
    stars_price: int | None = None  # whole Stars; set exactly when the rail includes Stars

    def sells_on(self, rail: Rail) -> bool:
        """The one rule of where a product is sold: on its own rail, or on either for `both`.
        Migration 0008 checks the rest: a Stars rail has its Stars price, and a physical
        product is Stripe's (only Checkout collects an address)."""
        return self.rail.includes(rail)

    def price_on(self, rail: Rail) -> tuple[int, str]:
        """The unit price and currency an order on `rail` charges: the Stripe price in its
        currency, or the Stars price in whole Stars. ValueError if not sold on that rail."""
        if not self.sells_on(rail):
            raise ValueError(f"product {self.id} is not sold through {rail.value}")
        if rail is Rail.STARS:
            assert self.stars_price is not None
            return self.stars_price, STARS_CURRENCY
        return self.price_minor, self.currency

    @property
    def listed(self) -> bool:
        """Whether buyers may see it (its card, its category): shown and not archived."""
        return self.active and not self.archived

    @property
    def buyable(self) -> bool:
        """Whether a buyer may order it now (its card, its quantity buttons, checkout): only a
        listed product; a hidden or archived one is refused the same way at every step."""
        return self.listed

    @classmethod
    def from_row(cls, row: Row) -> Product:
        return cls(
            id=row["id"],
            title=row["title"],
            description=row["description"],
            price_minor=row["price_minor"],
            currency=row["currency"],
            photo=row["photo"],
            delivery_text=row["delivery_text"],
            active=bool(row["active"]),
            position=row["position"],
            kind=ProductKind(row["kind"]),
            category=row["category"],
            archived=bool(row["archived"]),
            shipping_countries=tuple(row["shipping_countries"].split(","))
            if row["shipping_countries"]
            else None,
            show_when_stocked=bool(row["show_when_stocked"]),
            rail=ProductRail(row["rail"]),
            stars_price=row["stars_price"],
        )


@dataclass(frozen=True)
class OrderLine:
    """One product of an order as it was sold: its title, kind and unit price at that moment
    (the product may be renamed, repriced or deleted later), and how many."""

    line_no: int
    product_id: int
    title: str
    kind: ProductKind
    unit_amount: int
    quantity: int

    @property
    def subtotal(self) -> int:
        return self.unit_amount * self.quantity

    @property
    def ships(self) -> bool:
        return self.kind is ProductKind.PHYSICAL

    @classmethod
    def from_row(cls, row: Row) -> OrderLine:
        return cls(
            line_no=row["line_no"],
            product_id=row["product_id"],
            title=row["title"],
            kind=ProductKind(row["kind"]),
            unit_amount=row["unit_amount"],
            quantity=row["quantity"],
        )


def basket_of(lines: Sequence[tuple[int, int]]) -> str:
    """What an order buys as "product×quantity" by product id ("7x2,12x1"): the one key by
    which a second tap on the same purchase finds the payment link it already has."""
    return ",".join(f"{product_id}x{quantity}" for product_id, quantity in sorted(lines))


@dataclass(frozen=True)
class Order:
    id: int
    ref: str
    buyer_user_id: int
    buyer_chat_id: int
    buyer_name: str
    basket: str
    ships: bool  # some line is physical: an address was collected, the order has a stage
    from_cart: bool  # checked out from the buyer's cart (not "Buy now" on a card)
    amount_total: int  # what we offered: the sum of the lines' subtotals
    currency: str
    status: OrderStatus
    checkout_session_id: str | None
    checkout_url: str | None
    expires_at: int
    payment_intent_id: str | None
    message_id: int | None
    failure_reason: str | None
    created_at: int
    updated_at: int
    paid_at: int | None
    shipping_address: str | None
    shipped_at: int | None
    tracking: str | None
    amount_refunded: int
    amount_discount: int  # what a promotion code took off amount_total
    amount_charged: int | None  # what Stripe took, once a payment is recorded
    delivered_at: int | None
    lines: tuple[OrderLine, ...]
    rail: Rail = Rail.STRIPE  # how it is paid; a Stars order is in STARS_CURRENCY
    telegram_payment_charge_id: str | None = None  # a Stars payment's unique id, once recorded
    language: str | None = None  # the buyer's language when ordering; None: the shop's default

    @classmethod
    def from_row(cls, row: Row, lines: Sequence[OrderLine]) -> Order:
        values: dict[str, Any] = {key: row[key] for key in row.keys()}  # noqa: SIM118
        values["status"] = OrderStatus(values["status"])
        values["ships"] = bool(values["ships"])
        values["from_cart"] = bool(values["from_cart"])
        values["rail"] = Rail(values["rail"])
        return cls(**values, lines=tuple(sorted(lines, key=lambda line: line.line_no)))

    @property
    def units(self) -> int:
        """How many items in all its lines."""
        return sum(line.quantity for line in self.lines)

    def has_kind(self, kind: ProductKind) -> bool:
        return any(line.kind is kind for line in self.lines)

    @property
    def is_paid(self) -> bool:
        return self.status in PAID_STATES

    @property
    def shipping_stage(self) -> ShippingStage | None:
        """A paid physical order's stage; None for other kinds and unpaid or refunded orders."""
        if not self.ships or not self.is_paid:
            return None
        if self.delivered_at is not None:
            return ShippingStage.DELIVERED
        return ShippingStage.TO_SHIP if self.shipped_at is None else ShippingStage.SHIPPED

    @property
    def can_ship(self) -> bool:
        """A paid physical order not yet marked shipped: the one rule for /ship's first
        marking and the order card's "Mark shipped" button."""
        return self.shipping_stage is ShippingStage.TO_SHIP

    @property
    def payment_held(self) -> bool:
        """Money was taken but not accepted (Stripe's figures did not match the order): its
        goods are never shown or sent, whatever happens to the order later (a refund, say)."""
        return self.amount_charged is not None and self.paid_at is None

    @property
    def carries_goods(self) -> bool:
        """Some line's goods travel in a message (it is not physical): the receipt is a
        delivery, whether or not the order was paid yet."""
        return any(not line.ships for line in self.lines)

    @property
    def can_resend(self) -> bool:
        """Paid goods that a message carries can be sent again."""
        return self.is_paid and self.carries_goods

    @property
    def amount_paid(self) -> int:
        """What the buyer paid: Stripe's charge once recorded, else our price less the discount."""
        if self.amount_charged is not None:
            return self.amount_charged
        return self.amount_total - self.amount_discount

    def carries_reference(self, ref: object) -> bool:
        """Whether a payment's `order_ref` metadata names this order: the one test of "this
        session (or payment) is ours" — a bare numeric id also comes from another integration
        on the Stripe account, or from a staging database."""
        return isinstance(ref, str) and ref == self.ref

    @property
    def payment_id(self) -> str | None:
        """The id its rail knows the payment by, once recorded: what a refund names."""
        if self.rail is Rail.STARS:
            return self.telegram_payment_charge_id
        return self.payment_intent_id

    @property
    def message_is_invoice(self) -> bool:
        """Its own message is still the Stars invoice it was sent, whose text no edit can
        change: until a payment is recorded (shop/stars.py lets go of the invoice then, and
        the receipt is sent as a new message that becomes the order's)."""
        return (
            self.rail is Rail.STARS
            and self.message_id is not None
            and self.telegram_payment_charge_id is None
        )

    @property
    def refundable_amount(self) -> int:
        """What an admin may still give back: what the rail charged and we recorded, less what
        was refunded. The one rule for /refund, its button and the refund bookkeeping: it holds
        for a payment that was delivered and for one that was not (an amount that did not
        match), and is 0 for anything never charged or without its payment's id (Stripe's
        PaymentIntent, Telegram's charge id)."""
        if self.payment_id is None or self.amount_charged is None:
            return 0
        return max(self.amount_charged - self.amount_refunded, 0)


class DeliveryKind(enum.StrEnum):
    GOODS = "goods"  # the receipt with the goods, to the buyer
    RESEND = "resend"  # the goods again, asked for by the buyer
    SALE_ALERT = "sale_alert"  # "new sale" to an admin
    PROBLEM_ALERT = "problem_alert"  # a payment that needs a human, to an admin
    PROCESSING_NOTICE = "processing_notice"  # "your payment is being confirmed"
    FAILED_NOTICE = "failed_notice"  # "your delayed payment failed" + try again
    EXPIRED_NOTICE = "expired_notice"  # "your payment link expired" + buy again
    SHIPPED_NOTICE = "shipped_notice"  # "your order is on its way", to the buyer
    TRACKING_NOTICE = "tracking_notice"  # a tracking number added or corrected, to the buyer
    REFUND_NOTICE = "refund_notice"  # "you were refunded", to the buyer
    ORDER_MESSAGE = "order_message"  # edit the order's own message to the order's state
    HELD_NOTICE = "held_notice"  # "your payment arrived but needs the merchant's check"


@dataclass(frozen=True)
class Delivery:
    id: int
    dedupe_key: str
    order_id: int
    kind: DeliveryKind
    chat_id: int
    status: str
    attempts: int
    next_attempt_at: int
    detail: str
    last_error: str | None

    @classmethod
    def from_row(cls, row: Row) -> Delivery:
        return cls(
            id=row["id"],
            dedupe_key=row["dedupe_key"],
            order_id=row["order_id"],
            kind=DeliveryKind(row["kind"]),
            chat_id=row["chat_id"],
            status=row["status"],
            attempts=row["attempts"],
            next_attempt_at=row["next_attempt_at"],
            detail=row["detail"],
            last_error=row["last_error"],
        )
