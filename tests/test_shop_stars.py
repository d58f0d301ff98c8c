"""Service-level tests of the Telegram Stars rail (shop/stars.py): a real SQLite file and the
shop's use-cases, called with what Telegram's updates carry (the pre-checkout query's payload,
currency and amount; the successful payment's charge id) — the chat edge that reads those
updates comes next. What is asserted is what the shop owes afterwards: the order's state, its
stock, the outbox rows and the sales figures. The refund talks to the Telegram stand-in over
HTTP through python-telegram-bot.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from telegram import Bot, LabeledPrice, StarTransaction, TransactionPartnerUser, User

from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from shop import reconcile, stars
from shop.checkout import Buyer, NotOnRail, SoldOut, Wanted, session_expiry, start_checkout
from shop.context import Shop
from shop.gateways.telegram_stars import StarPayment, star_payments
from shop.i18n import Languages
from shop.money import format_money
from shop.refunds import RefundRefused, refund_order, refund_stars
from storage import orders, products, sales, stock
from storage.clock import now
from storage.models import Order, OrderStatus, ProductKind, ProductRail, Rail
from tests.conftest import ADMIN_ID, BUYER_ID, OTHER_BUYER_ID
from tests.shop_service import owed_keys, stock_states

BUYER = Buyer(user_id=BUYER_ID, chat_id=BUYER_ID, name="Ada")
OTHER = Buyer(user_id=OTHER_BUYER_ID, chat_id=OTHER_BUYER_ID, name="Bob")
STARS = 150
EN = Languages.load(["en"]).default


def _refused(refusal: stars.Refusal) -> str:
    """What Telegram shows an English-speaking payer for `refusal`."""
    return stars.REFUSALS[refusal]


async def _product(
    shop: Shop,
    *,
    items: int = 1,
    rail: ProductRail = ProductRail.STARS,
    kind: ProductKind = ProductKind.DIGITAL_STOCK,
    title: str = "Game key",
) -> int:
    async with shop.db.transaction() as tx:
        product_id = await products.add(
            tx,
            title=title,
            description="A key for the game.",
            price_minor=999,
            currency="eur",
            kind=kind,
            rail=rail,
            stars_price=None if rail is ProductRail.STRIPE else STARS,
            photo="https://shop.test/key.png",
        )
        if kind is ProductKind.DIGITAL_STOCK:
            await stock.add_items(tx, product_id, [f"KEY-{n}" for n in range(items)])
    return product_id


async def _stored(shop: Shop, order_id: int) -> Order:
    order = await orders.get(shop.db.reader, order_id)
    assert order is not None
    return order


async def _checkout(shop: Shop, product_id: int, buyer: Buyer = BUYER) -> Order:
    return (await stars.start_stars_checkout(shop, buyer, [Wanted(product_id, 1)])).order


async def _pay(shop: Shop, order: Order, charge: str = "stxCHARGE1") -> str:
    return await stars.record_successful_payment(shop, order.ref, "XTR", order.amount_total, charge)


async def _set_expiry(shop: Shop, order: Order, expires_at: int) -> None:
    async with shop.db.transaction() as tx:
        await tx.execute("UPDATE orders SET expires_at = ? WHERE id = ?", (expires_at, order.id))


async def test_a_stars_order_is_committed_with_its_key_and_its_invoice_made_from_it(
    shop: Shop,
) -> None:
    product_id = await _product(shop, items=2)
    started = now()
    checkout = await stars.start_stars_checkout(shop, BUYER, [Wanted(product_id, 2)])
    order, invoice = checkout.order, checkout.invoice
    stored = await _stored(shop, order.id)
    assert stored == order and order.status is OrderStatus.AWAITING_PAYMENT
    assert (order.rail, order.currency, order.amount_total) == (Rail.STARS, "xtr", 2 * STARS)
    expiry = session_expiry(shop.settings.checkout_expires_minutes, started)
    assert expiry <= order.expires_at <= expiry + 2
    assert await stock_states(shop, product_id) == {"reserved": 2}
    assert invoice == stars.StarsInvoice(
        title="Game key",
        description="2 × Game key",
        payload=order.ref,
        prices=(stars.Price("Game key", 2 * STARS),),
        photo_url="https://shop.test/key.png",
    )
    assert (invoice.currency, invoice.provider_token) == ("XTR", "")
    # A second tap offers the same order and invoice again.
    again = await stars.start_stars_checkout(shop, BUYER, [Wanted(product_id, 2)])
    assert again == checkout
    assert await stock_states(shop, product_id) == {"reserved": 2}


async def test_a_successful_payment_seen_twice_delivers_once_and_sells_in_stars(
    shop: Shop,
) -> None:
    product_id = await _product(shop, items=2)
    order = await _checkout(shop, product_id)
    ok = await stars.answer_pre_checkout(shop, EN, order.ref, "XTR", STARS, BUYER_ID)
    assert ok == (True, None)
    assert await _pay(shop, order) == "paid"
    paid = await _stored(shop, order.id)
    assert paid.status is OrderStatus.PAID and paid.telegram_payment_charge_id == "stxCHARGE1"
    assert (paid.amount_charged, paid.amount_paid, paid.refundable_amount) == (STARS,) * 3
    owed = [f"goods:{order.id}", f"sale:{order.id}:{ADMIN_ID}"]
    assert await owed_keys(shop) == owed
    assert await stock_states(shop, product_id) == {"available": 1, "sold": 1}

    assert await _pay(shop, order) == "already_recorded"  # a re-fetched update, a restart
    assert await _stored(shop, order.id) == paid
    assert await owed_keys(shop) == owed
    assert await stock_states(shop, product_id) == {"available": 1, "sold": 1}
    totals = await sales.totals(shop.db.reader, since=0)
    assert [(t.currency, t.orders, t.units, t.revenue) for t in totals] == [("xtr", 1, 1, STARS)]
    assert format_money(totals[0].revenue, totals[0].currency) == "⭐ 150"


async def test_pre_checkout_is_refused_with_a_message_unless_the_order_can_be_paid(
    shop: Shop,
) -> None:
    product_id = await _product(shop, items=3)
    order = await _checkout(shop, product_id)

    async def answer(payload: str = order.ref, amount: int = STARS, payer: int = BUYER_ID) -> str:
        ok, message = await stars.answer_pre_checkout(shop, EN, payload, "XTR", amount, payer)
        assert ok is (message is None)
        return message or "ok"

    assert await answer() == "ok"
    assert await answer(amount=STARS - 1) == _refused(stars.Refusal.PRICE_CHANGED)
    assert await answer(payer=OTHER_BUYER_ID) == _refused(stars.Refusal.NOT_YOURS)
    assert await answer(payload="not-an-order") == _refused(stars.Refusal.UNKNOWN)
    async with shop.db.transaction() as tx:  # its key is no longer held for it
        await stock.release(tx, order.id)
    assert await answer() == _refused(stars.Refusal.STOCK_GONE)
    async with shop.db.transaction() as tx:
        assert await stock.reserve(tx, product_id, order.id, 1)
    await _set_expiry(shop, order, now() - 1)
    assert await answer() == _refused(stars.Refusal.EXPIRED)
    await _set_expiry(shop, order, now() + 3600)
    assert await _pay(shop, order) == "paid"
    assert await answer() == _refused(stars.Refusal.ALREADY_PAID)
    stripe_product = await _product(shop, rail=ProductRail.BOTH, title="Ebook")
    stripe_order = await start_checkout(shop, BUYER, [Wanted(stripe_product, 1)])
    # A Stripe order's ref is no Stars invoice of ours.
    assert await answer(payload=stripe_order.ref) == _refused(stars.Refusal.UNKNOWN)


async def test_a_cart_mixing_rails_is_refused_naming_the_lines_and_both_sells_either_way(
    shop: Shop,
) -> None:
    key = await _product(shop, items=2)
    ebook = await _product(
        shop, rail=ProductRail.BOTH, kind=ProductKind.DIGITAL_TEXT, title="Ebook"
    )
    mug = await _product(shop, rail=ProductRail.STRIPE, kind=ProductKind.PHYSICAL, title="Mug")
    with pytest.raises(NotOnRail) as refused:
        await stars.start_stars_checkout(shop, BUYER, [Wanted(key, 1), Wanted(mug, 1)])
    assert (refused.value.rail, refused.value.titles) == (Rail.STARS, ["Mug"])
    with pytest.raises(NotOnRail) as refused:
        await start_checkout(shop, BUYER, [Wanted(ebook, 1), Wanted(key, 1), Wanted(mug, 1)])
    assert (refused.value.rail, refused.value.titles) == (Rail.STRIPE, ["Game key"])
    assert await stock_states(shop, key) == {"available": 2}  # nothing reserved by a refusal

    in_stars = (await stars.start_stars_checkout(shop, BUYER, [Wanted(ebook, 1)])).order
    by_card = await start_checkout(shop, BUYER, [Wanted(ebook, 1)])
    assert (in_stars.rail, in_stars.currency, in_stars.amount_total) == (Rail.STARS, "xtr", STARS)
    assert (by_card.rail, by_card.currency, by_card.amount_total) == (Rail.STRIPE, "eur", 999)
    assert by_card.checkout_url and by_card.id != in_stars.id


async def test_two_buyers_racing_for_the_last_key_in_stars_one_gets_it(shop: Shop) -> None:
    product_id = await _product(shop, items=1)
    results = await asyncio.gather(
        _checkout(shop, product_id, BUYER), _checkout(shop, product_id, OTHER),
        return_exceptions=True,
    )  # fmt: skip
    won = [result for result in results if isinstance(result, Order)]
    lost = [result for result in results if isinstance(result, SoldOut)]
    assert len(won) == 1 and len(lost) == 1 and lost[0].available == 0
    assert await stock_states(shop, product_id) == {"reserved": 1}
    assert await _pay(shop, won[0]) == "paid"
    assert await stock_states(shop, product_id) == {"sold": 1}


async def test_an_unpaid_stars_order_expires_frees_its_key_and_money_taken_still_wins(
    shop: Shop, stripe_api: FakeStripe
) -> None:
    product_id = await _product(shop, items=1)
    order = await _checkout(shop, product_id)
    await _set_expiry(shop, order, now() - 1)  # expired, but a payment may be under way
    await reconcile.reconcile(shop)
    assert (await _stored(shop, order.id)).status is OrderStatus.AWAITING_PAYMENT
    await _set_expiry(shop, order, now() - stars.PAYMENT_GRACE_SECONDS - 1)
    report = await reconcile.reconcile(shop)
    assert report.expired == 1 and report.errors == 0
    assert (await _stored(shop, order.id)).status is OrderStatus.EXPIRED
    assert await stock_states(shop, product_id) == {"available": 1}
    assert await owed_keys(shop) == [
        f"order_message:{order.id}:expired",
        f"expired_notice:{order.id}",
    ]
    assert (await reconcile.reconcile(shop)).expired == 0
    assert (await reconcile.catch_up_payments(shop)).seen == 0
    assert stripe_api.requests == []  # Stripe is never asked about a Stars order
    refusal = await stars.answer_pre_checkout(shop, EN, order.ref, "XTR", STARS, BUYER_ID)
    assert refusal == (False, _refused(stars.Refusal.EXPIRED))

    assert await _pay(shop, order) == "paid"  # paid after all: the key is taken again
    assert (await _stored(shop, order.id)).status is OrderStatus.PAID
    assert await stock_states(shop, product_id) == {"sold": 1}


async def test_a_lost_successful_payment_is_found_in_the_star_ledger_and_recorded_once(
    shop: Shop,
) -> None:
    product_id = await _product(shop, items=2)
    order = await _checkout(shop, product_id)
    refunded = await _checkout(shop, await _product(shop, items=1, title="Other"), OTHER)
    buyer = User(BUYER_ID, "Ada", is_bot=False)
    other = User(OTHER_BUYER_ID, "Bob", is_bot=False)
    day = datetime(2026, 12, 6, tzinfo=UTC)
    ledger = [
        StarTransaction("stxLOST", STARS, day, source=_paid(buyer, order.ref)),
        StarTransaction("stxBACK", STARS, day, source=_paid(other, refunded.ref)),
        StarTransaction("stxBACK", STARS, day, receiver=_paid(other, refunded.ref)),
    ]
    found = star_payments(ledger)
    assert found == [StarPayment("stxLOST", STARS, BUYER_ID, order.ref)]
    assert await stars.reconcile_star_transactions(shop, found) == 1
    paid = await _stored(shop, order.id)
    assert paid.status is OrderStatus.PAID and paid.telegram_payment_charge_id == "stxLOST"
    owed = [f"goods:{order.id}", f"sale:{order.id}:{ADMIN_ID}"]
    assert await owed_keys(shop) == owed
    assert await stars.reconcile_star_transactions(shop, found) == 0  # the next pass
    assert await _pay(shop, order, "stxLOST") == "already_recorded"  # the update, late
    assert await _stored(shop, order.id) == paid
    assert await owed_keys(shop) == owed
    assert (await _stored(shop, refunded.id)).status is OrderStatus.AWAITING_PAYMENT


def _paid(user: User, payload: str) -> TransactionPartnerUser:
    return TransactionPartnerUser("invoice_payment", user, invoice_payload=payload)


async def test_a_payment_that_does_not_match_is_held_and_a_second_charge_is_flagged(
    shop: Shop,
) -> None:
    product_id = await _product(shop, items=2)
    held = await _checkout(shop, product_id)
    outcome = await stars.record_successful_payment(shop, held.ref, "XTR", 1, "stxODD")
    assert outcome == "mismatch"
    stored = await _stored(shop, held.id)
    assert stored.status is OrderStatus.FAILED and stored.payment_held
    assert (stored.refundable_amount, stored.payment_id) == (1, "stxODD")
    assert await stock_states(shop, product_id) == {"available": 2}
    assert await owed_keys(shop) == [
        f"mismatch:{held.id}:{ADMIN_ID}",
        f"held_notice:{held.id}",
        f"order_message:{held.id}:held",
    ]

    order = await _checkout(shop, product_id, OTHER)
    assert await _pay(shop, order, "stxFIRST") == "paid"
    assert await _pay(shop, order, "stxSECOND") == "duplicate"
    assert await _pay(shop, order, "stxSECOND") == "duplicate"
    stored = await _stored(shop, order.id)
    assert stored.status is OrderStatus.PAID and stored.telegram_payment_charge_id == "stxFIRST"
    assert (await owed_keys(shop))[3:] == [
        f"goods:{order.id}",
        f"sale:{order.id}:{ADMIN_ID}",
        f"double_payment:{order.id}:stxSECOND:{ADMIN_ID}",
    ]


async def test_a_refund_telegram_refuses_changes_nothing(shop: Shop) -> None:
    """refundStarPayment reached over HTTP: a charge Telegram does not know is refused, and the
    order, its stock and the outbox stay as they were."""
    product_id = await _product(shop, items=1)
    order = await _checkout(shop, product_id)
    assert await _pay(shop, order, "stxUNKNOWN") == "paid"
    paid = await _stored(shop, order.id)
    owed = await owed_keys(shop)
    with pytest.raises(RefundRefused, match=f"Telegram did not refund order #{order.id}"):
        await refund_stars(shop, order.id)
    assert await _stored(shop, order.id) == paid
    assert await owed_keys(shop) == owed
    with pytest.raises(RefundRefused, match="only paid orders refund"):
        await refund_stars(shop, (await _checkout(shop, await _product(shop))).id)


async def _next_update(bot: Bot, offset: list[int], field: str) -> Any:
    """The next update carrying `field` (a pre_checkout_query, a message's successful_payment),
    fetched by long polling as the bot does."""
    for _ in range(10):
        for update in await bot.get_updates(offset[0], timeout=1):
            offset[0] = update.update_id + 1
            found = getattr(update, field, None) or getattr(update.message, field, None)
            if found is not None:
                return found
    raise AssertionError(f"no update with {field}")


async def test_a_stars_purchase_over_telegram_is_paid_once_and_refunded_once(
    shop: Shop, telegram: FakeTelegram
) -> None:
    """Buy → the invoice sent through python-telegram-bot → the buyer pays in the stand-in, the
    pre-checkout query answered from the database → the successful payment recorded once →
    the ledger agrees → refunded once, even when Telegram refunded before our bookkeeping."""
    telegram.user_sends(BUYER_ID, "/start", first_name="Ada", queue=False)
    product_id = await _product(shop, items=1)
    checkout = await stars.start_stars_checkout(shop, BUYER, [Wanted(product_id, 1)])
    order, invoice = checkout.order, checkout.invoice
    prices = [LabeledPrice(price.label, price.amount) for price in invoice.prices]
    await shop.bot.send_invoice(
        BUYER_ID, invoice.title, invoice.description, invoice.payload, invoice.currency, prices,
        provider_token=invoice.provider_token, photo_url=invoice.photo_url,
    )  # fmt: skip
    standin: Any = telegram  # typed once the stand-in's payments are merged
    paying = asyncio.create_task(standin.pay_invoice(BUYER_ID, telegram.messages(BUYER_ID)[-1]))
    offset = [0]
    query = await _next_update(shop.bot, offset, "pre_checkout_query")
    answer = await stars.answer_pre_checkout(
        shop, EN, query.invoice_payload, query.currency, query.total_amount, query.from_user.id
    )
    await shop.bot.answer_pre_checkout_query(query.id, answer.ok, answer.error_message)
    assert (await paying).outcome == "paid"
    paid = await _next_update(shop.bot, offset, "successful_payment")
    charge = paid.telegram_payment_charge_id
    for _ in range(2):  # the update handled twice
        await stars.record_successful_payment(
            shop, paid.invoice_payload, paid.currency, paid.total_amount, charge
        )
    assert (await _stored(shop, order.id)).status is OrderStatus.PAID
    ledger = star_payments((await shop.bot.get_star_transactions()).transactions)
    assert ledger == [StarPayment(charge, STARS, BUYER_ID, order.ref)]
    assert await stars.reconcile_star_transactions(shop, ledger) == 0

    assert await shop.bot.refund_star_payment(BUYER_ID, charge)  # then our process died
    with pytest.raises(RefundRefused, match="whole payment: ⭐ 150"):
        await refund_order(shop, order.id, STARS - 1, "tap-1")  # /refund of a part
    done = await refund_order(shop, order.id, None, "tap-2")  # Telegram: already refunded
    assert (done.amount, done.order.status, done.order.amount_refunded) == (
        STARS, OrderStatus.REFUNDED, STARS,
    )  # fmt: skip
    with pytest.raises(RefundRefused, match="only paid orders refund"):
        await refund_stars(shop, order.id)
    assert (await owed_keys(shop))[2:] == [
        f"refund:{order.id}:{STARS}",
        f"order_message:{order.id}:refunded:{STARS}",
    ]
    totals = await sales.totals(shop.db.reader, since=0)
    assert [(t.currency, t.revenue, t.refunded) for t in totals] == [("xtr", STARS, STARS)]
