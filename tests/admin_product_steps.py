"""Story steps the catalog stories share: the products as stored, and the /addproduct wizard
walked up to the kind question."""

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
    admin: Person,
    title: str,
    *,
    description: str = "/skip",
    price: str = "9.99",
    photo: bool = False,
) -> FakeMessage:
    """/addproduct up to the kind buttons."""
    await admin.sends("/addproduct", "Send the title")
    await admin.sends(title, "description")
    await admin.sends(description, "Send the price")
    await admin.sends(price, "Send a photo")
    if photo:
        return await admin.sends_photo("What kind of product")
    return await admin.sends("/skip", "What kind of product")


def preview_of(telegram: FakeTelegram, confirm: FakeMessage) -> FakeMessage:
    """The buyer-view card the wizard sent just before its Save / Cancel message."""
    return next(m for m in telegram.messages(ADMIN_ID) if m.message_id == confirm.message_id - 1)


def button_texts(message: FakeMessage) -> list[str]:
    return [button["text"] for button in message.buttons()]


async def open_admin_card(admin: Person, title: str) -> FakeMessage:
    listing = await admin.sends("/products", "Products")
    return await admin.taps(listing, title, "place")
