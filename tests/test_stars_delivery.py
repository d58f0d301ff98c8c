"""Stories of a Telegram Stars order after (and around) its payment, over the Telegram stand-in:
the real app and its delivery worker, python-telegram-bot over HTTP, a real SQLite file.

The buyer's handlers for invoices are not part of this branch, so a story sends the invoice the
shop describes (shop/stars.py) through the app's own bot and plays the buyer with the stand-in's
payment sheet (`pay_invoice`), handing its pre_checkout_query and successful_payment updates to
shop/stars.py as the handlers will. What is asserted is what the chat shows: the receipt as a
new message, once; an expired invoice gone and the buyer told; a lost payment found once;
/refund giving the Stars back once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from telegram import LabeledPrice

from bot import reconcile as reconcile_schedule
from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from shop import stars
from shop.checkout import Buyer, Wanted, claim_pay_message
from shop.context import Shop
from shop.reconcile import STAR_LEDGER_OFFSET, recover_star_payments
from shop.refunds import RefundRefused, refund_order
from storage import job_state, orders, products, stock
from storage.models import Order, OrderStatus, ProductKind, ProductRail
from tests.backend import execute_on
from tests.conftest import ADMIN_ID, BUYER_ID, settings_for, start_app
from tests.people import Person, shown
from tests.story import settled

BUYER = Buyer(user_id=BUYER_ID, chat_id=BUYER_ID, name="Ada")
STARS = 150


async def _stars_product(app: ShopApp, items: int = 1) -> int:
    assert app.db is not None
    async with app.db.transaction() as tx:
        product_id = await products.add(
            tx,
            title="Game key",
            description="A key for the game.",
            price_minor=999,
            currency="eur",
            kind=ProductKind.DIGITAL_STOCK,
            rail=ProductRail.STARS,
            stars_price=STARS,
        )
        await stock.add_items(tx, product_id, [f"KEY-{n}" for n in range(items)])
    return product_id


async def _invoice(app: ShopApp, telegram: FakeTelegram, product_id: int) -> tuple[Order, Any]:
    """Buy for Stars: the order committed, its invoice sent and claimed as its message."""
    assert app.shop is not None and app.db is not None
    telegram.user_sends(BUYER_ID, "/start", first_name="Ada", queue=False)
    checkout = await stars.start_stars_checkout(app.shop, BUYER, [Wanted(product_id, 1)])
    invoice = checkout.invoice
    sent = await app.shop.bot.send_invoice(
        BUYER_ID, invoice.title, invoice.description, invoice.payload, invoice.currency,
        [LabeledPrice(price.label, price.amount) for price in invoice.prices],
        provider_token=invoice.provider_token,
    )  # fmt: skip
    await claim_pay_message(app.db, checkout.order.id, sent.message_id)
    return checkout.order, _message(telegram, sent.message_id)


def _message(telegram: FakeTelegram, message_id: int) -> Any:
    return next(m for m in telegram.messages(BUYER_ID) if m.message_id == message_id)


async def _pay(app: ShopApp, telegram: FakeTelegram, invoice: Any, *, lose: bool = False) -> str:
    """The buyer pays the invoice; the app answers the pre-checkout query from its database and
    records the successful payment — unless `lose`: the process died before it saw the update.
    Returns the payment's charge id."""
    shop = app.shop
    assert shop is not None

    async def deliver(update: dict[str, Any]) -> None:
        if (query := update.get("pre_checkout_query")) is not None:
            answer = await stars.answer_pre_checkout(
                shop, shop.languages.default, query["invoice_payload"], query["currency"],
                query["total_amount"], query["from"]["id"],
            )  # fmt: skip
            await shop.bot.answer_pre_checkout_query(query["id"], answer.ok, answer.error_message)
        elif (paid := update["message"].get("successful_payment")) is not None and not lose:
            await stars.record_successful_payment(
                shop, paid["invoice_payload"], paid["currency"], paid["total_amount"],
                paid["telegram_payment_charge_id"],
            )  # fmt: skip

    standin: Any = telegram
    payment = await standin.pay_invoice(BUYER_ID, invoice, deliver=deliver)
    assert payment.outcome == "paid"
    return str(payment.charge_id)


async def _stored(app: ShopApp, order_id: int) -> Order:
    assert app.db is not None
    order = await orders.get(app.db.reader, order_id)
    assert order is not None
    return order


def _receipts(telegram: FakeTelegram) -> list[FakeMessage]:
    return [m for m in telegram.messages(BUYER_ID) if "Your purchase" in shown(m)]


@pytest.mark.usefixtures("no_scheduled_reconcile")
async def test_a_paid_invoice_gets_its_receipt_as_a_new_message_once_across_a_restart(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    settings = settings_for(tmp_path, telegram, stripe_api)
    app = await start_app(settings, telegram, stripe_api)
    try:
        order, invoice = await _invoice(app, telegram, await _stars_product(app))
        charge = await _pay(app, telegram, invoice)
        await telegram.wait_for(BUYER_ID, lambda m: "Payment received" in shown(m))
        await settled(app)
        paid = await _stored(app, order.id)
        assert paid.status is OrderStatus.FULFILLED
    finally:
        await app.stop()
    (receipt,) = _receipts(telegram)
    assert "KEY-0" in shown(receipt) and "⭐ 150" in shown(receipt)
    assert receipt.message_id == paid.message_id != invoice.message_id  # the order's message now
    assert _message(telegram, invoice.message_id).invoice is not None  # the invoice untouched
    assert not telegram.calls_of("editMessageText")  # no edit of an invoice was even tried

    # The process died after Telegram took the receipt and before the delivery was marked: the
    # restart retries it, editing the receipt it sent, and the update comes again.
    await execute_on(
        settings.database, "UPDATE deliveries SET status = 'pending' WHERE kind = 'goods'"
    )
    app = await start_app(settings, telegram, stripe_api)
    try:
        assert app.shop is not None
        await asyncio.sleep(0.3)
        await settled(app)
        again = await stars.record_successful_payment(app.shop, order.ref, "XTR", STARS, charge)
        assert again == "already_recorded"
        await settled(app)
    finally:
        await app.stop()
    assert [m.message_id for m in _receipts(telegram)] == [receipt.message_id]
    edited = [c.params.get("message_id") for c in telegram.calls_of("editMessageText")]
    assert edited and set(edited) == {receipt.message_id}


@pytest.mark.usefixtures("no_scheduled_reconcile")
async def test_an_unpaid_invoice_that_expires_is_deleted_and_the_buyer_told_with_buy_again(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    assert app.shop is not None and app.db is not None
    product_id = await _stars_product(app)
    order, invoice = await _invoice(app, telegram, product_id)
    async with app.db.transaction() as tx:
        await tx.execute("UPDATE orders SET expires_at = 0 WHERE id = ?", (order.id,))
    assert await stars.expire_stars_orders(app.shop) == 1
    notice = await telegram.wait_for(BUYER_ID, lambda m: "invoice for order" in shown(m))
    await settled(app)
    assert "expired" in shown(notice) and notice.button("Buy again")
    assert _message(telegram, invoice.message_id).deleted
    expired = await _stored(app, order.id)
    assert expired.status is OrderStatus.EXPIRED and expired.message_id is None
    assert await stock.available(app.db.reader, product_id) == 1  # the key is free again
    assert len(telegram.calls_of("deleteMessage")) == 1
    english = app.shop.languages.get("en")
    assert (
        await stars.answer_pre_checkout(app.shop, english, order.ref, "XTR", STARS, BUYER_ID)
    ).error_message == stars.REFUSALS[stars.Refusal.EXPIRED]


async def test_a_lost_payment_is_found_by_the_job_once_across_restarts(
    tmp_path: Path,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reconcile_schedule, "FIRST_RUN_SECONDS", 3600.0)
    monkeypatch.setattr(reconcile_schedule, "RECENT_INTERVAL_SECONDS", 3600.0)
    settings = settings_for(tmp_path, telegram, stripe_api)
    app = await start_app(settings, telegram, stripe_api)
    try:
        order, invoice = await _invoice(app, telegram, await _stars_product(app, items=2))
        charge = await _pay(app, telegram, invoice, lose=True)  # then the process died
        assert (await _stored(app, order.id)).status is OrderStatus.AWAITING_PAYMENT
    finally:
        await app.stop()
    assert not _receipts(telegram)

    monkeypatch.setattr(reconcile_schedule, "FIRST_RUN_SECONDS", 0.2)  # the job, at start
    app = await start_app(settings, telegram, stripe_api)
    try:
        await telegram.wait_for(BUYER_ID, lambda m: "Payment received" in shown(m))
        await settled(app)
        assert app.db is not None
        found = await _stored(app, order.id)
        assert (found.status, found.telegram_payment_charge_id) == (OrderStatus.FULFILLED, charge)
        assert await job_state.get(app.db.reader, STAR_LEDGER_OFFSET) == "1"
    finally:
        await app.stop()

    app = await start_app(settings, telegram, stripe_api)
    try:
        assert app.shop is not None and app.db is not None
        # The job's run at start reads on from the stored offset (waited for, not timed: a
        # loaded machine may take longer than any fixed pause).
        before = len(telegram.calls_of("getStarTransactions"))
        for _ in range(200):
            if len(telegram.calls_of("getStarTransactions")) > before:
                break
            await asyncio.sleep(0.05)
        assert await recover_star_payments(app.shop) == 0
        await settled(app)
    finally:
        await app.stop()
    reads = [c.params.get("offset") for c in telegram.calls_of("getStarTransactions")]
    assert reads[0] in (None, 0, "0") and all(str(offset) == "1" for offset in reads[1:])
    assert len(reads) >= 3
    assert len(_receipts(telegram)) == 1
    admin_sales = [m for m in telegram.messages(ADMIN_ID) if "New sale" in shown(m)]
    assert len(admin_sales) == 1


@pytest.mark.usefixtures("no_scheduled_reconcile")
async def test_refund_of_a_stars_order_is_whole_once_and_told_in_stars(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    assert app.shop is not None
    order, invoice = await _invoice(app, telegram, await _stars_product(app))
    await _pay(app, telegram, invoice)
    await telegram.wait_for(BUYER_ID, lambda m: "Payment received" in shown(m))
    await settled(app)

    refused = await admin.sends(f"/refund {order.id} 50", "whole-order")
    assert f"/refund {order.id} without an amount" in shown(refused) and "⭐ 150" in shown(refused)
    confirmation = await admin.sends(f"/refund {order.id}", "Refund order")
    assert "⭐ 150" in shown(confirmation) and "Telegram Stars balance" in shown(confirmation)
    done = await admin.taps(confirmation, "Refund ⭐ 150", "Refunded")
    assert f"Refunded ⭐ 150 of order #{order.id}" in shown(done) and "<b>" not in shown(done)
    told = await telegram.wait_for(BUYER_ID, lambda m: "fully refunded" in shown(m))
    assert "Stars are back in your Telegram balance" in shown(told)
    await settled(app)
    (receipt,) = _receipts(telegram)
    assert "Refunded in full" in shown(receipt)

    again = await admin.sends(f"/refund {order.id}", "only paid orders refund")
    assert "refunded" in shown(again)
    with pytest.raises(RefundRefused, match="only paid orders refund"):
        await refund_order(app.shop, order.id, None, "a-second-tap")
    assert len(telegram.calls_of("refundStarPayment")) == 1
    refunded = await _stored(app, order.id)
    assert (refunded.status, refunded.amount_refunded) == (OrderStatus.REFUNDED, STARS)
    listing = await admin.sends("/orders", "Orders")
    listed = await admin.taps(listing, f"#{order.id}", f"Order #{order.id}")
    assert f"charge: {refunded.telegram_payment_charge_id}" in shown(listed)
    assert "Payment intent" not in shown(listed)
    sales = await admin.sends("/sales", "XTR")
    assert "XTR: revenue ⭐ 150 · refunds ⭐ 150 · net ⭐ 0" in shown(sales)


async def test_an_invoice_claimed_after_its_payment_was_recorded_is_not_the_orders_message(
    shop: Shop,
) -> None:
    """The invoice is claimed as the order's message once sendInvoice answered; a buyer quick
    enough to pay before that claim commits must still get the receipt as a new message."""
    async with shop.db.transaction() as tx:
        product_id = await products.add(
            tx, title="Ebook", price_minor=999, currency="eur", delivery_text="https://x.test/e",
            rail=ProductRail.STARS, stars_price=STARS,
        )  # fmt: skip
    order = (await stars.start_stars_checkout(shop, BUYER, [Wanted(product_id, 1)])).order
    paid = await stars.record_successful_payment(shop, order.ref, "XTR", STARS, "stxQUICK")
    assert paid == "paid"
    await claim_pay_message(shop.db, order.id, 42)  # the invoice's claim, late
    recorded = await orders.get(shop.db.reader, order.id)
    assert recorded is not None and recorded.message_id is None
    assert not recorded.message_is_invoice
