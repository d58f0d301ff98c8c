"""Admin: /stock — items for a digital_stock product, typed below the command, in the next
message or as a .txt file; /stock alone offers the stock products as buttons (`ak:`).

The items are added in one transaction (`shop.catalog.upload_stock`); a product that was
waiting hidden for its items is shown in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import ConversationHandler

from bot import callbacks as cb
from bot.admin import fields as admin_fields
from bot.admin.dialog import (
    Dialog,
    advance,
    ask_again,
    begin,
    current,
    finish,
    message_of,
    say,
    stay,
)
from bot.admin.fields import FieldError
from bot.admin.product_texts import items_hint, kind_label
from bot.admin.products import managed
from bot.context import ShopContext
from bot.shared import take_buttons_off, tapped
from bot.texts import clip
from shop import catalog
from shop.context import Shop
from shop.i18n import Lang
from shop.ids import parse_id
from storage import products, stock
from storage.models import Product, ProductKind

END = ConversationHandler.END
UPLOADING = "ak_items"  # the dialog's state while it waits for the items


@dataclass
class StockUpload(Dialog):
    """Waiting for the items of a digital_stock product (lines or a .txt file)."""

    product_id: int = 0
    title: str = ""  # the product's, as the dialog began (escaped when shown)

    def cancelled(self, lang: Lang) -> str:
        return lang.t(
            "✖️ Cancelled /stock for <b>{title}</b> — no items were added.",
            title=escape(self.title),
        )

    def replaced(self, lang: Lang) -> str:
        return lang.t(
            "(Left /stock for <b>{title}</b> unfinished: no items were added.)",
            title=escape(self.title),
        )

    def closed(self, lang: Lang, waited: str) -> str:
        return lang.t(
            "⌛ No answer for {waited}, so I closed /stock for <b>{title}</b> — no items were "
            "added. Start again whenever you like.",
            waited=waited,
            title=escape(self.title),
        )


def stock_usage(lang: Lang) -> str:
    return lang.t(
        "Usage: <code>/stock &lt;product id&gt;</code> with the items one per line below it — "
        "in the same message, in the next one, or as a .txt file. Product ids are in /products."
    )


async def stock_command(update: Update, context: ShopContext) -> object:
    """/stock <id> [items…]: adds the lines below the command, or asks for them; /stock
    alone offers the stock products as buttons."""
    message, shop, lang = message_of(update), context.shop, context.lang
    head, *lines = (message.text or "").split("\n")
    words = head.split()
    if len(words) == 1 and not any(line.strip() for line in lines):
        await say(message, *await _stock_choices(lang, shop))
        return stay(context)
    product_id = parse_id(words[1].removeprefix("#")) if len(words) == 2 else None
    if product_id is None:
        await say(message, stock_usage(lang))
        return stay(context)
    product = await _stock_product(lang, shop, message, product_id)
    if product is None:
        return stay(context)
    if any(line.strip() for line in lines):
        try:
            items = admin_fields.parse_items("\n".join(lines))
        except FieldError as error:
            await ask_again(lang, message, error, stock_usage(lang))
            return stay(context)
        await say(message, await _add_items(lang, shop, product, items))
        return stay(context)
    return _begin_upload(update, context, product)


def _begin_upload(update: Update, context: ShopContext, product: Product) -> object:
    """Open the dialog that waits for the product's items (typed or a .txt file)."""
    lang = context.lang
    upload = StockUpload(product_id=product.id, title=product.title)
    note = begin(context, upload)
    prompt = lang.t(
        "🔑 Items for <b>{title}</b> (#{product})\n\n{hint}\n\n/cancel stops.",
        title=escape(product.title),
        product=product.id,
        hint=items_hint(lang),
    )
    reply = say(message_of(update), prompt + note)
    return advance(context, update, reply, UPLOADING)


STOCK_CHOICES = 24


async def _stock_choices(lang: Lang, shop: Shop) -> tuple[str, InlineKeyboardMarkup | None]:
    """/stock alone: a button per stock product (with what is left), or how to make one."""
    choices = await products.list_of_kind(
        shop.db.reader, ProductKind.DIGITAL_STOCK, limit=STOCK_CHOICES
    )
    if not choices:
        text = lang.t(
            "🔑 No stock products yet: /addproduct makes one (kind {kind}).",
            kind=kind_label(lang, ProductKind.DIGITAL_STOCK),
        )
        return text, None
    rows = []
    for product in choices:
        left = await stock.available(shop.db.reader, product.id)
        label = lang.nt(
            "#{product} {title} · {n} left",
            "#{product} {title} · {n} left",
            left,
            product=product.id,
            title=clip(product.title, 40),
        )
        rows.append(
            [InlineKeyboardButton(label, callback_data=cb.STOCK_PRODUCT.encode(product.id))]
        )
    text = lang.t("🔑 Which product gets items?\n\n{usage}", usage=stock_usage(lang))
    return text, InlineKeyboardMarkup(rows)


async def stock_chosen(update: Update, context: ShopContext) -> object:
    """A product tapped on /stock's list: the list's buttons go, and its items are asked for."""
    if (tap := await tapped(update, cb.STOCK_PRODUCT)) is None:
        return stay(context)
    query, data = tap
    await query.answer()
    message = message_of(update)
    await take_buttons_off(context, message.chat_id, message.message_id)
    product = await _stock_product(context.lang, context.shop, message, data.id(0))
    if product is None:
        return stay(context)
    return _begin_upload(update, context, product)


async def _stock_product(
    lang: Lang, shop: Shop, message: Message, product_id: int
) -> Product | None:
    """The product to stock, or None after telling the admin why it can't be stocked."""
    product = await managed(shop, product_id)
    if product is None:
        await say(
            message,
            lang.t(
                "There is no product #{product}. See /products for the ids.", product=product_id
            ),
        )
        return None
    if product.kind is not ProductKind.DIGITAL_STOCK:
        text = lang.t(
            "<b>{title}</b> (#{product}) is {kind}, not {stock_kind}: only stock products have "
            "items.",
            title=escape(product.title),
            product=product.id,
            kind=kind_label(lang, product.kind),
            stock_kind=kind_label(lang, ProductKind.DIGITAL_STOCK),
        )
        await say(message, text)
        return None
    return product


async def _add_items(lang: Lang, shop: Shop, product: Product, items: list[str]) -> str:
    """Add in one transaction; the reply says added, skipped and what is available now. A
    product that was waiting hidden for its items is shown in the same transaction."""
    upload = await catalog.upload_stock(shop.db, product.id, items)
    title, pid = escape(product.title), product.id
    if upload.skipped:
        added = lang.nt(
            "🔑 <b>{title}</b> (#{product}): added <b>{n}</b> item, skipped <b>{skipped}</b> "
            "(already in stock, or over {most} characters).",
            "🔑 <b>{title}</b> (#{product}): added <b>{n}</b> items, skipped <b>{skipped}</b> "
            "(already in stock, or over {most} characters).",
            upload.added,
            title=title,
            product=pid,
            skipped=lang.number(upload.skipped),
            most=stock.MAX_ITEM_CHARS,
        )
    else:
        added = lang.nt(
            "🔑 <b>{title}</b> (#{product}): added <b>{n}</b> item.",
            "🔑 <b>{title}</b> (#{product}): added <b>{n}</b> items.",
            upload.added,
            title=title,
            product=pid,
        )
    lines = [added, lang.t("Available now: <b>{count}</b>.", count=lang.number(upload.available))]
    if upload.shown:
        lines.append(lang.t("👁 It was waiting for items: it is now shown in the catalog."))
    return "\n".join(lines)


async def stock_text(update: Update, context: ShopContext) -> object:
    """Items typed one per line after /stock <id>: "added N, skipped M, available K"."""
    message, lang = message_of(update), context.lang
    try:
        items = admin_fields.parse_items(message.text)
    except FieldError as error:
        await ask_again(lang, message, error, items_hint(lang))
        return None
    return await _finish_stock(update, context, items)


async def stock_file(update: Update, context: ShopContext) -> object:
    """A .txt file after /stock <id> (anything else is refused kindly): its lines are added."""
    message, lang = message_of(update), context.lang
    assert message.document is not None
    try:
        items = await admin_fields.read_items_file(message.document)
    except FieldError as error:
        await ask_again(lang, message, error, items_hint(lang))
        return None
    return await _finish_stock(update, context, items)


async def _finish_stock(update: Update, context: ShopContext, items: list[str]) -> object:
    """Add the items to the product the dialog was opened for, then close the dialog."""
    upload, shop = current(context), context.shop
    assert isinstance(upload, StockUpload)
    finish(context)
    product = await managed(shop, upload.product_id)
    if product is None:
        text = context.lang.t("That product no longer exists; nothing was added.")
        return advance(context, update, say(message_of(update), text), END)
    reply = await _add_items(context.lang, shop, product, items)
    return advance(context, update, say(message_of(update), reply), END)
