"""The buyer's orders: /orders, its pages, and Send again for paid ones, in the buyer's
language (the goods sent again come from the outbox, in the order's)."""

from __future__ import annotations

import math

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

from bot import callbacks as cb
from bot.buyer import keyboards, texts
from bot.buyer.cart import cart_page
from bot.context import ShopContext
from bot.shared import reply_page, tapped, turn_page
from bot.texts import unknown_button
from shop import cart, outbox
from shop.context import Shop
from shop.i18n import Lang
from storage import orders

ORDERS_PAGE_SIZE = 5


async def orders_command(update: Update, context: ShopContext) -> None:
    """/orders: the buyer's recent orders with their state, and Send again for paid ones."""
    assert update.effective_user is not None
    page = await orders_page(context.shop, context.lang, update.effective_user.id, 0)
    await reply_page(update, page)


async def open_orders(update: Update, context: ShopContext) -> None:
    """‹ Back / Next › (or My orders): that page of the buyer's orders, in place."""
    if (tap := await tapped(update, cb.ORDERS)) is None:
        return
    query, data = tap
    page = await orders_page(context.shop, context.lang, query.from_user.id, data.id(0))
    await turn_page(query, page)


async def send_again(update: Update, context: ShopContext) -> None:
    """Send again: the goods of a paid order once more (a new message, never a second order)."""
    if (tap := await tapped(update, cb.SEND_AGAIN)) is None:
        return
    query, data = tap
    shop, buyer = context.shop, query.from_user.id
    owed = await outbox.send_again(shop.db, shop.wake_outbox, data.id(0), query.id, buyer=buyer)
    if owed is None:
        await query.answer(texts.resend_unavailable(context.lang), show_alert=True)
        return
    await query.answer(context.lang.t("Sending it again…"))


async def buy_again(update: Update, context: ShopContext) -> None:
    """Buy again on a cart's order that was not paid: its products go back into the buyer's
    cart (each as far as stock and the cart allow), an alert says what did, and the cart opens
    as a new message, ready for Checkout."""
    if (tap := await tapped(update, cb.BUY_AGAIN)) is None:
        return
    query, data = tap
    shop, lang, buyer = context.shop, context.lang, query.from_user.id
    order = await orders.get(shop.db.reader, data.id(0))
    if order is None or order.buyer_user_id != buyer:
        await query.answer(unknown_button(lang), show_alert=True)
        return
    added = 0
    for line in order.lines:
        try:
            await cart.add(shop, buyer, line.product_id, line.quantity)
        except cart.CartRefused:
            continue
        added += 1
    await query.answer(texts.back_in_cart(lang, added, len(order.lines) - added), show_alert=True)
    if added:
        text, markup = await cart_page(shop, lang, buyer)
        await query.get_bot().send_message(
            buyer, text, parse_mode=ParseMode.HTML, reply_markup=markup
        )


async def orders_page(
    shop: Shop, lang: Lang, user_id: int, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    total = await orders.count_for_buyer(shop.db.reader, user_id)
    pages = max(math.ceil(total / ORDERS_PAGE_SIZE), 1)
    page = min(page, pages - 1)
    items = await orders.for_buyer(
        shop.db.reader, user_id, offset=page * ORDERS_PAGE_SIZE, limit=ORDERS_PAGE_SIZE
    )
    return texts.orders_list(lang, items, page, pages), keyboards.orders(lang, items, page, pages)
