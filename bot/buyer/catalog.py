"""The buyer's catalog: /catalog, its pages and categories, the product card and its
quantity buttons, and the deep link that opens a card — in the buyer's language, the
merchant's titles, descriptions and category names too where the merchant translated them
(shop/translations.py: one query per page; buttons and queries keep the stored category)."""

from __future__ import annotations

import math
import re

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode

from bot import callbacks as cb
from bot.buyer import keyboards, texts
from bot.context import ShopContext
from bot.shared import reply_page, show_buttons, tapped, turn_page
from bot.texts import MAX_CAPTION, MAX_TEXT, unknown_button
from shop import translations
from shop.context import Shop
from shop.i18n import Lang
from shop.ids import ID_PATTERN
from storage import carts, products, stock
from storage.models import Product, ProductKind

CATALOG_PAGE_SIZE = 8
PRODUCT_PAYLOAD = re.compile(rf"^p_({ID_PATTERN})$")


async def catalog_command(update: Update, context: ShopContext) -> None:
    """/catalog: the first catalog page as a list of product buttons."""
    assert update.effective_user is not None
    page = await catalog_page(context.shop, context.lang, update.effective_user.id, 0)
    await reply_page(update, page)


async def open_catalog(update: Update, context: ShopContext) -> None:
    """‹ Back / Next › / ‹ Catalog: that page of the catalog, in place."""
    if (tap := await tapped(update, cb.CATALOG)) is None:
        return
    query, data = tap
    page = await catalog_page(context.shop, context.lang, query.from_user.id, data.id(0))
    await turn_page(query, page)


async def open_category(update: Update, context: ShopContext) -> None:
    """A category (or a page inside it): its products, in place."""
    if (tap := await tapped(update, cb.CATEGORY)) is None:
        return
    query, data = tap
    page = await catalog_page(
        context.shop, context.lang, query.from_user.id, data.id(1), group=data.id(0)
    )
    await turn_page(query, page)


async def open_product(update: Update, context: ShopContext) -> None:
    """A product button (or Buy again): its card, as a new message."""
    if (tap := await tapped(update, cb.PRODUCT)) is None:
        return
    query, data = tap
    if not isinstance(query.message, Message):
        await query.answer(unknown_button(context.lang), show_alert=True)
        return
    await query.answer()
    shop, lang = context.shop, context.lang
    await send_product_card(shop, lang, query.message, data.id(0), query.from_user.id)


async def change_quantity(update: Update, context: ShopContext) -> None:
    """− / +: the card's buttons are redrawn for the new quantity."""
    if (tap := await tapped(update, cb.QUANTITY)) is None:
        return
    query, data = tap
    shop, lang = context.shop, context.lang
    product = await products.get(shop.db.reader, data.id(0))
    if product is None or not product.buyable:
        await query.answer(texts.product_unavailable(lang), show_alert=True)
        return
    await query.answer()
    left = await stock_left(shop, product)
    lines = await carts.count(shop.db.reader, query.from_user.id)
    markup = keyboards.card_buttons(lang, product, data.id(1), stock_left=left, cart_lines=lines)
    await show_buttons(query, markup)


async def at_most(update: Update, context: ShopContext) -> None:
    """+ at the largest quantity: the toast says why there is no more (stock or the cap)."""
    if (tap := await tapped(update, cb.AT_MOST)) is None:
        return
    query, data = tap
    lang = context.lang
    product = await products.get(context.shop.db.reader, data.id(0))
    if product is None or not product.active or product.archived:
        await query.answer(texts.product_unavailable(lang), show_alert=True)
        return
    await query.answer(texts.at_most(lang, await stock_left(context.shop, product)))


async def catalog_page(
    shop: Shop, lang: Lang, buyer_user_id: int, page: int, group: int | None = None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The catalog: categories first when there are several, else (or inside one) products,
    with the buyer's cart under them.

    `group` is the id of a category's first product, which names the category in buttons."""
    groups = await products.catalog_groups(shop.db.reader)
    if not groups:
        return texts.catalog_empty(lang), None
    if group is None and len(groups) > 1:
        return await _categories(shop, lang, buyer_user_id, groups)
    anchor = await products.get(shop.db.reader, group) if group is not None else None
    if group is not None and (anchor is None or not anchor.listed):
        # A stale or forged button: a hidden product must not reveal its category's name.
        if len(groups) == 1:
            return await catalog_page(shop, lang, buyer_user_id, 0)
        return await _categories(shop, lang, buyer_user_id, groups)
    category = (anchor.category or "") if anchor else None
    total = await products.count_active(shop.db.reader, category=category)
    pages = max(math.ceil(total / CATALOG_PAGE_SIZE), 1)
    page = min(page, pages - 1)
    items = await products.list_active(
        shop.db.reader, offset=page * CATALOG_PAGE_SIZE, limit=CATALOG_PAGE_SIZE, category=category
    )
    items = await translations.localized(shop.db.reader, items, lang.code)
    if category:  # the heading names it as the buyer reads it; the query went by the stored name
        category = await translations.localized_category(shop.db.reader, category, lang.code)
    header = texts.catalog_header(lang, page, pages, category)
    lines = await carts.count(shop.db.reader, buyer_user_id)
    inside = group if len(groups) > 1 else None
    return header, keyboards.catalog(lang, items, page, pages, group=inside, cart_lines=lines)


async def _categories(
    shop: Shop, lang: Lang, buyer_user_id: int, groups: list[tuple[str, int, int]]
) -> tuple[str, InlineKeyboardMarkup]:
    """The category menu: each category's button named in the buyer's language where the
    merchant translated it (its callback still names the group by its first product)."""
    names = await translations.category_names(shop.db.reader, lang.code)
    shown = [(translations.category_name(names, name), n, first) for name, n, first in groups]
    lines = await carts.count(shop.db.reader, buyer_user_id)
    return texts.categories_header(lang), keyboards.categories(lang, shown, cart_lines=lines)


async def send_product_card(
    shop: Shop, lang: Lang, message: Message, product_id: int, buyer_user_id: int
) -> None:
    product = await products.get(shop.db.reader, product_id)
    if product is None or not product.buyable:
        await message.reply_text(texts.product_unavailable(lang))
        return
    product = await translations.localized_one(shop.db.reader, product, lang.code)
    left = await stock_left(shop, product)
    lines = await carts.count(shop.db.reader, buyer_user_id)
    markup = keyboards.card_buttons(lang, product, 1, stock_left=left, cart_lines=lines)
    await send_card(lang, message, product, left, markup)


async def send_card(
    lang: Lang,
    message: Message,
    product: Product,
    stock_left: int | None,
    markup: InlineKeyboardMarkup,
) -> None:
    """The product card: a photo with a caption when the product has one, else text."""
    if product.photo:
        await message.reply_photo(
            product.photo,
            caption=texts.product_card(lang, product, limit=MAX_CAPTION, stock_left=stock_left),
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
        )
    else:
        await message.reply_text(
            texts.product_card(lang, product, limit=MAX_TEXT, stock_left=stock_left),
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
        )


async def stock_left(shop: Shop, product: Product) -> int | None:
    """Items left for a stock product; None for kinds without a count."""
    if product.kind is not ProductKind.DIGITAL_STOCK:
        return None
    return await stock.available(shop.db.reader, product.id)


def product_link(username: str, product: Product) -> str:
    """A deep link that opens a product's card: t.me/<bot>?start=p_<id> (≤ 64 chars, A-Za-z0-9_)."""
    return f"https://t.me/{username}?start=p_{product.id}"
