"""Admin: /products — every product with its state, kind, price and stock; a product's card
with Hide/Show, Move up/down, Edit and Delete.

Buttons are `bot.callbacks`' `ap:` ones (ids only); every tap re-reads the product and
re-checks the admin (`admin_only`, in bot/admin/routes.py), so an old or forged button can do
no more than a fresh one. Edit is bot/admin/product_edit.py's, /stock bot/admin/stock.py's.
"""

from __future__ import annotations

import math
from html import escape

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import callbacks as cb
from bot.admin.dialog import message_of, say
from bot.admin.product_texts import (
    countries_line,
    delivery_label,
    kind_label,
    list_warning,
    prices_html,
    rail_line,
)
from bot.context import ShopContext
from bot.shared import page_row, show_page, tapped, turn_page
from bot.texts import clip
from shop import catalog
from shop.catalog import risks_the_terms
from shop.context import Shop
from shop.i18n import N_, Lang
from storage import products, stock
from storage.models import Product, ProductKind

PAGE_SIZE = 8

# What Delete did (shop/catalog.py's outcome), as the tap's answer.
_DELETED = {"deleted": N_("Deleted"), "archived": N_("Archived")}


def gone(lang: Lang) -> str:
    """A product the admin can no longer manage (deleted, or archived meanwhile)."""
    return lang.t("That product no longer exists.")


# --- reading -----------------------------------------------------------------------------------


async def managed(shop: Shop, product_id: int) -> Product | None:
    """The product if the admin can still manage it (archived ones are kept for orders only)."""
    product = await products.get(shop.db.reader, product_id)
    return product if product is not None and not product.archived else None


async def catalog_place(shop: Shop, product: Product) -> tuple[int, int]:
    """(1-based place in the catalog order, number of products)."""
    total = await products.count_all(shop.db.reader)
    everything = await products.list_all(shop.db.reader, offset=0, limit=max(total, 1))
    ids = [item.id for item in everything]
    return (ids.index(product.id) + 1 if product.id in ids else total), total


async def stock_note(lang: Lang, shop: Shop, product: Product) -> str:
    """Available and reserved apart: reserved items are held by unpaid orders and come back
    when those are cancelled or expire, so "Sold out" with many reserved is not sold out."""
    if product.kind is not ProductKind.DIGITAL_STOCK:
        return ""
    available, reserved = await stock.counts(shop.db.reader, product.id)
    return lang.t(
        " · {available} available · {reserved} reserved",
        available=lang.number(available),
        reserved=lang.number(reserved),
    )


# --- rendering ---------------------------------------------------------------------------------


def _list_head(lang: Lang, total: int, page: int, pages: int) -> str:
    if pages > 1:
        return lang.nt(
            "🗂 <b>Products</b> · {n} in all · page {page} of {pages}",
            "🗂 <b>Products</b> · {n} in all · page {page} of {pages}",
            total,
            page=page + 1,
            pages=pages,
        )
    return lang.nt("🗂 <b>Products</b> · {n} in all", "🗂 <b>Products</b> · {n} in all", total)


async def list_page(lang: Lang, shop: Shop, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    total = await products.count_all(shop.db.reader)
    if total == 0:
        return lang.t("🗂 No products yet. /addproduct adds the first one."), None
    pages = math.ceil(total / PAGE_SIZE)
    page = max(min(page, pages - 1), 0)
    items = await products.list_all(shop.db.reader, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
    lines = [_list_head(lang, total, page, pages), ""]
    for item in items:
        state = lang.t("✅ shown") if item.active else lang.t("🙈 hidden")
        lines.append(
            f"<b>#{item.id}</b> {escape(clip(item.title, 60))}\n"
            f"    {state} · {kind_label(lang, item.kind)} · {prices_html(lang, item)}"
            f"{await stock_note(lang, shop, item)}"
            + (f"\n    {list_warning(lang)}" if risks_the_terms(item) else "")
        )
    lines.append("\n" + lang.t("Tap a product to manage it. /addproduct adds one."))
    rows = [
        [
            InlineKeyboardButton(
                f"#{p.id} {clip(p.title, 40)}", callback_data=cb.PRODUCT_CARD.encode(p.id)
            )
        ]
        for p in items
    ]
    if pages > 1:
        rows.append(page_row(lang, cb.PRODUCTS_PAGE, page, pages))
    return "\n".join(lines), InlineKeyboardMarkup(rows)


async def card(lang: Lang, shop: Shop, product: Product) -> tuple[str, InlineKeyboardMarkup]:
    """The admin's card: everything about the product, and what can be done with it."""
    place, total = await catalog_place(shop, product)
    shown = lang.t("✅ Shown in the catalog") if product.active else lang.t("🙈 Hidden from buyers")
    category = (
        lang.t("🗂 Category: {category}", category=escape(product.category))
        if product.category
        else lang.t("🗂 No category")
    )
    lines = [
        f"🛠 <b>#{product.id} · {escape(product.title)}</b>",
        lang.t("{shown} · place {place} of {total}", shown=shown, place=place, total=total),
        f"{kind_label(lang, product.kind)}{await stock_note(lang, shop, product)}",
        f"💰 {rail_line(lang, product)}",
        category,
        lang.t("🖼 Photo: yes") if product.photo else lang.t("🖼 Photo: none"),
    ]
    if product.kind is ProductKind.PHYSICAL:
        countries = countries_line(lang, product.shipping_countries)
        lines.append(lang.t("🌍 Ships to: {countries}", countries=countries))
    if product.description:
        lines.append(f"\n{escape(clip(product.description, 300))}")
    if product.delivery_text:
        label = delivery_label(lang, product.kind)
        lines.append(f"\n<i>{label}:</i> {escape(clip(product.delivery_text, 300))}")
    return "\n".join(lines), _card_buttons(lang, product)


def _card_buttons(lang: Lang, product: Product) -> InlineKeyboardMarkup:
    pid = product.id

    def button(text: str, data: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(text, callback_data=data)

    visibility = (
        button(lang.t("🙈 Hide"), cb.PRODUCT_VISIBLE.encode(pid, 0))
        if product.active
        else button(lang.t("👁 Show"), cb.PRODUCT_VISIBLE.encode(pid, 1))
    )
    return InlineKeyboardMarkup(
        [
            [button(lang.t("✏️ Edit"), cb.EDIT_MENU.encode(pid)), visibility],
            [
                button(lang.t("⬆️ Move up"), cb.PRODUCT_UP.encode(pid)),
                button(lang.t("⬇️ Move down"), cb.PRODUCT_DOWN.encode(pid)),
            ],
            [
                button(lang.t("🗑 Delete"), cb.PRODUCT_DELETE.encode(pid)),
                button(lang.t("‹ All products"), cb.PRODUCTS_PAGE.encode(0)),
            ],
        ]
    )


# --- /products and its buttons -------------------------------------------------------------------


async def products_command(update: Update, context: ShopContext) -> None:
    """/products: every product with its state, kind, price and stock; tap one to manage it."""
    text, markup = await list_page(context.lang, context.shop, 0)
    await say(message_of(update), text, markup)


async def open_list(update: Update, context: ShopContext) -> None:
    """‹ Back / Next › / All products: that page of the list, in place."""
    if (tap := await tapped(update, cb.PRODUCTS_PAGE)) is None:
        return
    query, data = tap
    await turn_page(query, await list_page(context.lang, context.shop, data.id(0)))


async def tapped_product(
    update: Update, context: ShopContext, button: cb.Button
) -> tuple[CallbackQuery, cb.Callback, Product] | None:
    """The tap, its data and the product it names (its first argument); None once a product
    the admin can no longer manage is answered."""
    if (tap := await tapped(update, button)) is None:
        return None
    query, data = tap
    product = await managed(context.shop, data.id(0))
    if product is None:
        await query.answer(gone(context.lang), show_alert=True)
        return None
    return query, data, product


async def open_card(update: Update, context: ShopContext) -> None:
    """A product in the list (or ‹ Back): its admin card, in place."""
    if (tap := await tapped_product(update, context, cb.PRODUCT_CARD)) is None:
        return
    query, _, product = tap
    await turn_page(query, await card(context.lang, context.shop, product))


async def set_visible(update: Update, context: ShopContext) -> None:
    """Hide / Show: buyers stop (or start) seeing it; the card shows the new state."""
    if (tap := await tapped_product(update, context, cb.PRODUCT_VISIBLE)) is None:
        return
    query, data, product = tap
    visible, lang = bool(data.id(1)), context.lang
    await catalog.set_visible(context.shop.db, product.id, visible)
    await query.answer(lang.t("Shown in the catalog") if visible else lang.t("Hidden from buyers"))
    await _refresh_card(lang, context.shop, query, product.id)


async def move_up(update: Update, context: ShopContext) -> None:
    """Move up: one place earlier in the catalog (and in this list)."""
    await _move(update, context, cb.PRODUCT_UP, -1)


async def move_down(update: Update, context: ShopContext) -> None:
    """Move down: one place later in the catalog (and in this list)."""
    await _move(update, context, cb.PRODUCT_DOWN, 1)


async def _move(update: Update, context: ShopContext, button: cb.Button, direction: int) -> None:
    """Swap with the neighbour; at either end the answer says so and nothing changes."""
    if (tap := await tapped_product(update, context, button)) is None:
        return
    query, _, product = tap
    lang = context.lang
    moved = await catalog.move_product(context.shop.db, product.id, direction)
    if not moved:
        await query.answer(lang.t("Already first.") if direction < 0 else lang.t("Already last."))
        return
    await query.answer(lang.t("Moved up") if direction < 0 else lang.t("Moved down"))
    await _refresh_card(lang, context.shop, query, product.id)


async def _refresh_card(lang: Lang, shop: Shop, query: CallbackQuery, product_id: int) -> None:
    """Redraw the card in place after a change, so what the admin sees is what is stored."""
    product = await managed(shop, product_id)
    if product is not None:
        await show_page(query, *await card(lang, shop, product))


async def ask_delete(update: Update, context: ShopContext) -> None:
    """Delete: "Delete <title>?" with what will happen, and Yes / No."""
    if (tap := await tapped_product(update, context, cb.PRODUCT_DELETE)) is None:
        return
    query, _, product = tap
    lang = context.lang
    await query.answer()
    text = lang.t(
        "🗑 Delete <b>{title}</b>?\n\n"
        "A product nobody has ordered is erased, with its stock. One with orders is archived "
        "instead: buyers can no longer see or buy it, and its orders keep their records.",
        title=escape(product.title),
    )
    yes = cb.PRODUCT_DELETE_YES.encode(product.id)
    keep = cb.PRODUCT_CARD.encode(product.id)
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(lang.t("🗑 Yes, delete"), callback_data=yes),
                InlineKeyboardButton(lang.t("No, keep it"), callback_data=keep),
            ]
        ]
    )
    await show_page(query, text, markup)


async def delete(update: Update, context: ShopContext) -> None:
    """Yes, delete: "deleted" (erased) or "archived" (it has orders), and a way back."""
    if (tap := await tapped(update, cb.PRODUCT_DELETE_YES)) is None:
        return
    query, data = tap
    lang = context.lang
    product = await managed(context.shop, data.id(0))
    if product is None:
        await query.answer(lang.t("That product is already gone."), show_alert=True)
        return
    outcome = await catalog.delete_product(context.shop.db, product.id)
    await query.answer(lang.t(_DELETED[outcome]))
    title = escape(product.title)
    if outcome == "archived":
        text = lang.t(
            "📦 <b>{title}</b> was archived: it has orders, so it is kept for their records, "
            "but buyers can no longer see or buy it.",
            title=title,
        )
    else:
        text = lang.t("🗑 <b>{title}</b> was deleted.", title=title)
    back = InlineKeyboardButton(lang.t("‹ All products"), callback_data=cb.PRODUCTS_PAGE.encode(0))
    await show_page(query, text, InlineKeyboardMarkup([[back]]))
