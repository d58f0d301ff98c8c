"""Story steps the catalog stories share: the products as stored, and the /addproduct wizard
walked up to the kind question, then through the kind, the rail and its prices."""

from __future__ import annotations

from bot.app import ShopApp
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from storage import products
from storage.models import Product
from tests.conftest import ADMIN_ID
from tests.people import Person


async def all_products(app: ShopApp) -> list[Product]:
    assert app.db is not None
    return await products.list_all(app.db.reader, offset=0, limit=100)


async def product(app: ShopApp, product_id: int) -> Product:
    assert app.db is not None
    found = await products.get(app.db.reader, product_id)
    assert found is not None
    return found


async def wizard_to_kind(
    admin: Person, title: str, *, description: str = "/skip", photo: bool = False
) -> FakeMessage:
    """/addproduct up to the kind buttons."""
    await admin.sends("/addproduct", "Send the title")
    await admin.sends(title, "description")
    await admin.sends(description, "Send a photo")
    if photo:
        return await admin.sends_photo("What kind of product")
    return await admin.sends("/skip", "What kind of product")


PRICE_ASKED = "Send the price, e.g."
STARS_ASKED = "price in Telegram Stars"


async def kind_and_rail(
    admin: Person,
    kinds: FakeMessage,
    kind: str,
    expect: str,
    *,
    rail: str = "Stripe",
    price: str = "9.99",
    stars: str = "150",
) -> FakeMessage:
    """Tap the kind, then the rail ("Stripe", "Stars" or "Both"), then type the prices that
    rail asks for (by card first); the answer to the last one, which shows `expect`."""
    question = await admin.taps(kinds, kind, "How do buyers pay")
    asks = ([(PRICE_ASKED, price)] if rail != "Stars" else []) + (
        [(STARS_ASKED, stars)] if rail != "Stripe" else []
    )
    await admin.taps(question, rail, asks[0][0])
    answer = question
    for number, (_, value) in enumerate(asks):
        following = asks[number + 1][0] if number + 1 < len(asks) else expect
        answer = await admin.sends(value, following)
    return answer


def preview_of(telegram: FakeTelegram, confirm: FakeMessage) -> FakeMessage:
    """The buyer-view card the wizard sent just before its Save / Cancel message."""
    return next(m for m in telegram.messages(ADMIN_ID) if m.message_id == confirm.message_id - 1)


def button_texts(message: FakeMessage) -> list[str]:
    return [button["text"] for button in message.buttons()]


async def open_admin_card(admin: Person, title: str) -> FakeMessage:
    listing = await admin.sends("/products", "Products")
    return await admin.taps(listing, title, "place")
