"""Admins upload stock with /stock; non-admins get the buyer answers and no shop data."""

from __future__ import annotations

import asyncio

from bot import texts
from bot.app import ShopApp
from sandbox.fake_telegram import FakeTelegram
from storage import stock
from storage.models import ProductKind
from tests.admin_product_steps import product
from tests.conftest import ADMIN_ID, BUYER_ID
from tests.english import EN
from tests.people import Person, shown
from tests.story import add_product

# --- /stock --------------------------------------------------------------------------------------


async def test_stock_by_message_and_by_txt_file(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    product_id = await add_product(app, title="Keys", kind=ProductKind.DIGITAL_STOCK)
    added = await admin.sends(f"/stock {product_id}\nKEY-A\nKEY-B\nKEY-A", "added 2 items")
    assert "skipped 1" in shown(added) and "Available now: 2" in shown(added)

    await admin.sends(f"/stock {product_id}", "Items for Keys")
    await admin.sends_file("keys.pdf", b"%PDF-1.4", "not a .txt file")
    await admin.sends_file("latin1.txt", "KÉY".encode("latin-1"), "not UTF-8")
    added = await admin.sends_file("keys.txt", b"\xef\xbb\xbfKEY-B\r\nKEY-C\n\nKEY-D\n", "added 2")
    assert "skipped 1" in shown(added) and "Available now: 4" in shown(added)
    assert app.db is not None and await stock.available(app.db.reader, product_id) == 4
    assert [c.status for c in telegram.calls_of("getFile")] == [200, 200]
    telegram.user_sends(ADMIN_ID, "KEY-E")  # the dialog is over: nothing is added
    await admin.nothing_more()


async def test_stock_explains_wrong_ids_and_kinds(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    text_product = await add_product(app, title="Ebook")
    await admin.sends("/stock", "No stock products yet")  # item 27: /stock alone offers a list
    await admin.sends("/stock abc", "Usage")
    await admin.sends("/stock ²", "Usage")  # isdigit() says yes, int() said ValueError
    await admin.sends("/stock #١", "Usage")  # int() would have read it as product 1
    await admin.sends("/stock 99\nKEY", "There is no product #99")
    await admin.sends(f"/stock {text_product}\nKEY", "only stock products have items")


# --- non-admins ----------------------------------------------------------------------------------


async def test_non_admins_get_the_buyer_answers_and_no_shop_data(
    app: ShopApp, telegram: FakeTelegram, buyer: Person
) -> None:
    product_id = await add_product(app, title="Secret stock", delivery_text="TOP-SECRET")
    for command in ("/addproduct", "/products", f"/stock {product_id}\nKEY"):
        await buyer.sends(command, "I don't know that command")
    reply = telegram.messages(BUYER_ID)[-1]
    before = len(telegram.messages(BUYER_ID))
    for forged in (
        f"ap:o:{product_id}",
        f"ap:delok:{product_id}",
        f"ap:v:{product_id}:0",
        f"ae:f:{product_id}:2",
        "ap:l:0",
        "aw:s:1",
    ):
        telegram.user_taps(BUYER_ID, reply, forged, check_keyboard=False)
    telegram.user_sends(BUYER_ID, "0.50")  # as if answering an edit prompt
    await asyncio.sleep(0.5)
    answers = [a["text"] for a in telegram.answered_callbacks[-6:]]
    assert answers == [texts.unknown_button(EN)] * 6
    # A buyer's plain message is answered with how to reach the merchant (item 25), and
    # nothing else: no edit prompt, no shop data.
    [answer] = telegram.messages(BUYER_ID)[before:]
    assert "passed your message on to the merchant" in shown(answer)
    unchanged = await product(app, product_id)
    assert unchanged.active and unchanged.price_minor == 999
    assert not any("TOP-SECRET" in shown(m) for m in telegram.messages(BUYER_ID))
