"""Admin order stories: /orders across buyers, its pages and the detail, within the limits."""

from __future__ import annotations

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram, parse_html, utf16_len
from storage import orders
from storage.models import Delivery, DeliveryKind, OrderLine, OrderStatus, ProductKind
from tests.admin_order_steps import (
    admin_says,
    goods_copies,
    outbox,
    paid_order,
    tap,
    unpaid_order,
    until,
)
from tests.conftest import ADMIN_ID, BUYER_ID, OTHER_BUYER_ID
from tests.shop_records import order_record
from tests.story import add_product, settled

# --- /orders -------------------------------------------------------------------------------


async def test_admin_orders_lists_every_buyer_filters_and_opens_detail(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    paid = await paid_order(
        app, telegram, stripe_api, BUYER_ID, name="Zoë <b>&", title="Lamp", delivery_text="KEY-A"
    )
    waiting, _ = await unpaid_order(
        app, telegram, stripe_api, OTHER_BUYER_ID, name="Bob", title="Chair", price_minor=2500
    )

    listing = await admin_says(telegram, "/orders", lambda t: "Orders" in t)
    text = listing.text or ""
    assert f"#{paid.id} · Lamp × 1 · $9.99 · ✅ delivered · Zoë <b>&" in text
    assert f"#{waiting.id} · Chair × 1 · $25.00 · 🕒 awaiting payment · Bob" in text

    awaiting = await tap(telegram, listing, "Awaiting", lambda t: "Awaiting payment" in t)
    assert f"#{waiting.id}" in (awaiting.text or "") and f"#{paid.id} " not in (awaiting.text or "")
    paid_only = await tap(telegram, awaiting, "Paid", lambda t: "Orders · Paid" in t)
    assert f"#{paid.id}" in (paid_only.text or "") and "Chair" not in (paid_only.text or "")
    failed = await tap(telegram, paid_only, "Failed", lambda t: "Failed/expired" in t)
    assert "No orders here yet" in (failed.text or "")

    everything = await tap(telegram, failed, "All", lambda t: "Orders · All" in t)
    detail = await tap(telegram, everything, f"#{paid.id}", lambda t: f"Order #{paid.id}" in t)
    body = detail.text or ""
    assert paid.checkout_session_id and paid.checkout_session_id in body
    assert paid.payment_intent_id and paid.payment_intent_id in body
    assert f"Buyer: Zoë <b>& (id {BUYER_ID})" in body
    assert "goods sent" in body and "refunded: $0.00" in body
    assert {b["text"] for b in detail.buttons()} >= {"📨 Resend goods", "↩️ Refund…"}
    assert not [b for b in detail.buttons() if "shipped" in b["text"]]  # digital goods

    copies = goods_copies(telegram, "KEY-A")
    telegram.user_taps(ADMIN_ID, detail, detail.button("Resend")["callback_data"])
    await until(lambda: goods_copies(telegram, "KEY-A") == copies + 1)
    await settled(app)
    assert goods_copies(telegram, "KEY-A") == copies + 1
    assert [d.status for d in await outbox(app, paid.id, DeliveryKind.RESEND)] == ["sent"]

    back = await tap(telegram, detail, "Orders", lambda t: "Orders · All" in t)
    assert f"#{waiting.id}" in (back.text or "")


async def test_admin_orders_pages_eight_at_a_time(app: ShopApp, telegram: FakeTelegram) -> None:
    assert app.db is not None
    product_id = await add_product(app, title="Sticker")
    async with app.db.transaction() as tx:
        for n in range(10):
            await orders.create(
                tx,
                buyer_user_id=BUYER_ID + n,
                buyer_chat_id=BUYER_ID + n,
                buyer_name=f"Buyer {n}",
                lines=[orders.NewLine(product_id, "Sticker", ProductKind.DIGITAL_TEXT, 100, 1)],
                currency="usd",
                expires_at=2_000_000_000,
            )
    first = await admin_says(telegram, "/orders", lambda t: "Orders" in t)
    assert "page 1 of 2 (10 orders)" in (first.text or "")
    assert (first.text or "").count("Sticker × 1") == 8
    second = await tap(telegram, first, "Next", lambda t: "page 2 of 2" in t)
    assert (second.text or "").count("Sticker × 1") == 2
    assert "Buyer 0" in (second.text or "") and "Buyer 9" not in (second.text or "")


# --- texts ---------------------------------------------------------------------------------


def test_detail_and_list_stay_under_telegram_limits() -> None:
    from bot.admin.order_texts import FILTERS, detail_text, list_text
    from bot.admin.orders import list_keyboard
    from tests.english import EN

    lines = [
        OrderLine(n, 10**11 - n, "<T>" * 100, ProductKind.PHYSICAL, 999_999, 10) for n in range(100)
    ]
    huge = order_record(
        lines=lines, id=10**11, ref="r" * 24, buyer_user_id=10**11, buyer_chat_id=10**11,
        buyer_name="<&>" * 200, amount_total=99_999_999, status=OrderStatus.PARTIALLY_REFUNDED,
        checkout_session_id="cs_" + "x" * 200, payment_intent_id="pi_" + "x" * 200,
        failure_reason="&" * 2000, shipping_address="<a>" * 2000, shipped_at=0,
        tracking="x" * 100, amount_refunded=1,
    )  # fmt: skip
    failed = Delivery(
        id=1, dedupe_key="goods:1", order_id=huge.id, kind=DeliveryKind.GOODS, chat_id=1,
        status="failed", attempts=9, next_attempt_at=0, detail="", last_error="<e>" * 500,
    )  # fmt: skip
    # Telegram counts the text after its HTML is parsed, in UTF-16 code units.
    assert utf16_len(parse_html(detail_text(EN, huge, [failed] * 50))[0]) <= 4096
    assert utf16_len(parse_html(list_text(EN, [huge] * 8, FILTERS[0], 0, 10**6, 10**9))[0]) <= 4096
    for row in list_keyboard(EN, [huge] * 8, FILTERS[4], 10**6, 10**6 + 2).inline_keyboard:
        for button in row:
            assert button.callback_data is not None
            assert len(str(button.callback_data).encode()) <= 64
