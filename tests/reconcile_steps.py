"""Steps shared by the reconciliation stories: the shop, what a chat was told, a stocked product."""

from __future__ import annotations

from bot.app import ShopApp
from sandbox.fake_telegram import FakeTelegram
from shop.context import Shop
from storage import stock
from storage.models import ProductKind
from tests.story import add_product


def shop(app: ShopApp) -> Shop:
    assert app.shop is not None
    return app.shop


def texts_to(telegram: FakeTelegram, chat_id: int, part: str) -> list[str]:
    return [m.text for m in telegram.messages(chat_id) if m.text and part in m.text]


async def stock_product(app: ShopApp, keys: list[str]) -> int:
    product_id = await add_product(
        app, title="Game key", kind=ProductKind.DIGITAL_STOCK, delivery_text="Redeem it."
    )
    assert app.db is not None
    async with app.db.transaction() as tx:
        await stock.add_items(tx, product_id, keys)
    return product_id
