"""Admin order stories: non-admins see none of it, and buyers only their own orders."""

from __future__ import annotations

import asyncio

import pytest

from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from storage.models import DeliveryKind, ProductKind
from tests.admin_order_steps import (
    SHIPPING,
    _last_id,
    admin_says,
    current,
    outbox,
    paid_order,
    stripe_refunds_made,
    tap,
    until,
)
from tests.conftest import ADMIN_ID, BUYER_ID, OTHER_BUYER_ID

# --- non-admins ----------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["/ship {id} TRK", "/refund {id}", "/refund {id} 1", "/sales"])
async def test_admin_commands_are_unknown_to_buyers(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe, command: str
) -> None:
    order = await paid_order(
        app, telegram, stripe_api, OTHER_BUYER_ID, kind=ProductKind.PHYSICAL, shipping=SHIPPING
    )
    after = _last_id(telegram, BUYER_ID)
    telegram.user_sends(BUYER_ID, command.format(id=order.id))
    reply = await telegram.wait_for(BUYER_ID, lambda m: m.message_id > after)
    assert "I don't know that command" in (reply.text or "")
    await asyncio.sleep(0.2)
    assert [m.message_id for m in telegram.messages(BUYER_ID)][-1] == reply.message_id
    assert (await current(app, order.id)).shipped_at is None
    assert stripe_refunds_made(stripe_api) == 0


async def test_buyers_see_only_their_own_orders_and_forged_admin_buttons_do_nothing(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    theirs = await paid_order(
        app, telegram, stripe_api, OTHER_BUYER_ID, name="Other", title="Secret thing",
        kind=ProductKind.PHYSICAL, shipping=SHIPPING, delivery_text="SECRET-KEY",
    )  # fmt: skip
    mine = await paid_order(app, telegram, stripe_api, BUYER_ID, title="My ebook")

    after = _last_id(telegram, BUYER_ID)
    telegram.user_sends(BUYER_ID, "/orders")
    listing = await telegram.wait_for(
        BUYER_ID, lambda m: m.message_id > after and "Your orders" in (m.text or "")
    )
    assert f"#{mine.id}" in (listing.text or "")
    assert f"#{theirs.id}" not in (listing.text or "") and "Secret" not in (listing.text or "")

    # An admin's refund confirmation is on screen; a buyer forging its button must not use it.
    confirm = await admin_says(telegram, f"/refund {theirs.id}", lambda t: "Refund order" in t)
    token_data = confirm.button("Refund")["callback_data"]
    forged = [
        "ao:l:a:0",
        f"ao:o:{theirs.id}:a:0",
        f"ao:rs:{theirs.id}",
        f"sh:s:{theirs.id}",
        f"sh:n:{theirs.id}",
        f"ar:f:{theirs.id}",
        token_data,
        "as:o",
        "as:w:a",
    ]
    seen = len(telegram.messages(BUYER_ID))
    answered = len(telegram.answered_callbacks)
    for data in forged:
        on = confirm if data == token_data else listing
        telegram.user_taps(BUYER_ID, on, data, check_keyboard=False)
    await until(lambda: len(telegram.answered_callbacks) == answered + len(forged))
    await asyncio.sleep(0.3)
    answers = telegram.answered_callbacks[answered:]
    assert all("expired" in (a["text"] or "") and a["show_alert"] for a in answers), answers
    assert len(telegram.messages(BUYER_ID)) == seen
    assert all(
        m.edits == 0 for m in telegram.messages(BUYER_ID) if m.message_id == listing.message_id
    )
    assert all(
        m.edits == 0 for m in telegram.messages(ADMIN_ID) if m.message_id == confirm.message_id
    )
    assert not [m for m in telegram.messages(BUYER_ID) if "SECRET-KEY" in (m.text or "")]
    untouched = await current(app, theirs.id)
    assert untouched.shipped_at is None and untouched.amount_refunded == 0
    assert await outbox(app, theirs.id, DeliveryKind.RESEND) == []
    assert stripe_refunds_made(stripe_api) == 0

    # The admin's own confirmation still works: the forged tap did not use it up.
    await tap(telegram, confirm, "Refund", lambda t: "Refunded" in t)
    assert stripe_refunds_made(stripe_api) == 1
