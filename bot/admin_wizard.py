"""/addproduct: a guided dialog that builds a product step by step and saves it only on Save.

Nothing reaches the database until the merchant has seen the product exactly as buyers will
(the buyer's own card rendering) and tapped Save, so a cancelled, abandoned or timed-out dialog
leaves no trace. The field rules (`admin_fields`) and the dialog plumbing (`admin_dialog`) are
shared with /products' Edit and /stock.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass, field
from html import escape
from typing import Any

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import keyboards, texts
from bot.admin_auth import Handler, admin_only
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
    within,
)
from bot.admin_fields import (
    CATEGORY_BUTTONS,
    MAX_CATEGORY,
    MAX_DESCRIPTION,
    MAX_ITEM_LINES,
    MAX_TITLE,
    FieldError,
    clean_category,
    clean_countries,
    clean_delivery,
    clean_description,
    clean_price,
    clean_title,
    largest_photo,
    parse_items,
    read_items_file,
)
from bot.context import shop_of
from bot.handlers import product_link, reply_card
from shop import catalog
from shop.money import Money, format_money
from storage import products, stock
from storage.models import Product, ProductKind

END = ConversationHandler.END

# --- the draft ----------------------------------------------------------------------------------


class Step(enum.StrEnum):
    TITLE = "aw_title"
    DESCRIPTION = "aw_description"
    PRICE = "aw_price"
    PHOTO = "aw_photo"
    KIND = "aw_kind"
    DELIVERY = "aw_delivery"
    ITEMS = "aw_items"
    COUNTRIES = "aw_countries"
    CATEGORY = "aw_category"
    CONFIRM = "aw_confirm"


KIND_LABELS = {
    ProductKind.DIGITAL_TEXT: "📄 Digital text",
    ProductKind.DIGITAL_STOCK: "🔑 Digital stock",
    ProductKind.PHYSICAL: "📦 Physical",
    ProductKind.SERVICE: "🛎 Service",
}
KIND_HELP = {
    ProductKind.DIGITAL_TEXT: "the same text for every buyer (a download link, instructions)",
    ProductKind.DIGITAL_STOCK: "one unique item per unit from a pool you fill (keys, codes)",
    ProductKind.PHYSICAL: "shipped by you: checkout asks for the delivery address",
    ProductKind.SERVICE: "the buyer gets a confirmation and your note",
}
DELIVERY_LABELS = {
    ProductKind.DIGITAL_TEXT: "Delivery text",
    ProductKind.DIGITAL_STOCK: "Instructions",
    ProductKind.PHYSICAL: "Note to the buyer",
    ProductKind.SERVICE: "Your note",
}
PAYMENT_POLICY = (
    "⚖️ Telegram requires digital goods and services sold in bots to be paid in Telegram Stars; "
    "card payments via Stripe suit physical goods — make sure your product is allowed."
)


@dataclass
class Draft(Dialog):
    """The product being added. `token` ties the wizard's buttons to this one draft."""

    token: int = 0
    title: str = ""
    description: str = ""
    price: Money | None = None
    photo: str | None = None
    kind: ProductKind = ProductKind.DIGITAL_TEXT
    delivery_text: str = ""
    items: list[str] = field(default_factory=list)
    category: str | None = None
    categories: list[str] = field(default_factory=list)  # as offered on the buttons
    shipping_countries: tuple[str, ...] | None = None  # physical: None is the shop's list

    def stock_left(self) -> int | None:
        """What the buyer's card will count for a stock product (storage drops repeats and
        over-long items); None for the other kinds, whose cards show no count."""
        if self.kind is not ProductKind.DIGITAL_STOCK:
            return None
        return len({item for item in self.items if stock.fits(item)})

    def product(self) -> Product:
        """The draft as the catalog would hold it (id 0: not saved yet)."""
        assert self.price is not None
        return Product(
            id=0,
            title=self.title,
            description=self.description,
            price_minor=self.price.amount,
            currency=self.price.currency,
            photo=self.photo,
            delivery_text=self.delivery_text,
            active=True,
            position=0,
            kind=self.kind,
            category=self.category,
            shipping_countries=self.shipping_countries,
        )

    def waits_for_stock(self) -> bool:
        """A stock product about to be saved without any item: buyers would see "Sold out"."""
        return self.kind is ProductKind.DIGITAL_STOCK and not self.stock_left()


def _new_draft() -> Draft:
    return Draft(
        label="the new product (/addproduct)",
        outcome="nothing was saved",
        token=secrets.randbelow(1_000_000),
    )


def _draft(context: ContextTypes.DEFAULT_TYPE) -> Draft:
    """The draft in progress (steps run `within(Draft, …)`, so there is one)."""
    dialog = current(context)
    assert isinstance(dialog, Draft), "wizard step without a draft"
    return dialog


def _data(draft: Draft, action: str) -> str:
    """Wizard callback data: aw:<draft token>:<action> — a few ASCII bytes, never merchant text."""
    return f"aw:{draft.token}:{action}"


# --- prompts --------------------------------------------------------------------------------------


def _title_prompt() -> str:
    return (
        "🆕 <b>New product</b>\n\n"
        f"What is it called? Send the <b>title</b> (1–{MAX_TITLE} characters).\n\n"
        "Nothing is saved until you tap Save at the end; /cancel stops at any step."
    )


def _description_prompt(draft: Draft) -> str:
    return (
        f"Title: <b>{escape(draft.title)}</b>\n\n"
        f"Now the <b>description</b> buyers read on the card (up to {MAX_DESCRIPTION} "
        "characters), or /skip."
    )


def price_hint(default_currency: str) -> str:
    return (
        "Send the <b>price</b>, e.g. <code>9.99</code>, <code>9.99 eur</code> or "
        f"<code>1000 jpy</code>. Without a currency it is {escape(default_currency.upper())}."
    )


def _photo_prompt(draft: Draft) -> str:
    assert draft.price is not None
    price = format_money(draft.price.amount, draft.price.currency)
    return f"Price: <b>{escape(price)}</b>\n\nSend a <b>photo</b> for the card, or /skip."


def _kind_prompt() -> str:
    kinds = "\n".join(f"{KIND_LABELS[k]} — {KIND_HELP[k]}" for k in ProductKind)
    return f"What <b>kind</b> of product is it?\n\n{kinds}\n\n{PAYMENT_POLICY}"


def _kind_keyboard(draft: Draft) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(KIND_LABELS[kind], callback_data=_data(draft, f"k:{kind}"))]
            for kind in ProductKind
        ]
    )


def delivery_prompt(kind: ProductKind) -> str:
    limit = texts.MAX_DELIVERY_TEXT
    if kind is ProductKind.DIGITAL_TEXT:
        return (
            "Send the <b>delivery text</b> every buyer receives after paying — a download link, "
            f"a code, instructions (up to {limit} characters)."
        )
    if kind is ProductKind.DIGITAL_STOCK:
        return (
            "Send <b>instructions</b> sent along with each item (how to redeem it; up to "
            f"{limit} characters), or /skip."
        )
    if kind is ProductKind.PHYSICAL:
        return (
            "Send a <b>note to the buyer</b> shown after paying (e.g. shipping times; up to "
            f"{limit} characters), or /skip."
        )
    return (
        "Send <b>your note</b> to the buyer shown after paying (e.g. how to book; up to "
        f"{limit} characters), or /skip."
    )


ITEMS_HINT = (
    "Send the <b>items</b>, one per line (or upload a .txt file, one item per line, up to 1 MB "
    f"and {MAX_ITEM_LINES:,} lines)."
)


def _items_prompt() -> str:
    return f"{ITEMS_HINT}\n\nOr /skip and add them later with /stock."


def countries_hint(shop_countries: tuple[str, ...]) -> str:
    return (
        "Which <b>countries</b> do you ship it to? Send two-letter codes, e.g. "
        f"<code>US, CA, DE</code>, or /skip for the shop's list ({', '.join(shop_countries)})."
    )


def countries_line(countries: tuple[str, ...] | None) -> str:
    return ", ".join(countries) if countries else "the shop's list (SHIPPING_COUNTRIES)"


def category_keyboard(names: list[str], data: str) -> InlineKeyboardMarkup:
    """Existing categories (by index: names may be long) and "No category"; `data` is the
    callback prefix, completed with ":<index>" or ":none"."""
    rows = [
        [InlineKeyboardButton(texts.clip(name, 40), callback_data=f"{data}:{index}")]
        for index, name in enumerate(names[:CATEGORY_BUTTONS])
    ]
    rows.append([InlineKeyboardButton("No category", callback_data=f"{data}:none")])
    return InlineKeyboardMarkup(rows)


CATEGORY_HINT = (
    f"Tap a <b>category</b>, choose No category, or send a new name (up to {MAX_CATEGORY} "
    "characters)."
)


def _preview_markup(product: Product, stock_left: int | None, data: str) -> InlineKeyboardMarkup:
    """The buyer's buttons, looking the same but answering "this is a preview" when tapped."""
    markup = keyboards.product_card(product, 1, stock_left=stock_left)
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(button.text, callback_data=data)
                if button.callback_data is not None
                else button
                for button in row
            ]
            for row in markup.inline_keyboard
        ]
    )


def _summary(draft: Draft) -> str:
    lines = [f"Kind: <b>{KIND_LABELS[draft.kind]}</b>"]
    if draft.kind is ProductKind.DIGITAL_STOCK:
        lines.append(f"Items: <b>{len(draft.items)}</b>")
    if draft.kind is ProductKind.PHYSICAL:
        lines.append(f"Ships to: <b>{countries_line(draft.shipping_countries)}</b>")
    lines.append(f"Category: <b>{escape(draft.category) if draft.category else 'none'}</b>")
    if draft.delivery_text:
        label = DELIVERY_LABELS[draft.kind]
        lines.append(f"{label}: {escape(texts.clip(draft.delivery_text, 300))}")
    return "\n".join(lines)


# --- the steps ------------------------------------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """/addproduct: "New product — send the title", starting a fresh draft."""
    note = begin(context, _new_draft())
    return advance(context, update, say(message_of(update), _title_prompt() + note), Step.TITLE)


async def got_title(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """The title: echoed back, then "now the description, or /skip"."""
    message, draft = message_of(update), _draft(context)
    try:
        draft.title = clean_title(message.text)
    except FieldError as error:
        await ask_again(message, error, "Send the title again, or /cancel.")
        return None
    return advance(context, update, say(message, _description_prompt(draft)), Step.DESCRIPTION)


async def got_description(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """The description (or /skip): then "send the price"."""
    message, draft = message_of(update), _draft(context)
    try:
        draft.description = clean_description(message.text)
    except FieldError as error:
        await ask_again(message, error, "Send a shorter description, or /skip.")
        return None
    return _ask_price(update, context)


async def skip_description(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """/skip on the description: no description; then "send the price"."""
    _draft(context).description = ""
    return _ask_price(update, context)


def _ask_price(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    hint = price_hint(shop_of(context).settings.default_currency)
    return advance(context, update, say(message_of(update), hint), Step.PRICE)


async def got_price(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """The price: a friendly error and the question again, or "send a photo, or /skip"."""
    message, draft = message_of(update), _draft(context)
    default = shop_of(context).settings.default_currency
    try:
        draft.price = clean_price(message.text, default)
    except FieldError as error:
        await ask_again(message, error, price_hint(default))
        return None
    return advance(context, update, say(message, _photo_prompt(draft)), Step.PHOTO)


async def got_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """A photo: its largest size becomes the card's picture; then the kind buttons."""
    _draft(context).photo = largest_photo(message_of(update))
    return _ask_kind(update, context)


async def skip_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """/skip on the photo: a text card; then the kind buttons."""
    _draft(context).photo = None
    return _ask_kind(update, context)


async def photo_expected(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """Text where a photo was asked for: "send a photo, or /skip"."""
    await say(message_of(update), "Please send a <b>photo</b> (not a file), or /skip.")
    return None


def _ask_kind(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    draft = _draft(context)
    reply = say(message_of(update), _kind_prompt(), _kind_keyboard(draft))
    return advance(context, update, reply, Step.KIND)


async def buttons_expected(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """A message where a button tap was asked for: "tap one of the buttons above"."""
    await say(message_of(update), "Please tap one of the buttons above, or /cancel.")
    return None


async def chose_kind(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """A kind button: the choice is shown in place of the buttons, then its next question."""
    query, draft = update.callback_query, _draft(context)
    assert query is not None and query.data is not None
    token, _, kind = query.data.removeprefix("aw:").split(":")
    if int(token) != draft.token:
        await query.answer(texts.admin_button_expired(), show_alert=True)
        return None
    draft.kind = ProductKind(kind)
    await query.answer()
    message = message_of(update)

    async def show() -> None:
        await query.edit_message_text(
            f"{_kind_prompt()}\n\nChosen: <b>{KIND_LABELS[draft.kind]}</b>",
            parse_mode=ParseMode.HTML,
        )
        await say(message, delivery_prompt(draft.kind))

    return advance(context, update, show(), Step.DELIVERY)


async def got_delivery(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """The delivery text or note; then the items (stock) or the category."""
    message, draft = message_of(update), _draft(context)
    try:
        draft.delivery_text = clean_delivery(message.text)
    except FieldError as error:
        await ask_again(message, error, delivery_prompt(draft.kind))
        return None
    return await _after_delivery(update, context)


async def skip_delivery(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """/skip on the note: fine for all kinds but digital text, whose text *is* the goods."""
    message, draft = message_of(update), _draft(context)
    if draft.kind is ProductKind.DIGITAL_TEXT:
        await say(message, "A digital text product needs its delivery text: it is what buyers get.")
        return None
    draft.delivery_text = ""
    return await _after_delivery(update, context)


async def _after_delivery(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    kind = _draft(context).kind
    if kind is ProductKind.DIGITAL_STOCK:
        return advance(context, update, say(message_of(update), _items_prompt()), Step.ITEMS)
    if kind is ProductKind.PHYSICAL:
        hint = countries_hint(shop_of(context).settings.shipping_countries)
        return advance(context, update, say(message_of(update), hint), Step.COUNTRIES)
    return await _ask_category(update, context, "")


async def got_countries(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """A physical product's own shipping countries; then the category."""
    message, draft = message_of(update), _draft(context)
    try:
        draft.shipping_countries = clean_countries(message.text)
    except FieldError as error:
        await ask_again(
            message, error, countries_hint(shop_of(context).settings.shipping_countries)
        )
        return None
    return await _ask_category(
        update, context, f"Ships to {', '.join(draft.shipping_countries)}.\n\n"
    )


async def skip_countries(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """/skip on the countries: the shop's SHIPPING_COUNTRIES; then the category."""
    _draft(context).shipping_countries = None
    return await _ask_category(update, context, "")


async def got_items(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """Items typed one per line: "Got N items", then the category."""
    message, draft = message_of(update), _draft(context)
    try:
        draft.items = parse_items(message.text)
    except FieldError as error:
        await ask_again(message, error, _items_prompt())
        return None
    return await _ask_category(update, context, _items_note(draft))


async def got_items_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """A .txt file of items (anything else is refused kindly): "Got N items", then category."""
    message, draft = message_of(update), _draft(context)
    assert message.document is not None
    try:
        draft.items = await read_items_file(message.document)
    except FieldError as error:
        await ask_again(message, error, _items_prompt())
        return None
    return await _ask_category(update, context, _items_note(draft))


async def skip_items(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """/skip on the items: none yet (buyers see it sold out until /stock adds some)."""
    _draft(context).items = []
    note = "No items yet: buyers can't buy it until you add some with /stock.\n\n"
    return await _ask_category(update, context, note)


def _items_note(draft: Draft) -> str:
    usable = draft.stock_left() or 0
    left_out = len(draft.items) - usable
    note = f" ({left_out} repeated or over {stock.MAX_ITEM_CHARS} characters)" if left_out else ""
    return f"Got <b>{usable}</b> item{'s' if usable != 1 else ''}{note}.\n\n"


async def _ask_category(update: Update, context: ContextTypes.DEFAULT_TYPE, note: str) -> object:
    draft = _draft(context)
    draft.categories = (await products.categories(shop_of(context).db.reader))[:CATEGORY_BUTTONS]
    markup = category_keyboard(draft.categories, _data(draft, "c"))
    reply = ask_with_buttons(message_of(update), draft, note + CATEGORY_HINT, markup)
    return advance(context, update, reply, Step.CATEGORY)


async def chose_category(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """A category button (or No category): the preview follows."""
    query, draft = update.callback_query, _draft(context)
    assert query is not None and query.data is not None
    token, _, choice = query.data.removeprefix("aw:").split(":")
    if int(token) != draft.token or not (choice == "none" or int(choice) < len(draft.categories)):
        await query.answer(texts.admin_button_expired(), show_alert=True)
        return None
    draft.category = None if choice == "none" else draft.categories[int(choice)]
    await query.answer()
    await drop_keyboard(context, message_of(update).chat_id, draft)
    return _preview(update, context)


async def typed_category(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """A new category's name: the preview follows."""
    message, draft = message_of(update), _draft(context)
    try:
        draft.category = clean_category(message.text)
    except FieldError as error:
        await ask_again(message, error, CATEGORY_HINT)
        return None
    await drop_keyboard(context, message.chat_id, draft)
    return _preview(update, context)


def _preview(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """The card exactly as buyers will see it, then a message with Save / Cancel."""
    draft, message = _draft(context), message_of(update)
    product, left = draft.product(), draft.stock_left()
    inert = _preview_markup(product, left, _data(draft, "pv"))
    question, confirm = _confirm_question(draft)

    async def show() -> None:
        await reply_card(message, product, left, inert)
        text = f"👆 This is how buyers will see it.\n\n{_summary(draft)}\n\n{question}"
        await ask_with_buttons(message, draft, text, confirm)

    return advance(context, update, show(), Step.CONFIRM)


def _confirm_question(draft: Draft) -> tuple[str, InlineKeyboardMarkup]:
    """Save / Cancel; a stock product without items may instead wait hidden for its items."""
    cancel = InlineKeyboardButton("✖️ Cancel", callback_data=_data(draft, "cancel"))
    if not draft.waits_for_stock():
        save = InlineKeyboardButton("✅ Save", callback_data=_data(draft, "save"))
        return "Save this product?", InlineKeyboardMarkup([[save, cancel]])
    question = (
        "It has no items yet, so buyers would see it <b>sold out</b>. Keep it hidden until "
        "/stock gives it items (it then appears by itself)?"
    )
    rows = [
        [
            InlineKeyboardButton(
                "✅ Save, hidden until stocked", callback_data=_data(draft, "saveh")
            )
        ],
        [InlineKeyboardButton("Save and show it now", callback_data=_data(draft, "save"))],
        [cancel],
    ]
    return question, InlineKeyboardMarkup(rows)


async def preview_tapped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """A buyer button on the preview: "this is a preview" (it works once saved)."""
    assert update.callback_query is not None
    await update.callback_query.answer("This is a preview: buyers' buttons work once it is saved.")
    return None


async def save(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """Save: the product (and its items) in one transaction; "Saved as #id" with its link."""
    query = update.callback_query
    assert query is not None and query.data is not None
    draft = current(context)
    if not isinstance(draft, Draft) or query.data not in (
        _data(draft, "save"),
        _data(draft, "saveh"),
    ):
        await query.answer(texts.admin_button_expired(), show_alert=True)
        return None
    finish(context)  # before any await: a second tap finds nothing to save
    hidden = query.data == _data(draft, "saveh")
    try:
        saved, added, skipped = await catalog.add_product(
            shop_of(context).db, draft.product(), draft.items, hidden=hidden
        )
    except Exception:
        begin(context, draft)  # nothing was written: Save can be tapped again
        raise
    await query.answer("Saved")
    text = saved_text(saved, product_link(context.bot.username, saved), added, skipped)
    return advance(context, update, _replace(query, text), END)


def saved_text(product: Product, link: str, added: int, skipped: int) -> str:
    """The confirmation: the id, the deep link to share, and for stock what went in."""
    lines = [
        f"✅ Saved <b>{escape(product.title)}</b> as product <b>#{product.id}</b>.",
        f"Buyers open it with {escape(link)}",
    ]
    if product.kind is ProductKind.DIGITAL_STOCK:
        skipped_note = f" ({skipped} skipped)" if skipped else ""
        lines.append(f"Items in stock: <b>{added}</b>{skipped_note}. Add more: /stock {product.id}")
    if product.show_when_stocked:
        lines.append(f"🙈 Hidden until it has items: /stock {product.id} adds them and shows it.")
    lines.append("Manage it in /products.")
    return "\n".join(lines)


async def _replace(query: CallbackQuery, text: str) -> None:
    """Turn the Save / Cancel message into the outcome, without its buttons."""
    await query.edit_message_text(text, parse_mode=ParseMode.HTML)


async def discard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """Cancel on the preview: "Discarded — nothing was saved"."""
    query = update.callback_query
    assert query is not None and query.data is not None
    draft = current(context)
    if not isinstance(draft, Draft) or query.data != _data(draft, "cancel"):
        await query.answer(texts.admin_button_expired(), show_alert=True)
        return None
    finish(context)
    await query.answer()
    text = f"✖️ Discarded <b>{escape(draft.title)}</b> — nothing was saved."
    return advance(context, update, _replace(query, text), END)


# --- wiring -----------------------------------------------------------------------------------

TEXT = filters.TEXT & ~filters.COMMAND


def entry_points(admin: filters.BaseFilter) -> list[BaseHandler[Update, Any, object]]:
    """/addproduct, for admins only: anyone else falls through to the buyer's answer."""
    return [CommandHandler("addproduct", start, filters=admin)]


def states() -> dict[object, list[BaseHandler[Update, Any, object]]]:
    """The wizard's steps for the admin dialog's ConversationHandler."""

    def on_message(kind: filters.BaseFilter, step: Handler) -> MessageHandler[Any, object]:
        return MessageHandler(kind, within(Draft, step))

    def on_skip(step: Handler) -> CommandHandler[Any, object]:
        return CommandHandler("skip", within(Draft, step))

    def on_tap(action: str, step: Handler) -> CallbackQueryHandler[Any, object]:
        return CallbackQueryHandler(admin_only(within(Draft, step)), pattern=rf"^aw:\d+:{action}$")

    return {
        Step.TITLE: [on_message(TEXT, got_title)],
        Step.DESCRIPTION: [on_message(TEXT, got_description), on_skip(skip_description)],
        Step.PRICE: [on_message(TEXT, got_price)],
        Step.PHOTO: [
            on_message(filters.PHOTO, got_photo),
            on_skip(skip_photo),
            on_message(~filters.COMMAND, photo_expected),
        ],
        Step.KIND: [
            on_tap(r"k:[a-z_]+", chose_kind),
            on_message(~filters.COMMAND, buttons_expected),
        ],
        Step.DELIVERY: [on_message(TEXT, got_delivery), on_skip(skip_delivery)],
        Step.ITEMS: [
            on_message(TEXT, got_items),
            on_message(filters.Document.ALL, got_items_file),
            on_skip(skip_items),
        ],
        Step.COUNTRIES: [on_message(TEXT, got_countries), on_skip(skip_countries)],
        Step.CATEGORY: [
            on_tap(r"c:(\d+|none)", chose_category),
            on_message(TEXT, typed_category),
        ],
        Step.CONFIRM: [
            on_tap("saveh?", save),
            on_tap("cancel", discard),
            on_tap("pv", preview_tapped),
            on_message(~filters.COMMAND, buttons_expected),
        ],
    }
