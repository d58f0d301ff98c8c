"""Admin catalog management: /products (list, card, edit, hide/show, reorder, delete), /stock,
and the one dialog that /addproduct, Edit and /stock share.

One ConversationHandler holds all three dialogs, with re-entry allowed, so an admin is in at
most one of them: starting another replaces the first (and says so) instead of two dialogs
competing for the same typed message. Buttons carry ids only (`ap:<action>:<id>…`) and every
tap re-reads the product and re-checks the admin (`admin_only`), so an old or forged button can
do no more than a fresh one.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from html import escape
from typing import Any

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import admin_fields, admin_wizard, texts
from bot.admin_auth import admin_filter, admin_only
from bot.admin_dialog import (
    Dialog,
    advance,
    ask_again,
    ask_with_buttons,
    begin,
    current,
    drop_keyboard,
    finish,
    message_of,
    say,
    take_buttons_off,
    within,
)
from bot.admin_fields import FieldError
from bot.admin_wizard import (
    CATEGORY_HINT,
    DELIVERY_LABELS,
    ITEMS_HINT,
    KIND_LABELS,
    category_keyboard,
)
from bot.context import shop_of
from bot.handlers import show_page
from shop import catalog
from shop.context import Shop
from shop.ids import ID_PATTERN, parse_id
from storage import products, stock
from storage.models import Product, ProductKind

PAGE_SIZE = 8
DIALOG_TIMEOUT: float | dt.timedelta = dt.timedelta(minutes=15)
"""How long a dialog waits for the admin's next answer (read when `handlers` is called)."""

END = ConversationHandler.END
_BUTTON = re.compile(rf"^ap:([a-z]+)((?::{ID_PATTERN})*)$")


def _data(action: str, *args: int) -> str:
    """Callback data `ap:<action>:<int>…`: ids and small numbers only, so ≤ 64 bytes."""
    data = ":".join(["ap", action, *(str(arg) for arg in args)])
    assert len(data.encode()) <= 64
    return data


class Wait(enum.StrEnum):
    EDIT = "ap_edit_value"
    STOCK = "ap_stock_items"


# Editable fields, by their index in `ap:f:<product id>:<index>` buttons.
FIELDS = ("title", "description", "price", "photo", "delivery", "category", "countries")
_FIELD_LABELS = {
    "title": "Title",
    "description": "Description",
    "price": "Price",
    "photo": "Photo",
    "category": "Category",
    "countries": "Ships to",
}


def _fields_of(kind: ProductKind) -> list[tuple[int, str]]:
    """(index in FIELDS, name) of the fields a product of `kind` has: only a physical
    product ships, so only it has countries."""
    return [
        (index, name)
        for index, name in enumerate(FIELDS)
        if name != "countries" or kind is ProductKind.PHYSICAL
    ]


def _field_label(name: str, kind: ProductKind) -> str:
    return DELIVERY_LABELS[kind] if name == "delivery" else _FIELD_LABELS[name]


@dataclass
class Edit(Dialog):
    """Waiting for a new value of one field of one product."""

    product_id: int = 0
    what: str = "title"
    categories: list[str] = field(default_factory=list)  # as offered on the buttons


@dataclass
class StockUpload(Dialog):
    """Waiting for the items of a digital_stock product (lines or a .txt file)."""

    product_id: int = 0


# --- reading -----------------------------------------------------------------------------------


async def _managed(shop: Shop, product_id: int) -> Product | None:
    """The product if the admin can still manage it (archived ones are kept for orders only)."""
    product = await products.get(shop.db.reader, product_id)
    return product if product is not None and not product.archived else None


async def _place(shop: Shop, product: Product) -> tuple[int, int]:
    """(1-based place in the catalog order, number of products)."""
    total = await products.count_all(shop.db.reader)
    everything = await products.list_all(shop.db.reader, offset=0, limit=max(total, 1))
    ids = [item.id for item in everything]
    return (ids.index(product.id) + 1 if product.id in ids else total), total


def _price(product: Product) -> str:
    return escape(texts.price(product))


async def _stock_note(shop: Shop, product: Product) -> str:
    """Available and reserved apart: reserved items are held by unpaid orders and come back
    when those are cancelled or expire, so "Sold out" with many reserved is not sold out."""
    if product.kind is not ProductKind.DIGITAL_STOCK:
        return ""
    available, reserved = await stock.counts(shop.db.reader, product.id)
    return f" · {available} available · {reserved} reserved"


# --- rendering ---------------------------------------------------------------------------------


async def _list_page(shop: Shop, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    total = await products.count_all(shop.db.reader)
    if total == 0:
        return "🗂 No products yet. /addproduct adds the first one.", None
    pages = math.ceil(total / PAGE_SIZE)
    page = max(min(page, pages - 1), 0)
    items = await products.list_all(shop.db.reader, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
    head = f"🗂 <b>Products</b> · {total} in all"
    if pages > 1:
        head += f" · page {page + 1} of {pages}"
    lines = [head, ""]
    for item in items:
        state = "✅ shown" if item.active else "🙈 hidden"
        lines.append(
            f"<b>#{item.id}</b> {escape(texts.clip(item.title, 60))}\n"
            f"    {state} · {KIND_LABELS[item.kind]} · {_price(item)}"
            f"{await _stock_note(shop, item)}"
        )
    lines.append("\nTap a product to manage it. /addproduct adds one.")
    rows = [
        [InlineKeyboardButton(f"#{p.id} {texts.clip(p.title, 40)}", callback_data=_data("o", p.id))]
        for p in items
    ]
    if pages > 1:
        nav = []
        if page > 0:
            nav.append(InlineKeyboardButton("‹ Back", callback_data=_data("l", page - 1)))
        nav.append(InlineKeyboardButton(f"{page + 1}/{pages}", callback_data=_data("n")))
        if page + 1 < pages:
            nav.append(InlineKeyboardButton("Next ›", callback_data=_data("l", page + 1)))
        rows.append(nav)
    return "\n".join(lines), InlineKeyboardMarkup(rows)


async def _card(shop: Shop, product: Product) -> tuple[str, InlineKeyboardMarkup]:
    """The admin's card: everything about the product, and what can be done with it."""
    place, total = await _place(shop, product)
    shown = "✅ Shown in the catalog" if product.active else "🙈 Hidden from buyers"
    category = f"🗂 Category: {escape(product.category)}" if product.category else "🗂 No category"
    lines = [
        f"🛠 <b>#{product.id} · {escape(product.title)}</b>",
        f"{shown} · place {place} of {total}",
        f"{KIND_LABELS[product.kind]}{await _stock_note(shop, product)}",
        f"💰 {_price(product)}",
        category,
        f"🖼 Photo: {'yes' if product.photo else 'none'}",
    ]
    if product.kind is ProductKind.PHYSICAL:
        lines.append(f"🌍 Ships to: {admin_wizard.countries_line(product.shipping_countries)}")
    if product.description:
        lines.append(f"\n{escape(texts.clip(product.description, 300))}")
    if product.delivery_text:
        label = DELIVERY_LABELS[product.kind]
        lines.append(f"\n<i>{label}:</i> {escape(texts.clip(product.delivery_text, 300))}")
    pid = product.id
    visibility = (
        InlineKeyboardButton("🙈 Hide", callback_data=_data("v", pid, 0))
        if product.active
        else InlineKeyboardButton("👁 Show", callback_data=_data("v", pid, 1))
    )
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("✏️ Edit", callback_data=_data("e", pid)), visibility],
            [
                InlineKeyboardButton("⬆️ Move up", callback_data=_data("up", pid)),
                InlineKeyboardButton("⬇️ Move down", callback_data=_data("dn", pid)),
            ],
            [
                InlineKeyboardButton("🗑 Delete", callback_data=_data("del", pid)),
                InlineKeyboardButton("‹ All products", callback_data=_data("l", 0)),
            ],
        ]
    )
    return "\n".join(lines), markup


def _edit_menu(product: Product) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            _field_label(name, product.kind), callback_data=_data("f", product.id, index)
        )
        for index, name in _fields_of(product.kind)
    ]
    back = InlineKeyboardButton("‹ Back", callback_data=_data("o", product.id))
    return InlineKeyboardMarkup([buttons[:3], buttons[3:], [back]])


# --- /products and its buttons -------------------------------------------------------------------


async def products_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/products: every product with its state, kind, price and stock; tap one to manage it."""
    text, markup = await _list_page(shop_of(context), 0)
    await say(message_of(update), text, markup)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The /products buttons; old wizard buttons and anything unknown get "expired"."""
    query = update.callback_query
    assert query is not None and query.data is not None
    match = _BUTTON.match(query.data)
    action = match.group(1) if match else ""
    args = [int(part) for part in match.group(2).split(":")[1:]] if match else []
    route = _ROUTES.get((action, len(args)))
    if route is None:
        await query.answer(texts.admin_button_expired(), show_alert=True)
        return
    await route(shop_of(context), query, *args)


async def _open_list(shop: Shop, query: CallbackQuery, page: int) -> None:
    """‹ Back / Next › / All products: that page of the list, in place."""
    await query.answer()
    await show_page(query, *await _list_page(shop, page))


async def _noop(shop: Shop, query: CallbackQuery) -> None:
    """The page-number label: nothing to do."""
    await query.answer()


async def _open_card(shop: Shop, query: CallbackQuery, product_id: int) -> None:
    """A product in the list (or ‹ Back): its admin card, in place."""
    product = await _managed(shop, product_id)
    if product is None:
        await query.answer("That product no longer exists.", show_alert=True)
        return
    await query.answer()
    await show_page(query, *await _card(shop, product))


async def _set_visible(shop: Shop, query: CallbackQuery, product_id: int, visible: int) -> None:
    """Hide / Show: buyers stop (or start) seeing it; the card shows the new state."""
    if await _managed(shop, product_id) is None:
        await query.answer("That product no longer exists.", show_alert=True)
        return
    await catalog.set_visible(shop.db, product_id, bool(visible))
    await query.answer("Shown in the catalog" if visible else "Hidden from buyers")
    await _refresh_card(shop, query, product_id)


async def _move_up(shop: Shop, query: CallbackQuery, product_id: int) -> None:
    """Move up: one place earlier in the catalog (and in this list)."""
    await _move(shop, query, product_id, -1)


async def _move_down(shop: Shop, query: CallbackQuery, product_id: int) -> None:
    """Move down: one place later in the catalog (and in this list)."""
    await _move(shop, query, product_id, 1)


async def _move(shop: Shop, query: CallbackQuery, product_id: int, direction: int) -> None:
    """Swap with the neighbour; at either end the answer says so and nothing changes."""
    if await _managed(shop, product_id) is None:
        await query.answer("That product no longer exists.", show_alert=True)
        return
    moved = await catalog.move_product(shop.db, product_id, direction)
    if not moved:
        await query.answer("Already first." if direction < 0 else "Already last.")
        return
    await query.answer("Moved up" if direction < 0 else "Moved down")
    await _refresh_card(shop, query, product_id)


async def _refresh_card(shop: Shop, query: CallbackQuery, product_id: int) -> None:
    """Redraw the card in place after a change, so what the admin sees is what is stored."""
    product = await _managed(shop, product_id)
    if product is not None:
        await show_page(query, *await _card(shop, product))


async def _choose_field(shop: Shop, query: CallbackQuery, product_id: int) -> None:
    """Edit: the card's buttons become the fields to choose from."""
    product = await _managed(shop, product_id)
    if product is None:
        await query.answer("That product no longer exists.", show_alert=True)
        return
    await query.answer("Choose what to change")
    text, _ = await _card(shop, product)
    await show_page(query, text + "\n\n✏️ <b>What do you want to change?</b>", _edit_menu(product))


async def _ask_delete(shop: Shop, query: CallbackQuery, product_id: int) -> None:
    """Delete: "Delete <title>?" with what will happen, and Yes / No."""
    product = await _managed(shop, product_id)
    if product is None:
        await query.answer("That product no longer exists.", show_alert=True)
        return
    await query.answer()
    text = (
        f"🗑 Delete <b>{escape(product.title)}</b>?\n\n"
        "A product nobody has ordered is erased, with its stock. One with orders is archived "
        "instead: buyers can no longer see or buy it, and its orders keep their records."
    )
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("🗑 Yes, delete", callback_data=_data("delok", product_id)),
                InlineKeyboardButton("No, keep it", callback_data=_data("o", product_id)),
            ]
        ]
    )
    await show_page(query, text, markup)


async def _delete(shop: Shop, query: CallbackQuery, product_id: int) -> None:
    """Yes, delete: "deleted" (erased) or "archived" (it has orders), and a way back."""
    product = await _managed(shop, product_id)
    if product is None:
        await query.answer("That product is already gone.", show_alert=True)
        return
    outcome = await catalog.delete_product(shop.db, product_id)
    await query.answer(outcome.capitalize())
    title = escape(product.title)
    if outcome == "archived":
        text = (
            f"📦 <b>{title}</b> was archived: it has orders, so it is kept for their records, "
            "but buyers can no longer see or buy it."
        )
    else:
        text = f"🗑 <b>{title}</b> was deleted."
    back = InlineKeyboardButton("‹ All products", callback_data=_data("l", 0))
    await show_page(query, text, InlineKeyboardMarkup([[back]]))


_ROUTES: dict[tuple[str, int], Callable[..., Awaitable[None]]] = {
    ("l", 1): _open_list,
    ("n", 0): _noop,
    ("o", 1): _open_card,
    ("v", 2): _set_visible,
    ("up", 1): _move_up,
    ("dn", 1): _move_down,
    ("e", 1): _choose_field,
    ("del", 1): _ask_delete,
    ("delok", 1): _delete,
}


# --- Edit: a dialog for one field ----------------------------------------------------------------


def _current_value(product: Product, what: str) -> str:
    """The field as it is now (HTML), so the admin sees what they are replacing."""
    if what == "price":
        return _price(product)
    if what == "photo":
        return "a photo" if product.photo else "no photo"
    if what == "category":
        return escape(product.category) if product.category else "no category"
    if what == "countries":
        return admin_wizard.countries_line(product.shipping_countries)
    value = {"title": product.title, "description": product.description}.get(
        what, product.delivery_text
    )
    return escape(texts.clip(value, 300)) if value else "empty"


def _edit_prompt(product: Product, what: str, shop: Shop) -> str:
    label = _field_label(what, product.kind)
    hints = {
        "title": f"Send the new <b>title</b> (1–{admin_fields.MAX_TITLE} characters).",
        "description": (
            f"Send the new <b>description</b> (up to {admin_fields.MAX_DESCRIPTION} characters), "
            "or /skip to remove it."
        ),
        "price": admin_wizard.price_hint(shop.settings.default_currency),
        "photo": "Send the new <b>photo</b>, or /skip to remove it.",
        "delivery": admin_wizard.delivery_prompt(product.kind),
        "category": CATEGORY_HINT,
        "countries": admin_wizard.countries_hint(shop.settings.shipping_countries),
    }
    return (
        f"✏️ <b>{label}</b> of <b>{escape(product.title)}</b>\n"
        f"Now: {_current_value(product, what)}\n\n{hints[what]}\n\n/cancel keeps it as it is."
    )


async def edit_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """A field button: "Send the new price (now $9.99), or /cancel" — same rules as adding."""
    query = update.callback_query
    assert query is not None and query.data is not None
    shop = shop_of(context)
    _, _, raw_id, raw_field = query.data.split(":")
    product = await _managed(shop, int(raw_id))
    if product is None or int(raw_field) not in dict(_fields_of(product.kind)):
        await query.answer("That product no longer exists.", show_alert=True)
        return _stay(context)
    what = FIELDS[int(raw_field)]
    edit = Edit(
        label=f"the edit of <b>{escape(product.title)}</b>",
        outcome="nothing was changed",
        product_id=product.id,
        what=what,
    )
    markup = None
    if what == "category":
        edit.categories = (await products.categories(shop.db.reader))[
            : admin_fields.CATEGORY_BUTTONS
        ]
        markup = category_keyboard(edit.categories, f"ap:c:{product.id}")
    note = begin(context, edit)
    await query.answer()
    menu = message_of(update)
    await take_buttons_off(context, menu.chat_id, menu.message_id)  # the choice is made
    prompt = _edit_prompt(product, what, shop) + note
    reply = say(menu, prompt) if markup is None else ask_with_buttons(menu, edit, prompt, markup)
    return advance(context, update, reply, Wait.EDIT)


def _edit_of(context: ContextTypes.DEFAULT_TYPE) -> Edit:
    """The edit in progress (steps run `within(Edit, …)`, so there is one)."""
    dialog = current(context)
    assert isinstance(dialog, Edit), "edit step without an edit"
    return dialog


async def edit_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """The new value as text: checked like in /addproduct; an error asks again."""
    message, edit = message_of(update), _edit_of(context)
    default = shop_of(context).settings.default_currency
    try:
        changes: dict[str, object]
        if edit.what == "title":
            changes = {"title": admin_fields.clean_title(message.text)}
        elif edit.what == "description":
            changes = {"description": admin_fields.clean_description(message.text)}
        elif edit.what == "price":
            price = admin_fields.clean_price(message.text, default)
            changes = {"price_minor": price.amount, "currency": price.currency}
        elif edit.what == "delivery":
            changes = {"delivery_text": admin_fields.clean_delivery(message.text)}
        elif edit.what == "category":
            changes = {"category": admin_fields.clean_category(message.text)}
        elif edit.what == "countries":
            changes = {"shipping_countries": admin_fields.clean_countries(message.text)}
        else:
            raise FieldError("Please send a photo, or /skip to remove the current one.")
    except FieldError as error:
        await ask_again(message, error, "Send it again, or /cancel to keep it as it is.")
        return None
    return await _apply(update, context, changes)


async def edit_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """A photo while editing the photo: it replaces the card's picture."""
    if _edit_of(context).what != "photo":
        await say(message_of(update), "I need text here, or /cancel to keep it as it is.")
        return None
    return await _apply(update, context, {"photo": admin_fields.largest_photo(message_of(update))})


async def edit_clear(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """/skip while editing: removes an optional field; title, price and a digital text can't go."""
    edit = _edit_of(context)
    product = await _managed(shop_of(context), edit.product_id)
    required = edit.what in ("title", "price") or (
        edit.what == "delivery" and product is not None and product.kind is ProductKind.DIGITAL_TEXT
    )
    if required:
        await say(message_of(update), "This can't be removed. Send a new value, or /cancel.")
        return None
    cleared: dict[str, dict[str, object]] = {
        "description": {"description": ""},
        "photo": {"photo": None},
        "delivery": {"delivery_text": ""},
        "category": {"category": None},
        "countries": {"shipping_countries": None},
    }
    empty = cleared[edit.what]
    return await _apply(update, context, empty)


async def edit_category_tap(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """A category button while editing the category (or No category)."""
    query, edit = update.callback_query, _edit_of(context)
    assert query is not None and query.data is not None
    _, _, raw_id, choice = query.data.split(":")
    valid = choice == "none" or int(choice) < len(edit.categories)
    if int(raw_id) != edit.product_id or edit.what != "category" or not valid:
        await query.answer(texts.admin_button_expired(), show_alert=True)
        return None
    await query.answer()
    category = None if choice == "none" else edit.categories[int(choice)]
    return await _apply(update, context, {"category": category})


async def _apply(
    update: Update, context: ContextTypes.DEFAULT_TYPE, changes: dict[str, object]
) -> object:
    """Store the change and show the updated card: "✅ Price updated"."""
    shop, edit = shop_of(context), _edit_of(context)
    finish(context)
    await drop_keyboard(context, message_of(update).chat_id, edit)
    if await _managed(shop, edit.product_id) is None:
        gone = say(message_of(update), "That product no longer exists; nothing was changed.")
        return advance(context, update, gone, END)
    await catalog.edit_product(shop.db, edit.product_id, **changes)
    product = await _managed(shop, edit.product_id)
    assert product is not None
    text, markup = await _card(shop, product)
    done = f"✅ {_field_label(edit.what, product.kind)} updated.\n\n{text}"
    return advance(context, update, say(message_of(update), done, markup), END)


# --- /stock --------------------------------------------------------------------------------------

_STOCK_USAGE = (
    "Usage: <code>/stock &lt;product id&gt;</code> with the items one per line below it — in "
    "the same message, in the next one, or as a .txt file. Product ids are in /products."
)


async def stock_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """/stock <id> [items…]: adds the lines below the command, or asks for them; /stock
    alone offers the stock products as buttons."""
    message, shop = message_of(update), shop_of(context)
    head, *lines = (message.text or "").split("\n")
    words = head.split()
    if len(words) == 1 and not any(line.strip() for line in lines):
        await say(message, *await _stock_choices(shop))
        return _stay(context)
    product_id = parse_id(words[1].removeprefix("#")) if len(words) == 2 else None
    if product_id is None:
        await say(message, _STOCK_USAGE)
        return _stay(context)
    product = await _stock_product(shop, message, product_id)
    if product is None:
        return _stay(context)
    if any(line.strip() for line in lines):
        try:
            items = admin_fields.parse_items("\n".join(lines))
        except FieldError as error:
            await ask_again(message, error, _STOCK_USAGE)
            return _stay(context)
        await say(message, await _add_items(shop, product, items))
        return _stay(context)
    return _begin_upload(update, context, product)


def _begin_upload(update: Update, context: ContextTypes.DEFAULT_TYPE, product: Product) -> object:
    """Open the dialog that waits for the product's items (typed or a .txt file)."""
    upload = StockUpload(
        label=f"/stock for <b>{escape(product.title)}</b>",
        outcome="no items were added",
        product_id=product.id,
    )
    note = begin(context, upload)
    prompt = f"🔑 Items for <b>{escape(product.title)}</b> (#{product.id})\n\n{ITEMS_HINT}"
    reply = say(message_of(update), prompt + "\n\n/cancel stops." + note)
    return advance(context, update, reply, Wait.STOCK)


STOCK_CHOICES = 24


async def _stock_choices(shop: Shop) -> tuple[str, InlineKeyboardMarkup | None]:
    """/stock alone: a button per stock product (with what is left), or how to make one."""
    choices = await products.list_of_kind(
        shop.db.reader, ProductKind.DIGITAL_STOCK, limit=STOCK_CHOICES
    )
    if not choices:
        return "🔑 No stock products yet: /addproduct makes one (kind 🔑 Digital stock).", None
    rows = []
    for product in choices:
        left = await stock.available(shop.db.reader, product.id)
        label = f"#{product.id} {texts.clip(product.title, 40)} · {left} left"
        rows.append([InlineKeyboardButton(label, callback_data=_data("st", product.id))])
    return f"🔑 Which product gets items?\n\n{_STOCK_USAGE}", InlineKeyboardMarkup(rows)


async def stock_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """A product tapped on /stock's list: the list's buttons go, and its items are asked for."""
    query, shop = update.callback_query, shop_of(context)
    assert query is not None and query.data is not None
    await query.answer()
    message = message_of(update)
    await take_buttons_off(context, message.chat_id, message.message_id)
    product = await _stock_product(shop, message, int(query.data.split(":")[2]))
    if product is None:
        return _stay(context)
    return _begin_upload(update, context, product)


async def _stock_product(shop: Shop, message: Message, product_id: int) -> Product | None:
    """The product to stock, or None after telling the admin why it can't be stocked."""
    product = await _managed(shop, product_id)
    if product is None:
        await say(message, f"There is no product #{product_id}. See /products for the ids.")
        return None
    if product.kind is not ProductKind.DIGITAL_STOCK:
        await say(
            message,
            f"<b>{escape(product.title)}</b> (#{product.id}) is {KIND_LABELS[product.kind]}, "
            f"not {KIND_LABELS[ProductKind.DIGITAL_STOCK]}: only stock products have items.",
        )
        return None
    return product


async def _add_items(shop: Shop, product: Product, items: list[str]) -> str:
    """Add in one transaction; the reply says added, skipped and what is available now. A
    product that was waiting hidden for its items is shown in the same transaction."""
    upload = await catalog.upload_stock(shop.db, product.id, items)
    added, skipped, available = upload.added, upload.skipped, upload.available
    skipped_note = (
        f", skipped <b>{skipped}</b> (already in stock, or over {stock.MAX_ITEM_CHARS} characters)"
        if skipped
        else ""
    )
    return (
        f"🔑 <b>{escape(product.title)}</b> (#{product.id}): added <b>{added}</b> "
        f"item{'s' if added != 1 else ''}{skipped_note}.\nAvailable now: <b>{available}</b>."
        + ("\n👁 It was waiting for items: it is now shown in the catalog." if upload.shown else "")
    )


async def stock_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """Items typed one per line after /stock <id>: "added N, skipped M, available K"."""
    message = message_of(update)
    try:
        items = admin_fields.parse_items(message.text)
    except FieldError as error:
        await ask_again(message, error, ITEMS_HINT)
        return None
    return await _finish_stock(update, context, items)


async def stock_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """A .txt file after /stock <id> (anything else is refused kindly): its lines are added."""
    message = message_of(update)
    assert message.document is not None
    try:
        items = await admin_fields.read_items_file(message.document)
    except FieldError as error:
        await ask_again(message, error, ITEMS_HINT)
        return None
    return await _finish_stock(update, context, items)


async def _finish_stock(
    update: Update, context: ContextTypes.DEFAULT_TYPE, items: list[str]
) -> object:
    """Add the items to the product the dialog was opened for, then close the dialog."""
    upload, shop = current(context), shop_of(context)
    assert isinstance(upload, StockUpload)
    finish(context)
    product = await _managed(shop, upload.product_id)
    if product is None:
        gone = say(message_of(update), "That product no longer exists; nothing was added.")
        return advance(context, update, gone, END)
    reply = await _add_items(shop, product, items)
    return advance(context, update, say(message_of(update), reply), END)


# --- what every dialog shares --------------------------------------------------------------------


def _stay(context: ContextTypes.DEFAULT_TYPE) -> object:
    """An entry point that started nothing: keep the dialog the admin is in, if any."""
    return None if current(context) is not None else END


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """/cancel in any dialog: "Cancelled … — nothing was saved"."""
    dialog = finish(context)
    if dialog is not None:
        await drop_keyboard(context, message_of(update).chat_id, dialog)
    text = f"✖️ Cancelled {dialog.label} — {dialog.outcome}." if dialog else "Nothing to cancel."
    return advance(context, update, say(message_of(update), text), END)


async def cannot_skip(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """/skip where an answer is required: "this step can't be skipped"."""
    await say(message_of(update), "This step can't be skipped. Answer it, or /cancel.")
    return None


async def off_script(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """Something the current step can't use (a sticker, a file…): what to do instead."""
    await say(message_of(update), "I can't use that here. Answer the question above, or /cancel.")
    return None


def _duration(timeout: float | dt.timedelta) -> str:
    seconds = timeout.total_seconds() if isinstance(timeout, dt.timedelta) else timeout
    if seconds >= 60:
        minutes = round(seconds / 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds:g} second{'s' if seconds != 1 else ''}"


async def timed_out(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """No answer for DIALOG_TIMEOUT: "⌛ I closed … — nothing was saved"."""
    dialog = finish(context)
    if dialog is None or update.effective_chat is None:
        return
    await drop_keyboard(context, update.effective_chat.id, dialog)
    await context.bot.send_message(
        update.effective_chat.id,
        f"⌛ No answer for {_duration(DIALOG_TIMEOUT)}, so I closed {dialog.label} — "
        f"{dialog.outcome}. Start again whenever you like.",
        parse_mode=ParseMode.HTML,
    )


def _dialog(admin: filters.BaseFilter) -> ConversationHandler[ContextTypes.DEFAULT_TYPE]:
    text = filters.TEXT & ~filters.COMMAND
    states: dict[object, list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, object]]] = {
        **admin_wizard.states(),
        Wait.EDIT: [
            MessageHandler(text, within(Edit, edit_text)),
            MessageHandler(filters.PHOTO, within(Edit, edit_photo)),
            CommandHandler("skip", within(Edit, edit_clear)),
            CallbackQueryHandler(
                admin_only(within(Edit, edit_category_tap)), pattern=r"^ap:c:\d+:(\d+|none)$"
            ),
        ],
        Wait.STOCK: [
            MessageHandler(text, within(StockUpload, stock_text)),
            MessageHandler(filters.Document.ALL, within(StockUpload, stock_file)),
        ],
        ConversationHandler.TIMEOUT: [TypeHandler(Update, timed_out)],
    }
    with warnings.catch_warnings():
        # Deliberate: the dialog is per admin and chat, and its buttons belong to it whichever
        # message carries them, so per_message=False is right despite PTB's reminder.
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                *admin_wizard.entry_points(admin),
                CommandHandler("stock", stock_command, filters=admin),
                CallbackQueryHandler(admin_only(edit_start), pattern=r"^ap:f:\d+:\d+$"),
                CallbackQueryHandler(admin_only(stock_chosen), pattern=rf"^ap:st:{ID_PATTERN}$"),
            ],
            states=states,
            fallbacks=[
                CommandHandler("cancel", cancel),
                CommandHandler("skip", cannot_skip),
                MessageHandler(~filters.COMMAND, off_script),
            ],
            allow_reentry=True,
            conversation_timeout=DIALOG_TIMEOUT,
            name="admin_products",
        )


def handlers(admin_ids: frozenset[int]) -> list[BaseHandler[Update, Any, Any]]:
    """The admin dialog first (it must see an admin's answers before anything else), then
    /products and the `ap:`/`aw:` buttons outside a dialog."""
    admin = admin_filter(admin_ids)
    return [
        _dialog(admin),
        CommandHandler("products", products_command, filters=admin),
        CallbackQueryHandler(admin_only(on_button), pattern=r"^(ap|aw):"),
    ]
