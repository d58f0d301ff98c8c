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
    countries_line,
    delivery_label,
    items_hint,
    kind_label,
    kinds_explained,
    rail_line,
)
from bot.buyer import keyboards
from bot.callbacks import Button, Callback
from bot.context import ShopContext
from bot.shared import tapped
from bot.texts import admin_button_expired, clip
from shop.catalog import rail_prices
from shop.i18n import Lang
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

    def cancelled(self, lang: Lang) -> str:
        return lang.t("✖️ Cancelled the new product (/addproduct) — nothing was saved.")

    def replaced(self, lang: Lang) -> str:
        return lang.t("(Left the new product (/addproduct) unfinished: nothing was saved.)")

    def closed(self, lang: Lang, waited: str) -> str:
        return lang.t(
            "⌛ No answer for {waited}, so I closed the new product (/addproduct) — nothing was "
            "saved. Start again whenever you like.",
            waited=waited,
        )


def new_draft() -> Draft:
    return Draft(token=secrets.randbelow(1_000_000))


def draft_of(context: ShopContext) -> Draft:
    """The draft in progress (steps run `within(Draft, …)`, so there is one)."""
    dialog = current(context)
    assert isinstance(dialog, Draft), "wizard step without a draft"
    return dialog


def title_prompt(lang: Lang) -> str:
    return lang.t(
        "🆕 <b>New product</b>\n\n"
        "What is it called? Send the <b>title</b> (1–{most} characters).\n\n"
        "Nothing is saved until you tap Save at the end; /cancel stops at any step.",
        most=MAX_TITLE,
    )


def description_prompt(lang: Lang, draft: Draft) -> str:
    return lang.t(
        "Title: <b>{title}</b>\n\n"
        "Now the <b>description</b> buyers read on the card (up to {most} characters), or /skip.",
        title=escape(draft.title),
        most=MAX_DESCRIPTION,
    )


def photo_prompt(lang: Lang) -> str:
    return lang.t("Send a <b>photo</b> for the card, or /skip.")


def kind_prompt(lang: Lang) -> str:
    return lang.t("What <b>kind</b> of product is it?\n\n{kinds}", kinds=kinds_explained(lang))


def kind_keyboard(lang: Lang, draft: Draft) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    kind_label(lang, kind),
                    callback_data=cb.WIZARD_KIND.encode(draft.token, kind.value),
                )
            ]
            for kind in ProductKind
        ]
    )


def items_prompt(lang: Lang) -> str:
    return lang.t("{hint}\n\nOr /skip and add them later with /stock.", hint=items_hint(lang))


def items_note(lang: Lang, draft: Draft) -> str:
    """ "Got N items" (and how many were left out), before the next question."""
    usable = draft.stock_left() or 0
    left_out = len(draft.items) - usable
    if not left_out:
        note = lang.nt("Got <b>{n}</b> item.", "Got <b>{n}</b> items.", usable)
    else:
        note = lang.nt(
            "Got <b>{n}</b> item ({left_out} repeated or over {most} characters).",
            "Got <b>{n}</b> items ({left_out} repeated or over {most} characters).",
            usable,
            left_out=lang.number(left_out),
            most=stock.MAX_ITEM_CHARS,
        )
    return note + "\n\n"


def preview_markup(
    lang: Lang, product: Product, stock_left: int | None, data: str
) -> InlineKeyboardMarkup:
    """The buyer's buttons, looking the same but answering "this is a preview" when tapped
    (in the admin's language: the preview shows what a buyer who reads it sees)."""
    markup = keyboards.card_buttons(lang, product, 1, stock_left=stock_left)
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


def summary(lang: Lang, draft: Draft) -> str:
    lines = [
        lang.t("Kind: <b>{kind}</b>", kind=kind_label(lang, draft.kind)),
        lang.t("Price: {price}", price=rail_line(lang, draft.product())),
    ]
    if draft.kind is ProductKind.DIGITAL_STOCK:
        lines.append(lang.t("Items: <b>{count}</b>", count=lang.number(len(draft.items))))
    if draft.kind is ProductKind.PHYSICAL:
        countries = countries_line(lang, draft.shipping_countries)
        lines.append(lang.t("Ships to: <b>{countries}</b>", countries=countries))
    if draft.category:
        lines.append(lang.t("Category: <b>{category}</b>", category=escape(draft.category)))
    else:
        lines.append(lang.t("Category: <b>none</b>"))
    if draft.delivery_text:
        lines.append(
            lang.t(
                "{label}: {text}",
                label=delivery_label(lang, draft.kind),
                text=escape(clip(draft.delivery_text, 300)),
            )
        )
    return "\n".join(lines)


def confirm_question(lang: Lang, draft: Draft) -> tuple[str, InlineKeyboardMarkup]:
    """Save / Cancel; a stock product without items may instead wait hidden for its items."""
    token = draft.token
    cancel = InlineKeyboardButton(lang.t("✖️ Cancel"), callback_data=cb.WIZARD_DISCARD.encode(token))
    if not draft.waits_for_stock():
        save = InlineKeyboardButton(lang.t("✅ Save"), callback_data=cb.WIZARD_SAVE.encode(token))
        return lang.t("Save this product?"), InlineKeyboardMarkup([[save, cancel]])
    question = lang.t(
        "It has no items yet, so buyers would see it <b>sold out</b>. Keep it hidden until "
        "/stock gives it items (it then appears by itself)?"
    )
    hidden = lang.t("✅ Save, hidden until stocked")
    shown = lang.t("Save and show it now")
    rows = [
        [InlineKeyboardButton(hidden, callback_data=cb.WIZARD_SAVE_HIDDEN.encode(token))],
        [InlineKeyboardButton(shown, callback_data=cb.WIZARD_SAVE.encode(token))],
        [cancel],
    ]
    return question, InlineKeyboardMarkup(rows)


def saved_text(lang: Lang, product: Product, link: str, added: int, skipped: int) -> str:
    """The confirmation: the id, the deep link to share, and for stock what went in."""
    pid = product.id
    lines = [
        lang.t(
            "✅ Saved <b>{title}</b> as product <b>#{product}</b>.",
            title=escape(product.title),
            product=pid,
        ),
        lang.t("Buyers open it with {link}", link=escape(link)),
    ]
    if product.kind is ProductKind.DIGITAL_STOCK:
        added_n = lang.number(added)
        if skipped:
            lines.append(
                lang.t(
                    "Items in stock: <b>{added}</b> ({skipped} skipped). "
                    "Add more: /stock {product}",
                    added=added_n,
                    skipped=lang.number(skipped),
                    product=pid,
                )
            )
        else:
            lines.append(
                lang.t(
                    "Items in stock: <b>{added}</b>. Add more: /stock {product}",
                    added=added_n,
                    product=pid,
                )
            )
    if product.show_when_stocked:
        lines.append(
            lang.t(
                "🙈 Hidden until it has items: /stock {product} adds them and shows it.",
                product=pid,
            )
        )
    lines.append(lang.t("Manage it in /products."))
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
        await query.answer(admin_button_expired(context.lang), show_alert=True)
        return None
    return query, data, draft
