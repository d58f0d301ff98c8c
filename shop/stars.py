"""Telegram Stars: Buy → the order row committed (stock reserved) → an invoice made from it
alone → the pre-checkout query answered from the database → the successful payment recorded
once by its `telegram_payment_charge_id` → the same "paid" step as Stripe's (shop/settle.py).

Nothing here calls Telegram: the chat edge sends the invoice this module describes and hands
over the updates, and reconciliation hands over the Star transactions it read
(shop/gateways/telegram_stars.py), so every step is a plain, idempotent database change. A Stars
refund is shop/refunds.py's, beside Stripe's, where /refund finds both.

The invoice speaks the order's language (its title, description and price label); a
pre-checkout refusal, the payer's.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from shop import outbox
from shop.checkout import (
    Buyer,
    SlowDown,
    Wanted,
    new_order,
    open_order,
    products_for_sale,
)
from shop.context import BUY_TAPS, Shop
from shop.gateways.telegram_stars import StarPayment
from shop.i18n import N_, Lang
from shop.money import format_money
from shop.said import Said
from shop.settle import close_unpaid, hold_payment, record_paid
from shop.telegram_text import clip
from storage import order_messages, orders, stock
from storage.clock import now
from storage.models import (
    OPEN_STATES,
    STARS_CURRENCY,
    DeliveryKind,
    Order,
    OrderStatus,
    Product,
    ProductKind,
    Rail,
)
from storage.sql import Connection

log = logging.getLogger(__name__)

# sendInvoice's limits (core.telegram.org/bots/api#sendinvoice): title 1-32 characters,
# description 1-255, payload 1-128 bytes, and for Stars `prices` "must contain exactly one
# item" — so an order of several lines is one price, its total, and the lines are described.
STARS_CODE = "XTR"
TITLE_MAX = 32
DESCRIPTION_MAX = 255
PAYLOAD_MAX_BYTES = 128
# An invoice whose pre-checkout query was answered just before its order expired is still
# being paid for a few seconds: the sweep leaves it this long, so its key is not released.
PAYMENT_GRACE_SECONDS = 60
EXPIRY_BATCH = 100


class Refusal(enum.StrEnum):
    """Why Telegram may not take the buyer's Stars for an invoice."""

    ALREADY_PAID = "already_paid"
    EXPIRED = "expired"
    NOT_YOURS = "not_yours"
    UNKNOWN = "unknown"
    PRICE_CHANGED = "price_changed"
    STOCK_GONE = "stock_gone"


# What Telegram shows the buyer for each refusal, translated into the payer's language.
REFUSALS = {
    Refusal.ALREADY_PAID: N_("This order is already paid: see /orders."),
    Refusal.EXPIRED: N_("This invoice has expired. Please buy again."),
    Refusal.NOT_YOURS: N_("This invoice was made for another Telegram account."),
    Refusal.UNKNOWN: N_("This invoice is no longer valid. Please buy again."),
    Refusal.PRICE_CHANGED: N_("This invoice does not match its order any more. Please buy again."),
    Refusal.STOCK_GONE: N_(
        "Sorry, the items of this order are no longer reserved. Please buy again."
    ),
}


@dataclass(frozen=True)
class Price:
    """Telegram's LabeledPrice: a label and whole Stars."""

    label: str
    amount: int


@dataclass(frozen=True)
class StarsInvoice:
    """What `sendInvoice` needs for an order, in Telegram's limits; the provider token is
    empty and the currency XTR for every Stars invoice."""

    title: str
    description: str
    payload: str
    prices: tuple[Price, ...]
    photo_url: str | None
    currency: str = STARS_CODE
    provider_token: str = ""


@dataclass(frozen=True)
class StarsCheckout:
    order: Order
    invoice: StarsInvoice


async def start_stars_checkout(
    shop: Shop, buyer: Buyer, wanted: Sequence[Wanted], *, from_cart: bool = False
) -> StarsCheckout:
    """An order awaiting payment in Stars, and the invoice to send for it: the buyer's open one
    for the same products and quantities, else a new one, its stock reserved. The same steps
    and refusals as a Stripe checkout (shop/checkout.py), with Stars prices; serialised per
    buyer, so a double tap makes one order."""
    if not await shop.limits.allow(BUY_TAPS, buyer.user_id):
        raise SlowDown
    async with shop.buyer_locks.hold(buyer.user_id):
        sold = await products_for_sale(shop, wanted, Rail.STARS, buyer.language)
        order = await open_order(shop, buyer, wanted, Rail.STARS)
        if order is None:
            order = await new_order(shop, buyer, sold, wanted, from_cart, Rail.STARS)
        elif order.language != buyer.language:
            # An open order made while the buyer spoke another language: its invoice speaks
            # the order's, the products' descriptions as much as its lines' titles.
            sold = await products_for_sale(shop, wanted, Rail.STARS, order.language)
    return StarsCheckout(order, invoice_for(shop.languages.get(order.language), order, sold))


def invoice_for(lang: Lang, order: Order, sold: Mapping[int, Product]) -> StarsInvoice:
    """The invoice of a Stars order in `lang` (the order's): one line's product title and
    description, or for several lines "First product + 2 more" and the list of lines; one
    price, the order's total."""
    first = order.lines[0]

    def counted(quantity: int, title: str) -> str:
        return lang.t("{quantity} × {title}", quantity=lang.number(quantity), title=title)

    if len(order.lines) == 1:
        title = first.title
        product = sold.get(first.product_id)
        description = product.description if product and first.quantity == 1 else ""
        description = description or counted(first.quantity, first.title)
    else:
        more = len(order.lines) - 1
        title = lang.nt("{title} + {n} more", "{title} + {n} more", more, title=first.title)
        description = lang.join(counted(line.quantity, line.title) for line in order.lines)
    assert len(order.ref.encode()) <= PAYLOAD_MAX_BYTES
    photos = (sold[line.product_id].photo for line in order.lines if line.product_id in sold)
    return StarsInvoice(
        title=_clip(lang, title, TITLE_MAX),
        description=_clip(lang, description, DESCRIPTION_MAX),
        payload=order.ref,
        prices=(Price(_clip(lang, title, TITLE_MAX), order.amount_total),),
        photo_url=next((photo for photo in photos if _is_url(photo)), None),
    )


def _is_url(photo: str | None) -> bool:
    """A product photo Telegram can fetch for an invoice: `photo_url` takes a URL, and most of
    ours are Telegram file ids (a photo sent to the wizard), which it does not take."""
    return photo is not None and photo.startswith("https://")


def _clip(lang: Lang, text: str, limit: int) -> str:
    """`text` on one line within `limit` as Telegram counts it, never empty (Telegram needs at
    least one character)."""
    return clip(" ".join(text.split()) or lang.t("Order"), limit)


class PreCheckout(NamedTuple):
    """The answer to a pre_checkout_query: ok, or the message Telegram shows the buyer."""

    ok: bool
    error_message: str | None


async def answer_pre_checkout(
    shop: Shop,
    lang: Lang,
    payload: str,
    currency: str,
    total_amount: int,
    payer_user_id: int | None = None,
) -> PreCheckout:
    """Whether Telegram may take the buyer's Stars, from the database alone (Telegram cancels
    the payment after 10 seconds): only for an order of ours, awaiting payment, not expired,
    for exactly its amount in Stars, paid by its own buyer, with its stock still reserved.
    A refusal is worded in `lang`, the payer's.

    Read through the reader connection, so a long write transaction never delays it."""
    order = await orders.by_ref(shop.db.reader, payload)
    refusal = _refusal(order, currency, total_amount, payer_user_id)
    if refusal is None and order is not None and not await _stock_held(shop.db.reader, order):
        refusal = Refusal.STOCK_GONE
    if refusal is None:
        return PreCheckout(True, None)
    return PreCheckout(False, lang.t(REFUSALS[refusal]))


def _refusal(
    order: Order | None, currency: str, total_amount: int, payer_user_id: int | None
) -> Refusal | None:
    if order is None or order.rail is not Rail.STARS:
        return Refusal.UNKNOWN
    if order.is_paid or order.payment_id is not None:
        return Refusal.ALREADY_PAID
    if order.status not in OPEN_STATES or order.expires_at <= now():
        return Refusal.EXPIRED
    if payer_user_id is not None and payer_user_id != order.buyer_user_id:
        return Refusal.NOT_YOURS
    if currency.lower() != STARS_CURRENCY or total_amount != order.amount_total:
        return Refusal.PRICE_CHANGED
    return None


async def _stock_held(conn: Connection, order: Order) -> bool:
    """Every stock line's items are still reserved for the order."""
    for line in order.lines:
        held = line.quantity
        if line.kind is ProductKind.DIGITAL_STOCK:
            held = await stock.reserved_for(conn, order.id, line.product_id)
        if held < line.quantity:
            return False
    return True


async def record_successful_payment(
    shop: Shop, payload: str, currency: str, total_amount: int, telegram_payment_charge_id: str
) -> str:
    """Record a Stars payment once, by its charge id, and move its order to paid with the
    goods owed — all in one transaction. The same payment seen again (a re-fetched update, a
    restart, reconciliation) changes nothing. Returns what happened: "paid", "already_recorded",
    "mismatch" (held for the admin), "duplicate" (a second charge for a paid order: the admins
    are told), "unknown" (no Stars order of ours; logged)."""
    async with shop.transaction() as tx:
        return await record_payment_in(
            tx, shop, payload, currency, total_amount, telegram_payment_charge_id
        )


async def record_payment_in(
    tx: Connection,
    shop: Shop,
    payload: str,
    currency: str,
    total_amount: int,
    charge_id: str,
) -> str:
    """`record_successful_payment` inside the caller's transaction, so reconciliation can
    store how far it read Telegram's ledger in the same commit as what it recorded."""
    if await orders.by_star_charge(tx, charge_id) is not None:
        return "already_recorded"
    order = await orders.by_ref(tx, payload)
    if order is None or order.rail is not Rail.STARS:
        log.error("Stars payment %s names no Stars order here: refund it by hand", charge_id)
        return "unknown"
    outcome = await _record(tx, shop, order, currency, total_amount, charge_id)
    log.info("Stars payment %s for order %s: %s", charge_id, order.id, outcome)
    return outcome


async def _record(
    tx: Connection,
    shop: Shop,
    order: Order,
    currency: str,
    total_amount: int,
    charge_id: str,
) -> str:
    if order.payment_id is not None:
        detail = Said(
            N_(
                "A second Stars payment ({amount} Stars) arrived for it; refund it with "
                "Telegram's refundStarPayment (user {user}, charge {charge})."
            ),
            {"amount": total_amount, "user": order.buyer_user_id, "charge": charge_id},
        )
        owed = outbox.Owed(outbox.Topic.DOUBLE_PAYMENT, order.id, charge_id)
        kind = DeliveryKind.PROBLEM_ALERT
        await outbox.owe_admins(tx, shop.settings.admin_ids, order.id, kind, owed, detail.stored())
        return "duplicate"
    # The invoice stops being the order's message: Telegram edits no invoice's text, so the
    # receipt (or the held notice) goes out as a new message that becomes the order's.
    payment = {
        "telegram_payment_charge_id": charge_id,
        "amount_charged": total_amount,
        "message_id": None,
    }
    if currency.lower() != STARS_CURRENCY or total_amount != order.amount_total:
        problem = Said(
            N_("Telegram reported {paid} paid, but the order is for {expected}"),
            {
                "paid": f"{total_amount} {currency[:10]}",
                "expected": format_money(order.amount_total, STARS_CURRENCY),
            },
        )
        detail = Said(N_("deliver by hand or refund it: /refund {order}"), {"order": order.id})
        return await hold_payment(tx, shop, order, problem, detail, **payment)
    return "paid" if await record_paid(tx, shop, order, **payment) else "ignored"


async def expire_stars_orders(shop: Shop) -> int:
    """End the Stars orders left unpaid past their expiry (and a grace for a payment under
    way): their stock goes back, the invoice message is owed its removal (bot/delivery.py)
    and the buyer is told as for an expired Checkout link. Returns how many ended."""
    ended = 0
    overdue = await orders.open_expired(
        shop.db.reader, before=now() - PAYMENT_GRACE_SECONDS, limit=EXPIRY_BATCH, rail=Rail.STARS
    )
    for order in overdue:
        async with shop.transaction() as tx:
            current = await orders.get(tx, order.id)
            if current is not None:
                outcome = await close_unpaid(tx, shop, current, OrderStatus.EXPIRED)
                ended += outcome == OrderStatus.EXPIRED.value
    return ended


async def reconcile_star_transactions(shop: Shop, payments: Iterable[StarPayment]) -> int:
    """Record the Stars payments Telegram's ledger shows but we never saw (the process died
    after Telegram handed over `successful_payment`): each once, as if its update had come.
    Returns how many orders became paid."""
    payments = [p for p in payments if not await _recorded(shop, p)]
    if not payments:
        return 0  # all recorded already: no write transaction
    async with shop.transaction() as tx:
        return await reconcile_payments_in(tx, shop, payments)


async def reconcile_payments_in(tx: Connection, shop: Shop, payments: Iterable[StarPayment]) -> int:
    """`reconcile_star_transactions` inside the caller's transaction."""
    recovered = 0
    for payment in payments:
        outcome = await record_payment_in(
            tx, shop, payment.invoice_payload, STARS_CODE, payment.amount, payment.charge_id
        )
        recovered += outcome == "paid"
    if recovered:
        log.warning("reconciliation: %s lost Stars payments recorded", recovered)
    return recovered


async def claim_invoice_message(
    shop: Shop, order_id: int, message_id: int, *, replacing: int | None
) -> None:
    """The invoice message is the order's own (the receipt and the expiry edit go there). The
    first one sent stays it, as for a Stripe pay message; one sent because the buyer deleted
    the previous (`replacing`) takes its place, so later edits reach a message they can see."""
    async with shop.transaction() as tx:
        if replacing is None:
            await order_messages.claim_message(tx, order_id, message_id)
            return
        current = await orders.get(tx, order_id)
        # Not once paid: the paid invoice is no longer the order's message (the receipt is).
        if current is not None and current.message_id == replacing and not current.is_paid:
            await orders.update(tx, order_id, message_id=message_id)


async def _recorded(shop: Shop, payment: StarPayment) -> bool:
    return await orders.by_star_charge(shop.db.reader, payment.charge_id) is not None
