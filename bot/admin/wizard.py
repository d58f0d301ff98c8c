"""/addproduct: a guided dialog that builds a product step by step and saves it only on Save.

Nothing reaches the database until the merchant has seen the product exactly as buyers will
(the buyer's own card rendering) and tapped Save, so a cancelled, abandoned or timed-out dialog
leaves no trace. The field rules (`fields`), the words (`product_texts`) and the dialog
plumbing (`dialog`) are shared with /products' Edit and /stock; how the product is paid (its
rail and that rail's prices, asked after the kind) is bot/admin/wizard_pay.py's; the steps are
wired in bot/admin/routes.py.
"""

from __future__ import annotations

from html import escape

from telegram import CallbackQuery, Update
from telegram.constants import ParseMode
from telegram.ext import ConversationHandler

from bot import callbacks as cb
from bot.admin.dialog import (
    advance,
    ask_again,
    ask_with_buttons,
    begin,
    drop_keyboard,
    finish,
    message_of,
    say,
)
from bot.admin.fields import (
    FieldError,
    clean_category,
    clean_countries,
    clean_delivery,
    clean_description,
    clean_title,
    largest_photo,
    parse_items,
    read_items_file,
)
from bot.admin.product_texts import (
    category_hint,
    category_keyboard,
    countries_hint,
    delivery_prompt,
    kind_label,
)
from bot.admin.wizard_draft import (
    Step,
    confirm_question,
    description_prompt,
    draft_of,
    draft_tap,
    items_note,
    items_prompt,
    kind_keyboard,
    kind_prompt,
    new_draft,
    photo_prompt,
    preview_markup,
    saved_text,
    summary,
    title_prompt,
)
from bot.admin.wizard_pay import ask_rail
from bot.buyer.catalog import product_link, send_card
from bot.callbacks import CATEGORY_BUTTONS, Button
from bot.context import ShopContext
from bot.texts import admin_button_expired
from shop import catalog
from storage import products
from storage.models import ProductKind

END = ConversationHandler.END


__all__ = ["Step"]  # the steps' names, for bot/admin/routes.py


async def start(update: Update, context: ShopContext) -> object:
    """/addproduct: "New product — send the title", starting a fresh draft."""
    note = begin(context, new_draft())
    reply = say(message_of(update), title_prompt(context.lang) + note)
    return advance(context, update, reply, Step.TITLE)


async def got_title(update: Update, context: ShopContext) -> object:
    """The title: echoed back, then "now the description, or /skip"."""
    message, draft, lang = message_of(update), draft_of(context), context.lang
    try:
        draft.title = clean_title(message.text)
    except FieldError as error:
        await ask_again(lang, message, error, lang.t("Send the title again, or /cancel."))
        return None
    reply = say(message, description_prompt(lang, draft))
    return advance(context, update, reply, Step.DESCRIPTION)


async def got_description(update: Update, context: ShopContext) -> object:
    """The description (or /skip): then "send a photo"."""
    message, draft, lang = message_of(update), draft_of(context), context.lang
    try:
        draft.description = clean_description(message.text)
    except FieldError as error:
        await ask_again(lang, message, error, lang.t("Send a shorter description, or /skip."))
        return None
    return advance(context, update, say(message, photo_prompt(lang)), Step.PHOTO)


async def skip_description(update: Update, context: ShopContext) -> object:
    """/skip on the description: no description; then "send a photo"."""
    draft_of(context).description = ""
    reply = say(message_of(update), photo_prompt(context.lang))
    return advance(context, update, reply, Step.PHOTO)


async def got_photo(update: Update, context: ShopContext) -> object:
    """A photo: its largest size becomes the card's picture; then the kind buttons."""
    draft_of(context).photo = largest_photo(message_of(update))
    return _ask_kind(update, context)


async def skip_photo(update: Update, context: ShopContext) -> object:
    """/skip on the photo: a text card; then the kind buttons."""
    draft_of(context).photo = None
    return _ask_kind(update, context)


async def photo_expected(update: Update, context: ShopContext) -> object:
    """Text where a photo was asked for: "send a photo, or /skip"."""
    await say(
        message_of(update), context.lang.t("Please send a <b>photo</b> (not a file), or /skip.")
    )
    return None


def _ask_kind(update: Update, context: ShopContext) -> object:
    draft, lang = draft_of(context), context.lang
    reply = say(message_of(update), kind_prompt(lang), kind_keyboard(lang, draft))
    return advance(context, update, reply, Step.KIND)


async def buttons_expected(update: Update, context: ShopContext) -> object:
    """A message where a button tap was asked for: "tap one of the buttons above"."""
    await say(
        message_of(update), context.lang.t("Please tap one of the buttons above, or /cancel.")
    )
    return None


async def chose_kind(update: Update, context: ShopContext) -> object:
    """A kind button: the choice is shown in place of the buttons, then how it is paid."""
    if (tap := await draft_tap(update, context, cb.WIZARD_KIND)) is None:
        return None
    query, data, draft = tap
    lang = context.lang
    draft.kind = ProductKind(data.word(1))
    await query.answer()
    text = lang.t(
        "{question}\n\nChosen: <b>{choice}</b>",
        question=kind_prompt(lang),
        choice=kind_label(lang, draft.kind),
    )
    chosen = query.edit_message_text(text, parse_mode=ParseMode.HTML)
    return ask_rail(update, context, chosen)


async def got_delivery(update: Update, context: ShopContext) -> object:
    """The delivery text or note; then the items (stock) or the category."""
    message, draft = message_of(update), draft_of(context)
    try:
        draft.delivery_text = clean_delivery(message.text)
    except FieldError as error:
        await ask_again(context.lang, message, error, delivery_prompt(context.lang, draft.kind))
        return None
    return await _after_delivery(update, context)


async def skip_delivery(update: Update, context: ShopContext) -> object:
    """/skip on the note: fine for all kinds but digital text, whose text *is* the goods."""
    message, draft = message_of(update), draft_of(context)
    if draft.kind is ProductKind.DIGITAL_TEXT:
        await say(
            message,
            context.lang.t(
                "A digital text product needs its delivery text: it is what buyers get."
            ),
        )
        return None
    draft.delivery_text = ""
    return await _after_delivery(update, context)


async def _after_delivery(update: Update, context: ShopContext) -> object:
    kind, lang = draft_of(context).kind, context.lang
    if kind is ProductKind.DIGITAL_STOCK:
        return advance(context, update, say(message_of(update), items_prompt(lang)), Step.ITEMS)
    if kind is ProductKind.PHYSICAL:
        hint = countries_hint(lang, context.shop.settings.shipping_countries)
        return advance(context, update, say(message_of(update), hint), Step.COUNTRIES)
    return await _ask_category(update, context, "")


async def got_countries(update: Update, context: ShopContext) -> object:
    """A physical product's own shipping countries; then the category."""
    message, draft, lang = message_of(update), draft_of(context), context.lang
    try:
        draft.shipping_countries = clean_countries(message.text)
    except FieldError as error:
        hint = countries_hint(lang, context.shop.settings.shipping_countries)
        await ask_again(lang, message, error, hint)
        return None
    note = lang.t("Ships to {countries}.", countries=", ".join(draft.shipping_countries))
    return await _ask_category(update, context, note + "\n\n")


async def skip_countries(update: Update, context: ShopContext) -> object:
    """/skip on the countries: the shop's SHIPPING_COUNTRIES; then the category."""
    draft_of(context).shipping_countries = None
    return await _ask_category(update, context, "")


async def got_items(update: Update, context: ShopContext) -> object:
    """Items typed one per line: "Got N items", then the category."""
    message, draft, lang = message_of(update), draft_of(context), context.lang
    try:
        draft.items = parse_items(message.text)
    except FieldError as error:
        await ask_again(lang, message, error, items_prompt(lang))
        return None
    return await _ask_category(update, context, items_note(lang, draft))


async def got_items_file(update: Update, context: ShopContext) -> object:
    """A .txt file of items (anything else is refused kindly): "Got N items", then category."""
    message, draft, lang = message_of(update), draft_of(context), context.lang
    assert message.document is not None
    try:
        draft.items = await read_items_file(message.document)
    except FieldError as error:
        await ask_again(lang, message, error, items_prompt(lang))
        return None
    return await _ask_category(update, context, items_note(lang, draft))


async def skip_items(update: Update, context: ShopContext) -> object:
    """/skip on the items: none yet (buyers see it sold out until /stock adds some)."""
    draft_of(context).items = []
    note = context.lang.t("No items yet: buyers can't buy it until you add some with /stock.")
    return await _ask_category(update, context, note + "\n\n")


async def _ask_category(update: Update, context: ShopContext, note: str) -> object:
    draft, lang = draft_of(context), context.lang
    draft.categories = (await products.categories(context.shop.db.reader))[:CATEGORY_BUTTONS]
    markup = category_keyboard(
        lang, draft.categories, cb.WIZARD_CATEGORY, cb.WIZARD_NO_CATEGORY, draft.token
    )
    reply = ask_with_buttons(message_of(update), draft, note + category_hint(lang), markup)
    return advance(context, update, reply, Step.CATEGORY)


async def chose_category(update: Update, context: ShopContext) -> object:
    """A category button: the preview follows."""
    if (tap := await draft_tap(update, context, cb.WIZARD_CATEGORY)) is None:
        return None
    query, data, draft = tap
    if data.id(1) >= len(draft.categories):
        await query.answer(admin_button_expired(context.lang), show_alert=True)
        return None
    return await _category_chosen(update, context, query, draft.categories[data.id(1)])


async def chose_no_category(update: Update, context: ShopContext) -> object:
    """No category: the preview follows."""
    if (tap := await draft_tap(update, context, cb.WIZARD_NO_CATEGORY)) is None:
        return None
    return await _category_chosen(update, context, tap[0], None)


async def _category_chosen(
    update: Update, context: ShopContext, query: CallbackQuery, category: str | None
) -> object:
    draft = draft_of(context)
    draft.category = category
    await query.answer()
    await drop_keyboard(context, message_of(update).chat_id, draft)
    return _preview(update, context)


async def typed_category(update: Update, context: ShopContext) -> object:
    """A new category's name: the preview follows."""
    message, draft = message_of(update), draft_of(context)
    try:
        draft.category = clean_category(message.text)
    except FieldError as error:
        await ask_again(context.lang, message, error, category_hint(context.lang))
        return None
    await drop_keyboard(context, message.chat_id, draft)
    return _preview(update, context)


def _preview(update: Update, context: ShopContext) -> object:
    """The card exactly as buyers will see it, then a message with Save / Cancel."""
    draft, message, lang = draft_of(context), message_of(update), context.lang
    product, left = draft.product(), draft.stock_left()
    inert = preview_markup(lang, product, left, cb.WIZARD_PREVIEW.encode(draft.token))
    question, confirm = confirm_question(lang, draft)
    text = lang.t(
        "👆 This is how buyers will see it.\n\n{summary}\n\n{question}",
        summary=summary(lang, draft),
        question=question,
    )

    async def show() -> None:
        await send_card(lang, message, product, left, inert)
        await ask_with_buttons(message, draft, text, confirm)

    return advance(context, update, show(), Step.CONFIRM)


async def preview_tapped(update: Update, context: ShopContext) -> object:
    """A buyer button on the preview: "this is a preview" (it works once saved)."""
    assert update.callback_query is not None
    await update.callback_query.answer(
        context.lang.t("This is a preview: buyers' buttons work once it is saved.")
    )
    return None


async def save(update: Update, context: ShopContext) -> object:
    """Save (shown at once): the product (and its items) in one transaction; "Saved as #id"
    with its link."""
    return await _save(update, context, cb.WIZARD_SAVE, hidden=False)


async def save_hidden(update: Update, context: ShopContext) -> object:
    """Save, hidden until stocked: saved the same, shown once /stock gives it items."""
    return await _save(update, context, cb.WIZARD_SAVE_HIDDEN, hidden=True)


async def _save(update: Update, context: ShopContext, button: Button, *, hidden: bool) -> object:
    if (tap := await draft_tap(update, context, button)) is None:
        return None
    query, _, draft = tap
    finish(context)  # before any await: a second tap finds nothing to save
    try:
        saved, added, skipped = await catalog.add_product(
            context.shop.db, draft.product(), draft.items, hidden=hidden
        )
    except Exception:
        begin(context, draft)  # nothing was written: Save can be tapped again
        raise
    await query.answer(context.lang.t("Saved"))
    link = product_link(context.bot.username, saved)
    text = saved_text(context.lang, saved, link, added, skipped)
    return advance(context, update, _replace(query, text), END)


async def _replace(query: CallbackQuery, text: str) -> None:
    """Turn the Save / Cancel message into the outcome, without its buttons."""
    await query.edit_message_text(text, parse_mode=ParseMode.HTML)


async def discard(update: Update, context: ShopContext) -> object:
    """Cancel on the preview: "Discarded — nothing was saved"."""
    if (tap := await draft_tap(update, context, cb.WIZARD_DISCARD)) is None:
        return None
    query, _, draft = tap
    finish(context)
    await query.answer()
    text = context.lang.t(
        "✖️ Discarded <b>{title}</b> — nothing was saved.", title=escape(draft.title)
    )
    return advance(context, update, _replace(query, text), END)
