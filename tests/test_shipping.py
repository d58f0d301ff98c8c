"""A physical order's own life after payment: to ship → shipped (tracking added or corrected,
the buyer told once per change) → delivered, as the buyer and the admins see it (item 24)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from storage.models import Delivery, DeliveryKind, Order, ProductKind, ShippingStage
from tests.admin_order_steps import SHIPPING, admin_says, current, outbox, paid_order, tap
from tests.conftest import ADMIN_ID, BUYER_ID


def _text(message: FakeMessage) -> str:
    return message.text or ""


def told(words: str) -> Callable[[FakeMessage], bool]:
    return lambda message: words in _text(message)


async def buyer_sees(telegram: FakeTelegram, command: str, expect: str) -> FakeMessage:
    after = max((m.message_id for m in telegram.messages(BUYER_ID)), default=0)
    telegram.user_sends(BUYER_ID, command)
    return await telegram.wait_for(BUYER_ID, lambda m: m.message_id > after and expect in _text(m))


async def the_buyer_sees_it_to_be_shipped(
    app: ShopApp, telegram: FakeTelegram, mug: Order, digital: Order
) -> None:
    """The buyer: the mug is to be shipped, and there is nothing to send again."""
    mine = await buyer_sees(telegram, "/orders", "Your orders")
    assert "📦 paid, to be shipped" in _text(mine)
    assert [b["text"] for b in mine.buttons()] == [f"📨 Send order #{digital.id} again"]
    telegram.user_taps(BUYER_ID, mine, f"again:{mug.id}", check_keyboard=False)
    await asyncio.sleep(0.3)
    assert telegram.answered_callbacks[-1]["text"] == "Only paid orders can be sent again."
    assert await outbox(app, mug.id, DeliveryKind.RESEND) == []


async def the_admin_finds_it_and_ships_it(
    telegram: FakeTelegram, mug: Order, digital: Order
) -> FakeMessage:
    """The admin: a To ship filter, a detail without Resend goods, and /ship as a list. Returns
    the order's detail message."""
    listing = await admin_says(telegram, "/orders", lambda t: "Orders" in t)
    to_ship = await tap(telegram, listing, "To ship", lambda t: "To ship (1 order)" in t)
    assert f"#{mug.id} · Mug" in _text(to_ship) and f"#{digital.id} " not in _text(to_ship)
    detail = await tap(telegram, to_ship, f"#{mug.id}", lambda t: f"Order #{mug.id}" in t)
    assert "📦 paid, to be shipped" in _text(detail) and "Receipt: ✅" in _text(detail)
    assert not [b for b in detail.buttons() if "Resend" in b["text"]]
    ship_list = await admin_says(telegram, "/ship", lambda t: "To ship (1)" in t)
    asked = await tap(telegram, ship_list, f"#{mug.id}", lambda t: "Send the tracking" in t)
    assert "1 Main St" in _text(asked)
    await admin_says(telegram, "TRK-1", lambda t: "marked shipped with tracking TRK-1" in t)
    await admin_says(telegram, "/ship", lambda t: "Nothing to ship right now" in t)
    return detail


async def tracking_corrected_twice(
    app: ShopApp, telegram: FakeTelegram, mug: Order, detail: FakeMessage
) -> tuple[FakeMessage, list[Delivery]]:
    """Tracking corrected twice (button, then /ship): the buyer is told once per change.
    Returns the refreshed detail and the tracking notices queued for the buyer."""
    detail = await tap(telegram, detail, "Refresh", lambda t: "🚚 shipped" in t)
    await tap(telegram, detail, "Correct tracking", lambda t: "(now: TRK-1)" in t)
    await admin_says(telegram, "TRK-2", lambda t: "now has tracking TRK-2" in t)
    await admin_says(telegram, f"/ship {mug.id} TRK-3", lambda t: "now has tracking TRK-3" in t)
    notices = await outbox(app, mug.id, DeliveryKind.TRACKING_NOTICE)
    assert [(n.dedupe_key, n.detail) for n in notices] == [
        (f"tracking:{mug.id}:1", "TRK-2"),
        (f"tracking:{mug.id}:2", "TRK-3"),
    ]
    for number in ("TRK-2", "TRK-3"):
        await telegram.wait_for(BUYER_ID, told(f"new tracking number: {number}"))
    assert len(await outbox(app, mug.id, DeliveryKind.SHIPPED_NOTICE)) == 1
    mine = await buyer_sees(telegram, "/orders", "Your orders")
    assert "🚚 shipped · tracking TRK-3" in _text(mine)
    return detail, notices


async def delivered_is_final(
    app: ShopApp, telegram: FakeTelegram, mug: Order, detail: FakeMessage
) -> None:
    """Delivered: the admin's last mark; nothing more can change."""
    detail = await tap(telegram, detail, "Refresh", lambda t: "TRK-3" in t)
    await tap(telegram, detail, "Mark delivered", lambda t: "marked delivered" in t)
    assert (await current(app, mug.id)).shipping_stage is ShippingStage.DELIVERED
    late = await admin_says(telegram, f"/ship {mug.id} TRK-4", lambda t: "already" in t)
    assert "already marked delivered" in _text(late)
    mine = await buyer_sees(telegram, "/orders", "Your orders")
    assert "📬 delivered" in _text(mine)
    listing = await admin_says(telegram, "/orders", lambda t: "Orders" in t)
    assert f"#{mug.id} · Mug × 1 · $9.99 · 📬 delivered" in _text(listing)
    assert (await current(app, mug.id)).tracking == "TRK-3"


async def test_a_physical_order_goes_to_ship_shipped_delivered(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    digital = await paid_order(app, telegram, stripe_api, BUYER_ID, title="Ebook")
    mug = await paid_order(
        app, telegram, stripe_api, BUYER_ID, title="Mug", kind=ProductKind.PHYSICAL,
        shipping=SHIPPING,
    )  # fmt: skip
    assert mug.shipping_stage is ShippingStage.TO_SHIP
    said = " ".join(_text(m) for m in telegram.messages(BUYER_ID))
    assert f"Payment received for order #{mug.id}. We'll ship it" in said
    assert said.count("Everything you bought is in the order message above") == 1  # the ebook

    await the_buyer_sees_it_to_be_shipped(app, telegram, mug, digital)
    detail = await the_admin_finds_it_and_ships_it(telegram, mug, digital)
    detail, notices = await tracking_corrected_twice(app, telegram, mug, detail)
    await delivered_is_final(app, telegram, mug, detail)
    assert ADMIN_ID not in {n.chat_id for n in notices}
