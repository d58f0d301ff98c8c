"""The new product while /addproduct builds it, and what the wizard shows of it: its prompts,
the kind and Save buttons, the preview's inert buyer buttons and the summary."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass, field
from html import escape

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import callbacks as cb
from bot.admin.dialog import Dialog, current
from bot.admin.fields import MAX_DESCRIPTION, MAX_TITLE
from bot.admin.product_texts import (
    DELIVERY_LABELS,
    ITEMS_HINT,
    KIND_HELP,
    KIND_LABELS,
    countries_line,
    rail_line,
)
from bot.buyer import keyboards
from bot.callbacks import Button, Callback
from bot.context import ShopContext
from bot.shared import tapped
from bot.texts import admin_button_expired, clip
from shop.catalog import rail_prices
from shop.i18n import ENGLISH
from shop.money import Money
from storage import stock
from storage.models import Product, ProductKind, ProductRail


class Step(enum.StrEnum):
    """The wizard's questions, in the order they are asked (some only for some kinds or
    rails: the price by card only when it sells through Stripe, the Stars price only when it
    sells for Stars)."""

    TITLE = "aw_title"
    DESCRIPTION = "aw_description"
    PHOTO = "aw_photo"
    KIND = "aw_kind"
    RAIL = "aw_rail"
    PRICE = "aw_price"
    STARS = "aw_stars"
    DELIVERY = "aw_delivery"
    ITEMS = "aw_items"
    COUNTRIES = "aw_countries"
    CATEGORY = "aw_category"
    CONFIRM = "aw_confirm"


@dataclass
class Draft(Dialog):
    """The product being added. `token` ties the wizard's buttons to this one draft."""

    token: int = 0
    title: str = ""
    description: str = ""
    price: Money | None = None  # by card: asked only when the rail includes Stripe
    stars: int | None = None  # whole Stars: asked only when the rail includes Stars
    rail: ProductRail = ProductRail.STRIPE
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
        prices = rail_prices(self.rail, self.price, self.stars)
        return Product(
            id=0,
            title=self.title,
            description=self.description,
            price_minor=prices.price_minor,
            currency=prices.currency,
            rail=prices.rail,
            stars_price=prices.stars_price,
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


def new_draft() -> Draft:
    return Draft(
        label="the new product (/addproduct)",
        outcome="nothing was saved",
        token=secrets.randbelow(1_000_000),
    )


def draft_of(context: ShopContext) -> Draft:
    """The draft in progress (steps run `within(Draft, …)`, so there is one)."""
    dialog = current(context)
    assert isinstance(dialog, Draft), "wizard step without a draft"
    return dialog


def title_prompt() -> str:
    return (
        "🆕 <b>New product</b>\n\n"
        f"What is it called? Send the <b>title</b> (1–{MAX_TITLE} characters).\n\n"
        "Nothing is saved until you tap Save at the end; /cancel stops at any step."
    )


def description_prompt(draft: Draft) -> str:
    return (
        f"Title: <b>{escape(draft.title)}</b>\n\n"
        f"Now the <b>description</b> buyers read on the card (up to {MAX_DESCRIPTION} "
        "characters), or /skip."
    )


def photo_prompt() -> str:
    return "Send a <b>photo</b> for the card, or /skip."


def kind_prompt() -> str:
    kinds = "\n".join(f"{KIND_LABELS[k]} — {KIND_HELP[k]}" for k in ProductKind)
    return f"What <b>kind</b> of product is it?\n\n{kinds}"


def kind_keyboard(draft: Draft) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    KIND_LABELS[kind], callback_data=cb.WIZARD_KIND.encode(draft.token, kind.value)
                )
            ]
            for kind in ProductKind
        ]
    )


def items_prompt() -> str:
    return f"{ITEMS_HINT}\n\nOr /skip and add them later with /stock."


def items_note(draft: Draft) -> str:
    usable = draft.stock_left() or 0
    left_out = len(draft.items) - usable
    note = f" ({left_out} repeated or over {stock.MAX_ITEM_CHARS} characters)" if left_out else ""
    return f"Got <b>{usable}</b> item{'s' if usable != 1 else ''}{note}.\n\n"


def preview_markup(product: Product, stock_left: int | None, data: str) -> InlineKeyboardMarkup:
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


def summary(draft: Draft) -> str:
    lines = [f"Kind: <b>{KIND_LABELS[draft.kind]}</b>", f"Price: {rail_line(draft.product())}"]
    if draft.kind is ProductKind.DIGITAL_STOCK:
        lines.append(f"Items: <b>{len(draft.items)}</b>")
    if draft.kind is ProductKind.PHYSICAL:
        lines.append(f"Ships to: <b>{countries_line(draft.shipping_countries)}</b>")
    lines.append(f"Category: <b>{escape(draft.category) if draft.category else 'none'}</b>")
    if draft.delivery_text:
        label = DELIVERY_LABELS[draft.kind]
        lines.append(f"{label}: {escape(clip(draft.delivery_text, 300))}")
    return "\n".join(lines)


def confirm_question(draft: Draft) -> tuple[str, InlineKeyboardMarkup]:
    """Save / Cancel; a stock product without items may instead wait hidden for its items."""
    cancel = InlineKeyboardButton("✖️ Cancel", callback_data=cb.WIZARD_DISCARD.encode(draft.token))
    if not draft.waits_for_stock():
        save = InlineKeyboardButton("✅ Save", callback_data=cb.WIZARD_SAVE.encode(draft.token))
        return "Save this product?", InlineKeyboardMarkup([[save, cancel]])
    question = (
        "It has no items yet, so buyers would see it <b>sold out</b>. Keep it hidden until "
        "/stock gives it items (it then appears by itself)?"
    )
    rows = [
        [
            InlineKeyboardButton(
                "✅ Save, hidden until stocked",
                callback_data=cb.WIZARD_SAVE_HIDDEN.encode(draft.token),
            )
        ],
        [
            InlineKeyboardButton(
                "Save and show it now", callback_data=cb.WIZARD_SAVE.encode(draft.token)
            )
        ],
        [cancel],
    ]
    return question, InlineKeyboardMarkup(rows)


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


async def draft_tap(
    update: Update, context: ShopContext, button: Button
) -> tuple[CallbackQuery, Callback, Draft] | None:
    """The tap, its data and the draft it belongs to; None once a button of another (or no)
    draft is answered as expired. Every wizard button's first argument is its draft's token."""
    if (tap := await tapped(update, button)) is None:
        return None
    query, data = tap
    draft = current(context)
    if not isinstance(draft, Draft) or data.id(0) != draft.token:
        await query.answer(admin_button_expired(ENGLISH), show_alert=True)
        return None
    return query, data, draft
