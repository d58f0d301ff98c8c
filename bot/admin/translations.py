"""Admin: a product's own translations — /products → a product → 🌐 Translations.

The overview lists the languages the shop offers besides its default (the originals' language)
with ✓ for each part translated; a language shows the product's title, description and
delivery text (and its category's name) in that language, each with ✏️ to write it and 🗑 to
remove it. ✏️ opens a small dialog (in the product dialog's ConversationHandler, so it never
competes with /addproduct, Edit or /stock for a typed message) that checks the text with the
original field's own rule and stores it, then shows the language's page again as a new message;
/skip there removes the translation too. A page keeps its buttons while the admin types (unlike
Edit's menu): every tap re-reads what is stored, so an older page can do no harm.

Buttons are `bot.callbacks`' `tr:` ones (product id, language code, part); every tap re-reads
the product, re-checks the admin (`admin_only`, bot/admin/routes.py) and re-checks that the
language is still offered. Nothing is ever translated by machine: only what the admin types.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ConversationHandler

from bot import callbacks as cb
from bot.admin import fields as admin_fields
from bot.admin import translation_texts as texts
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
from bot.admin.products import managed, tapped_product
from bot.context import ShopContext
from bot.shared import show_page, turn_page
from bot.texts import admin_button_expired
from shop import translations
from shop.i18n import Lang
from storage.models import Product

END = ConversationHandler.END
TYPING = "tr_text"  # the dialog's state while it waits for the translated text

# Each part is checked with the rule of the field it translates — the very functions
# /addproduct and Edit check the originals with, so a translation fits wherever they do.
_RULES: dict[str, Callable[[str | None], str]] = {
    "t": admin_fields.clean_title,
    "d": admin_fields.clean_description,
    "x": admin_fields.clean_delivery,
    texts.CATEGORY_PART: admin_fields.clean_category,
}


def translations_button(lang: Lang, product_id: int) -> InlineKeyboardButton:
    """The "🌐 Translations" button for a product's menu: it opens the overview in place."""
    return InlineKeyboardButton(
        lang.t("🌐 Translations"), callback_data=cb.TRANSLATIONS.encode(product_id)
    )


@dataclass
class Translating(Dialog):
    """Waiting for the text of one part of one product in one language."""

    product_id: int = 0
    title: str = ""  # the product's, as the dialog began (escaped when shown)
    language: str = ""
    part: str = "t"
    category: str = ""  # part "c": the category being named, as it was when asked

    def cancelled(self, lang: Lang) -> str:
        return lang.t(
            "✖️ Cancelled the translation of <b>{title}</b> — nothing was changed.",
            title=escape(self.title),
        )

    def replaced(self, lang: Lang) -> str:
        return lang.t(
            "(Left the translation of <b>{title}</b> unfinished: nothing was changed.)",
            title=escape(self.title),
        )

    def closed(self, lang: Lang, waited: str) -> str:
        return lang.t(
            "⌛ No answer for {waited}, so I closed the translation of <b>{title}</b> — nothing "
            "was changed. Start again whenever you like.",
            waited=waited,
            title=escape(self.title),
        )


# --- reading a tap --------------------------------------------------------------------------------


def _targets(context: ShopContext) -> list[Lang]:
    """The languages the merchant can translate into (offered, not the default), those the
    buttons can carry (every shipped one, cb.TRANSLATION_CODES)."""
    offered = translations.translatable(context.shop.languages)
    return [lang for lang in offered if lang.code in cb.TRANSLATION_CODES]


def _target(context: ShopContext, code: str) -> Lang | None:
    return next((lang for lang in _targets(context) if lang.code == code), None)


async def _language_tap(
    update: Update, context: ShopContext, button: cb.Button
) -> tuple[CallbackQuery, Product, Lang, str] | None:
    """A tap naming a product, a language and (for ✏️ and 🗑) a part: (query, product,
    language, part or ""). A product gone is answered by `tapped_product`; a language no
    longer offered, or a part the product no longer has (its category was removed), as an
    expired button."""
    if (tap := await tapped_product(update, context, button)) is None:
        return None
    query, data, product = tap
    target = _target(context, data.word(1))
    part = data.word(2) if len(data.args) > 2 else ""
    if target is None or (part and part not in texts.parts_of(product)):
        await query.answer(admin_button_expired(context.lang), show_alert=True)
        return None
    return query, product, target, part


async def _language_page(
    context: ShopContext, product: Product, target: Lang, note: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    found = await translations.translations_of(context.shop.db.reader, product)
    return texts.language_page(context.lang, product, found, target, note)


# --- the buttons ----------------------------------------------------------------------------------


async def open_overview(update: Update, context: ShopContext) -> None:
    """🌐 Translations (or ‹ Languages): the product's languages, in place."""
    if (tap := await tapped_product(update, context, cb.TRANSLATIONS)) is None:
        return
    query, _, product = tap
    shop = context.shop
    found = await translations.translations_of(shop.db.reader, product)
    page = texts.overview(context.lang, product, found, _targets(context), shop.languages.default)
    await turn_page(query, page)


async def open_language(update: Update, context: ShopContext) -> None:
    """A language of the overview: the product's texts in it, in place."""
    if (tap := await _language_tap(update, context, cb.TRANSLATION_LANGUAGE)) is None:
        return
    query, product, target, _ = tap
    await turn_page(query, await _language_page(context, product, target))


async def remove(update: Update, context: ShopContext) -> None:
    """🗑 Remove: the part's translation goes (buyers see the original); the page is redrawn."""
    if (tap := await _language_tap(update, context, cb.TRANSLATION_REMOVE)) is None:
        return
    query, product, target, part = tap
    removed = await _remove(context, product.id, target.code, part, product.category or "")
    lang = context.lang
    await query.answer(
        lang.t("Removed: buyers see the original.")
        if removed
        else lang.t("There was nothing to remove.")
    )
    await show_page(query, *await _language_page(context, product, target))


async def _remove(
    context: ShopContext, product_id: int, language: str, part: str, category: str
) -> bool:
    db = context.shop.db
    if part == texts.CATEGORY_PART:
        return await translations.remove_category_name(db, category, language)
    return await translations.remove_text(db, product_id, language, texts.TEXT_PARTS[part])


# --- the dialog: ✏️ → the text --------------------------------------------------------------------


async def ask_text(update: Update, context: ShopContext) -> object:
    """✏️ a part: its original and its text now, and what to send (the original's limits)."""
    if (tap := await _language_tap(update, context, cb.TRANSLATION_EDIT)) is None:
        return stay(context)
    query, product, target, part = tap
    lang = context.lang
    found = await translations.translations_of(context.shop.db.reader, product)
    dialog = Translating(
        product_id=product.id,
        title=product.title,
        language=target.code,
        part=part,
        category=product.category or "",
    )
    note = begin(context, dialog)
    await query.answer()
    now = texts.translated(found, part, target.code)
    text = texts.prompt(lang, product, part, target, now, dialog.category) + note
    return advance(context, update, say(message_of(update), text), TYPING)


def _dialog(context: ShopContext) -> Translating:
    """The translation in progress (its steps run `within(Translating, …)`, so there is one)."""
    dialog = current(context)
    assert isinstance(dialog, Translating), "translation step without a translation"
    return dialog


async def got_text(update: Update, context: ShopContext) -> object:
    """The text: checked like the original field; an error asks again, else it is stored and
    the language's page shows it."""
    message, dialog, lang = message_of(update), _dialog(context), context.lang
    try:
        value = _RULES[dialog.part](message.text)
    except FieldError as error:
        hint = lang.t("Send it again, or /cancel to leave it as it is.")
        await ask_again(lang, message, error, hint)
        return None
    if not value:  # a description may be empty; its translation is removed with /skip instead
        await say(message, lang.t("Send the text, or /cancel to leave it as it is."))
        return None
    finish(context)
    shop = context.shop
    product = await managed(shop, dialog.product_id)
    target = _target(context, dialog.language)
    if product is not None and target is not None:
        if dialog.part == texts.CATEGORY_PART:
            await translations.set_category_name(shop.db, dialog.category, target.code, value)
        elif not await translations.set_text(
            shop.db, product.id, target.code, texts.TEXT_PARTS[dialog.part], value
        ):
            product = None  # deleted or archived meanwhile
    if product is None or target is None:
        return _gone(context, update)
    label = texts.part_label(lang, dialog.part, product.kind)
    note = lang.t("✅ Saved: {part} in {language}.", part=label, language=target.name)
    page = await _language_page(context, product, target, note)
    return advance(context, update, say(message, *page), END)


async def skip_text(update: Update, context: ShopContext) -> object:
    """/skip while writing: the translation is removed (buyers see the original)."""
    message, dialog, lang = message_of(update), _dialog(context), context.lang
    finish(context)
    product = await managed(context.shop, dialog.product_id)
    target = _target(context, dialog.language)
    if product is None or target is None:
        return _gone(context, update)
    removed = await _remove(context, product.id, target.code, dialog.part, dialog.category)
    label = texts.part_label(lang, dialog.part, product.kind)
    note = (
        lang.t(
            "🗑 Removed: {part} in {language}. Buyers see the original.",
            part=label,
            language=target.name,
        )
        if removed
        else lang.t("There was no translation to remove; nothing was changed.")
    )
    page = await _language_page(context, product, target, note)
    return advance(context, update, say(message, *page), END)


def _gone(context: ShopContext, update: Update) -> object:
    """The product was deleted or archived while the admin was typing (the offered languages
    are read once at start, so the language itself cannot have gone)."""
    text = context.lang.t("That product no longer exists; nothing was changed.")
    return advance(context, update, say(message_of(update), text), END)
