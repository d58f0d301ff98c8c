"""Admin order stories: /ship and the Mark shipped button, and the buyer told once."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from storage.models import DeliveryKind, ProductKind
from tests.admin_order_steps import (
    SHIPPING,
    admin_says,
    buyer_told_shipped,
    current,
    outbox,
    paid_order,
    tap,
    unpaid_order,
    until,
)
from tests.conftest import ADMIN_ID, BUYER_ID, OTHER_BUYER_ID

# --- shipping ------------------------------------------------------------------------------


async def test_ship_command_marks_a_paid_physical_order_and_tells_the_buyer(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    digital = await paid_order(app, telegram, stripe_api, BUYER_ID)
    unpaid, _ = await unpaid_order(
        app, telegram, stripe_api, OTHER_BUYER_ID, kind=ProductKind.PHYSICAL
    )
    order = await paid_order(
        app,
        telegram,
        stripe_api,
        BUYER_ID,
        title="Mug",
        kind=ProductKind.PHYSICAL,
        shipping=SHIPPING,
    )
    assert order.shipping_address is not None and "1 Main St" in order.shipping_address

    for command, answer in [
        ("/ship", "To ship (1)"),  # item 24: a bare /ship lists the orders to ship
        ("/ship abc", "Usage"),
        ("/ship 99999", "There is no order #99999"),
        (f"/ship {digital.id}", "not a physical product"),
        (f"/ship {unpaid.id}", "only paid orders ship"),
    ]:
        reply = await admin_says(telegram, command, lambda t: bool(t))
        assert answer in (reply.text or ""), (command, reply.text)

    done = await admin_says(telegram, f"/ship #{order.id} 1Z999AA1", lambda t: "shipped" in t)
    assert f"Order #{order.id} marked shipped with tracking 1Z999AA1" in (done.text or "")
    shipped = await current(app, order.id)
    assert shipped.shipped_at is not None and shipped.tracking == "1Z999AA1"
    notices = await outbox(app, order.id, DeliveryKind.SHIPPED_NOTICE)
    assert [(n.dedupe_key, n.chat_id) for n in notices] == [(f"shipped:{order.id}", BUYER_ID)]

    again = await admin_says(telegram, f"/ship {order.id}", lambda t: "already" in t)
    assert "already marked shipped" in (again.text or "") and "1Z999AA1" in (again.text or "")
    assert (await current(app, order.id)).tracking == "1Z999AA1"
    assert len(await outbox(app, order.id, DeliveryKind.SHIPPED_NOTICE)) == 1
    # Item 24: /ship with a new tracking number on a shipped order corrects it (see
    # tests/test_shipping.py); the same number again changes nothing.
    same = await admin_says(telegram, f"/ship {order.id} 1Z999AA1", lambda t: "already" in t)
    assert "already has tracking 1Z999AA1" in (same.text or "")

    listing = await admin_says(telegram, "/orders", lambda t: "Orders" in t)
    detail = await tap(telegram, listing, f"#{order.id}", lambda t: f"Order #{order.id}" in t)
    assert "Ada <Lovelace> & Co\n1 Main St\n12345 Springfield\nUS" in (detail.text or "")
    assert "tracking 1Z999AA1" in (detail.text or "")
    assert not [b for b in detail.buttons() if "shipped" in b["text"]]

    await buyer_told_shipped(telegram, BUYER_ID, order.id, "1Z999AA1")


async def test_mark_shipped_button_asks_for_tracking_or_none(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    first = await paid_order(
        app, telegram, stripe_api, BUYER_ID, kind=ProductKind.PHYSICAL, shipping=SHIPPING
    )
    second = await paid_order(
        app, telegram, stripe_api, OTHER_BUYER_ID, kind=ProductKind.PHYSICAL, shipping=SHIPPING
    )

    listing = await admin_says(telegram, "/orders", lambda t: "Orders" in t)
    detail = await tap(telegram, listing, f"#{first.id}", lambda t: f"Order #{first.id}" in t)
    assert "Not shipped yet" in (detail.text or "")
    asked_first = await tap(telegram, detail, "Mark shipped", lambda t: "Send the tracking" in t)
    assert f"Shipping order #{first.id}" in (asked_first.text or "")
    assert "Ada <Lovelace> & Co\n1 Main St" in (asked_first.text or "")

    # The admin turns to the second order instead, then cancels the first question.
    listing = await admin_says(telegram, "/orders", lambda t: "Orders" in t)
    detail = await tap(telegram, listing, f"#{second.id}", lambda t: f"Order #{second.id}" in t)
    asked_second = await tap(telegram, detail, "Mark shipped", lambda t: "Send the tracking" in t)
    await tap(telegram, asked_first, "Cancel", lambda t: t == "Not marked shipped.")
    done = await admin_says(telegram, "  TRK-42  ", lambda t: "marked shipped" in t)
    assert f"Order #{second.id} marked shipped with tracking TRK-42" in (done.text or "")
    assert (await current(app, second.id)).tracking == "TRK-42"
    assert (await current(app, first.id)).shipped_at is None
    await until(lambda: not buttons_of(telegram, asked_second))

    listing = await admin_says(telegram, "/orders", lambda t: "Orders" in t)
    detail = await tap(telegram, listing, f"#{first.id}", lambda t: f"Order #{first.id}" in t)
    asked = await tap(telegram, detail, "Mark shipped", lambda t: "Send the tracking" in t)
    await tap(telegram, asked, "No tracking", lambda t: f"Order #{first.id} marked shipped." in t)
    shipped = await current(app, first.id)
    assert shipped.shipped_at is not None and shipped.tracking is None

    # The question is over: later text is not taken for a tracking number.
    telegram.user_sends(ADMIN_ID, "hello there", first_name="Admin")
    await asyncio.sleep(0.3)
    assert (await current(app, first.id)).tracking is None
    assert (await current(app, second.id)).tracking == "TRK-42"
    for order in (first, second):
        assert len(await outbox(app, order.id, DeliveryKind.SHIPPED_NOTICE)) == 1
    await buyer_told_shipped(telegram, OTHER_BUYER_ID, second.id, "TRK-42")
    await buyer_told_shipped(telegram, BUYER_ID, first.id, None)


def buttons_of(telegram: FakeTelegram, message: FakeMessage) -> list[Any]:
    return next(
        m for m in telegram.messages(ADMIN_ID) if m.message_id == message.message_id
    ).buttons()
