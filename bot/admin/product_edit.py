"""Admin: a product's Edit — the card's buttons become its fields, and a small dialog takes
the new value with the same rules as /addproduct (`fields`), then shows the updated card.

Buttons are `bot.callbacks`' `ae:` ones; the dialog's steps are wired in bot/admin/routes.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ConversationHandler

from bot import callbacks as cb
from bot.admin import fields as admin_fields
from bot.admin.dialog import (
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
    stay,
)
from bot.admin.edit_fields import FIELDS, edit_prompt, field_label, fields_of
from bot.admin.fields import FieldError
from bot.admin.product_texts import (
    category_keyboard,
    physical_not_stars_alert,
    price_hint,
    rail_keyboard,
    rail_label,
    stars_hint,
)
from bot.admin.products import card, gone, managed, tapped_product
from bot.callbacks import CATEGORY_BUTTONS
from bot.context import ShopContext
from bot.shared import show_page, take_buttons_off, tapped
from bot.texts import admin_button_expired
from shop import catalog
from shop.catalog import money_price, rail_allowed, rail_prices
from shop.context import Shop
from shop.i18n import N_, Lang
from shop.money import Money
from storage import products
from storage.models import Product, ProductKind, ProductRail, Rail

END = ConversationHandler.END
EDITING = "ae_value"  # the dialog's state while it waits for the new value


# What the admin reads once a field is stored, one whole sentence each.
_UPDATED = {
    "title": N_("✅ Title updated."),
    "description": N_("✅ Description updated."),
    "price": N_("✅ Price updated."),
    "photo": N_("✅ Photo updated."),
    "category": N_("✅ Category updated."),
    "countries": N_("✅ Ships to updated."),
    "rail": N_("✅ Payment updated."),
    "stars": N_("✅ Stars price updated."),
}
_DELIVERY_UPDATED = {
    ProductKind.DIGITAL_TEXT: N_("✅ Delivery text updated."),
    ProductKind.DIGITAL_STOCK: N_("✅ Instructions updated."),
    ProductKind.PHYSICAL: N_("✅ Note to the buyer updated."),
    ProductKind.SERVICE: N_("✅ Your note updated."),
}


def _updated(lang: Lang, what: str, kind: ProductKind) -> str:
    if what == "delivery":
        return lang.t(_DELIVERY_UPDATED[kind])
    return lang.t(_UPDATED[what])


@dataclass
class Edit(Dialog):
    """Waiting for a new value of one field of one product."""

    product_id: int = 0
    title: str = ""  # the product's, as the dialog began (escaped when shown)
    what: str = "title"
    categories: list[str] = field(default_factory=list)  # as offered on the buttons
    # A new rail (Payment), waiting for the prices it adds: `asks` are still to be typed.
    rail: ProductRail | None = None
    money: Money | None = None
    stars: int | None = None
    asks: list[str] = field(default_factory=list)

    def cancelled(self, lang: Lang) -> str:
        return lang.t(
            "✖️ Cancelled the edit of <b>{title}</b> — nothing was changed.",
            title=escape(self.title),
        )

    def replaced(self, lang: Lang) -> str:
        return lang.t(
            "(Left the edit of <b>{title}</b> unfinished: nothing was changed.)",
            title=escape(self.title),
        )

    def closed(self, lang: Lang, waited: str) -> str:
        return lang.t(
            "⌛ No answer for {waited}, so I closed the edit of <b>{title}</b> — nothing was "
            "changed. Start again whenever you like.",
            waited=waited,
            title=escape(self.title),
        )


def edit_menu(lang: Lang, product: Product) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            field_label(lang, name, product.kind),
            callback_data=cb.EDIT_FIELD.encode(product.id, index),
        )
        for index, name in fields_of(product)
    ]
    back = InlineKeyboardButton(lang.t("‹ Back"), callback_data=cb.PRODUCT_CARD.encode(product.id))
    rows = [buttons[start : start + 3] for start in range(0, len(buttons), 3)]
    return InlineKeyboardMarkup([*rows, [back]])


async def choose_field(update: Update, context: ShopContext) -> None:
    """Edit: the card's buttons become the fields to choose from."""
    if (tap := await tapped_product(update, context, cb.EDIT_MENU)) is None:
        return
    query, _, product = tap
    lang = context.lang
    await query.answer(lang.t("Choose what to change"))
    text, _ = await card(lang, context.shop, product)
    question = lang.t("✏️ <b>What do you want to change?</b>")
    await show_page(query, f"{text}\n\n{question}", edit_menu(lang, product))


async def edit_start(update: Update, context: ShopContext) -> object:
    """A field button: "Send the new price (now $9.99), or /cancel" — same rules as adding."""
    if (tap := await tapped_product(update, context, cb.EDIT_FIELD)) is None:
        return stay(context)
    query, data, product = tap
    lang = context.lang
    if data.id(1) not in dict(fields_of(product)):
        await query.answer(gone(lang), show_alert=True)
        return stay(context)
    what = FIELDS[data.id(1)]
    edit = Edit(product_id=product.id, title=product.title, what=what)
    markup = None
    if what == "category":
        edit.categories = (await products.categories(context.shop.db.reader))[:CATEGORY_BUTTONS]
        pick, no_category = cb.EDIT_CATEGORY, cb.EDIT_NO_CATEGORY
        markup = category_keyboard(lang, edit.categories, pick, no_category, product.id)
    if what == "rail":
        markup = rail_keyboard(lang, product.kind, cb.EDIT_RAIL, product.id)
    note = begin(context, edit)
    await query.answer()
    menu = message_of(update)
    await take_buttons_off(context, menu.chat_id, menu.message_id)  # the choice is made
    prompt = edit_prompt(lang, product, what, context.shop) + note
    reply = say(menu, prompt) if markup is None else ask_with_buttons(menu, edit, prompt, markup)
    return advance(context, update, reply, EDITING)


def _edit_of(context: ShopContext) -> Edit:
    """The edit in progress (steps run `within(Edit, …)`, so there is one)."""
    dialog = current(context)
    assert isinstance(dialog, Edit), "edit step without an edit"
    return dialog


async def edit_text(update: Update, context: ShopContext) -> object:
    """The new value as text: checked like in /addproduct; an error asks again."""
    message, edit, lang = message_of(update), _edit_of(context), context.lang
    default = context.shop.settings.default_currency
    if edit.asks:
        return await _rail_price(update, context, edit)
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
        elif edit.what == "stars":
            changes = await _new_stars_price(context.shop, edit, message.text)
        elif edit.what == "rail":
            raise FieldError(lambda lang: lang.t("Tap one of the buttons above."))
        else:
            raise FieldError(
                lambda lang: lang.t("Please send a photo, or /skip to remove the current one.")
            )
    except FieldError as error:
        hint = lang.t("Send it again, or /cancel to keep it as it is.")
        await ask_again(lang, message, error, hint)
        return None
    return await _apply(update, context, changes)


async def edit_photo(update: Update, context: ShopContext) -> object:
    """A photo while editing the photo: it replaces the card's picture."""
    if _edit_of(context).what != "photo":
        await say(
            message_of(update), context.lang.t("I need text here, or /cancel to keep it as it is.")
        )
        return None
    return await _apply(update, context, {"photo": admin_fields.largest_photo(message_of(update))})


async def edit_clear(update: Update, context: ShopContext) -> object:
    """/skip while editing: removes an optional field; title, price and a digital text can't go."""
    edit = _edit_of(context)
    product = await managed(context.shop, edit.product_id)
    required = edit.what in ("title", "price", "stars", "rail") or (
        edit.what == "delivery" and product is not None and product.kind is ProductKind.DIGITAL_TEXT
    )
    if required:
        await say(
            message_of(update),
            context.lang.t("This can't be removed. Send a new value, or /cancel."),
        )
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


async def chose_category(update: Update, context: ShopContext) -> object:
    """A category button while editing the category."""
    if (tap := await _category_tap(update, context, cb.EDIT_CATEGORY)) is None:
        return None
    query, data, edit = tap
    if data.id(1) >= len(edit.categories):
        await query.answer(admin_button_expired(context.lang), show_alert=True)
        return None
    await query.answer()
    return await _apply(update, context, {"category": edit.categories[data.id(1)]})


async def chose_no_category(update: Update, context: ShopContext) -> object:
    """No category while editing the category."""
    if (tap := await _category_tap(update, context, cb.EDIT_NO_CATEGORY)) is None:
        return None
    await tap[0].answer()
    return await _apply(update, context, {"category": None})


async def _category_tap(
    update: Update, context: ShopContext, button: cb.Button
) -> tuple[CallbackQuery, cb.Callback, Edit] | None:
    """A category button of the edit in progress; another product's (an older prompt) is
    answered as expired."""
    if (tap := await tapped(update, button)) is None:
        return None
    query, data = tap
    edit = _edit_of(context)
    if data.id(0) != edit.product_id or edit.what != "category":
        await query.answer(admin_button_expired(context.lang), show_alert=True)
        return None
    return query, data, edit


async def _apply(update: Update, context: ShopContext, changes: dict[str, object]) -> object:
    """Store the change and show the updated card: "✅ Price updated"."""
    shop, edit, lang = context.shop, _edit_of(context), context.lang
    finish(context)
    await drop_keyboard(context, message_of(update).chat_id, edit)
    if await managed(shop, edit.product_id) is None:
        text = lang.t("That product no longer exists; nothing was changed.")
        return advance(context, update, say(message_of(update), text), END)
    await catalog.edit_product(shop.db, edit.product_id, **changes)
    product = await managed(shop, edit.product_id)
    assert product is not None
    text, markup = await card(lang, shop, product)
    done = f"{_updated(lang, edit.what, product.kind)}\n\n{text}"
    return advance(context, update, say(message_of(update), done, markup), END)


# --- Payment: the rail, and the prices a new rail adds ------------------------------------------


async def chose_rail(update: Update, context: ShopContext) -> object:
    """A rail button while editing Payment: a physical product's Stars is refused kindly; a rail
    that adds a price asks for it first; otherwise the change is stored at once."""
    if (tap := await tapped(update, cb.EDIT_RAIL)) is None:
        return None
    query, data = tap
    edit = _edit_of(context)
    product = await managed(context.shop, edit.product_id)
    if data.id(0) != edit.product_id or edit.what != "rail" or edit.rail or product is None:
        await query.answer(admin_button_expired(context.lang), show_alert=True)
        return None
    rail = ProductRail(data.word(1))
    if not rail_allowed(product.kind, rail):
        await query.answer(physical_not_stars_alert(context.lang), show_alert=True)
        return None
    await query.answer()
    edit.rail, edit.money, edit.stars = rail, money_price(product), product.stars_price
    edit.asks = [
        name
        for name, paid_by, known in (
            ("price", Rail.STRIPE, edit.money),
            ("stars", Rail.STARS, edit.stars),
        )
        if rail.includes(paid_by) and known is None
    ]
    if not edit.asks:
        return await _apply(update, context, rail_prices(rail, edit.money, edit.stars).columns())
    await drop_keyboard(context, message_of(update).chat_id, edit)
    ask = _price_ask(context.lang, edit, context.shop)
    return advance(context, update, say(message_of(update), ask), EDITING)


def _price_ask(lang: Lang, edit: Edit, shop: Shop) -> str:
    assert edit.rail is not None
    rail = rail_label(lang, edit.rail)
    if edit.asks[0] == "price":
        needs = lang.t("Payment: <b>{rail}</b> needs a price by card.", rail=rail)
        hint = price_hint(lang, shop.settings.default_currency)
    else:
        needs = lang.t("Payment: <b>{rail}</b> needs a price in Stars.", rail=rail)
        hint = stars_hint(lang)
    return f"{needs}\n\n{hint}"


async def _rail_price(update: Update, context: ShopContext, edit: Edit) -> object:
    """A price the new rail adds: checked like in /addproduct; with the last one, the rail and
    its prices are stored together."""
    message = message_of(update)
    try:
        if edit.asks[0] == "price":
            edit.money = admin_fields.clean_price(
                message.text, context.shop.settings.default_currency
            )
        else:
            edit.stars = admin_fields.clean_stars(message.text)
    except FieldError as error:
        hint = context.lang.t("Send it again, or /cancel to keep it as it is.")
        await ask_again(context.lang, message, error, hint)
        return None
    edit.asks.pop(0)
    if edit.asks:
        ask = _price_ask(context.lang, edit, context.shop)
        return advance(context, update, say(message, ask), EDITING)
    assert edit.rail is not None
    return await _apply(update, context, rail_prices(edit.rail, edit.money, edit.stars).columns())


async def _new_stars_price(shop: Shop, edit: Edit, text: str | None) -> dict[str, object]:
    """A new Stars price, stored with the rail's other prices (a Stars-only product shows it
    as its price too: `rail_prices`)."""
    stars = admin_fields.clean_stars(text)
    product = await managed(shop, edit.product_id)
    if product is None:
        return {}
    return rail_prices(product.rail, money_price(product), stars).columns()
