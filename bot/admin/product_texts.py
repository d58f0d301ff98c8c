"""The words and buttons every product dialog shares — /addproduct, /products' Edit and
/stock — so that a field is asked for, and explained, the same way wherever it is typed.

Every text is in the admin's language (`lang`, first); the labels are tables of `N_` texts,
translated where they are shown.
"""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.admin.fields import MAX_CATEGORY, MAX_ITEM_LINES
from bot.callbacks import CATEGORY_BUTTONS, Button
from bot.texts import MAX_DELIVERY_TEXT, clip
from shop.catalog import MAX_STARS_PRICE, default_rail, risks_the_terms
from shop.i18n import N_, Lang
from storage.models import STARS_CURRENCY, Product, ProductKind, ProductRail, Rail

KIND_LABELS = {
    ProductKind.DIGITAL_TEXT: N_("📄 Digital text"),
    ProductKind.DIGITAL_STOCK: N_("🔑 Digital stock"),
    ProductKind.PHYSICAL: N_("📦 Physical"),
    ProductKind.SERVICE: N_("🛎 Service"),
}


KIND_HELP = {
    ProductKind.DIGITAL_TEXT: N_("the same text for every buyer (a download link, instructions)"),
    ProductKind.DIGITAL_STOCK: N_("one unique item per unit from a pool you fill (keys, codes)"),
    ProductKind.PHYSICAL: N_("shipped by you: checkout asks for the delivery address"),
    ProductKind.SERVICE: N_("the buyer gets a confirmation and your note"),
}


DELIVERY_LABELS = {
    ProductKind.DIGITAL_TEXT: N_("Delivery text"),
    ProductKind.DIGITAL_STOCK: N_("Instructions"),
    ProductKind.PHYSICAL: N_("Note to the buyer"),
    ProductKind.SERVICE: N_("Your note"),
}


MAX_ANSWER = 200  # Telegram's most for the answer to a button tap

RAIL_LABELS = {
    ProductRail.STRIPE: N_("💳 Stripe"),
    ProductRail.STARS: N_("⭐ Telegram Stars"),
    ProductRail.BOTH: N_("💳 + ⭐ Both"),
}

RAIL_HELP = {
    ProductRail.STRIPE: N_("cards through Stripe Checkout, on a web page"),
    ProductRail.STARS: N_("paid inside Telegram, in whole Stars"),
    ProductRail.BOTH: N_("the buyer picks; you set a price for each"),
}


def kind_label(lang: Lang, kind: ProductKind) -> str:
    return lang.t(KIND_LABELS[kind])


def rail_label(lang: Lang, rail: ProductRail) -> str:
    return lang.t(RAIL_LABELS[rail])


def delivery_label(lang: Lang, kind: ProductKind) -> str:
    """What the delivery text is called for this kind (it is a note for some)."""
    return lang.t(DELIVERY_LABELS[kind])


def kinds_explained(lang: Lang) -> str:
    """Every kind, one per line, with what it means."""
    return "\n".join(
        lang.t("{kind} — {meaning}", kind=kind_label(lang, kind), meaning=lang.t(KIND_HELP[kind]))
        for kind in ProductKind
    )


# Telegram's bot developer terms, §6: digital goods and services only for Stars (§6.2), a
# payment provider for physical goods and services (§6.1).
def rail_rule(lang: Lang) -> str:
    return lang.t(
        "⚖️ Telegram's bot developer terms (§6) require digital goods and services sold in a bot "
        "to be paid in Telegram Stars; physical goods and services may be paid through a "
        "provider such as Stripe."
    )


def physical_not_stars(lang: Lang) -> str:
    """Said in the rail question, and as the alert when Stars are tapped for a physical product
    (clipped there to Telegram's 200 characters for an answer: a translation may be longer)."""
    return lang.t(
        "A physical product is paid through Stripe: Telegram Stars are for digital goods and "
        "services, and only Stripe Checkout asks for the delivery address."
    )


def physical_not_stars_alert(lang: Lang) -> str:
    return clip(physical_not_stars(lang), MAX_ANSWER)


def terms_warning(lang: Lang) -> str:
    return lang.t(
        "⚠️ Digital goods sold by card only: Telegram's terms require Stars for them, and a bot "
        "that takes other payments for digital goods may be removed. Edit › Payment adds Stars."
    )


def list_warning(lang: Lang) -> str:
    """The same warning, short, under a product in the /products list."""
    return lang.t("⚠️ card only: Telegram's terms want Stars for digital goods")


def rail_prompt(lang: Lang, kind: ProductKind) -> str:
    rails = "\n".join(
        lang.t("{rail} — {meaning}", rail=rail_label(lang, r), meaning=lang.t(RAIL_HELP[r]))
        for r in ProductRail
    )
    prompt = lang.t(
        "How do buyers <b>pay</b> for it?\n\n{rule}\n\n{rails}\n\n"
        "Suggested for {kind}: <b>{suggested}</b>.",
        rule=rail_rule(lang),
        rails=rails,
        kind=kind_label(lang, kind),
        suggested=rail_label(lang, default_rail(kind)),
    )
    if kind is ProductKind.PHYSICAL:
        return f"{prompt}\n\n{physical_not_stars(lang)}"
    return prompt


def rail_keyboard(lang: Lang, kind: ProductKind, pick: Button, owner: int) -> InlineKeyboardMarkup:
    """Stripe / Stars / Both, the suggested one marked; `owner` is the buttons' first argument
    (the draft's token, or the edited product's id)."""
    suggested = default_rail(kind)
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    lang.t("{rail} · suggested", rail=rail_label(lang, rail))
                    if rail is suggested
                    else rail_label(lang, rail),
                    callback_data=pick.encode(owner, rail.value),
                )
            ]
            for rail in ProductRail
        ]
    )


def stars_hint(lang: Lang) -> str:
    return lang.t(
        "Send the price in <b>Telegram Stars</b>: a whole number from 1 to {most}, e.g. "
        "<code>150</code>.",
        most=lang.number(MAX_STARS_PRICE),
    )


def prices_html(lang: Lang, product: Product) -> str:
    """What a buyer pays, per rail: "$9.99", "⭐ 150" or "$9.99 · ⭐ 150"."""
    prices = []
    if product.sells_on(Rail.STRIPE):
        prices.append(escape(lang.money(product.price_minor, product.currency)))
    if product.sells_on(Rail.STARS) and product.stars_price is not None:
        prices.append(escape(lang.money(product.stars_price, STARS_CURRENCY)))
    return " · ".join(prices)


def rail_line(lang: Lang, product: Product) -> str:
    """Its prices and rail, "$9.99 · 💳 Stripe", plus the terms' warning where it applies."""
    line = f"{prices_html(lang, product)} · {rail_label(lang, product.rail)}"
    return f"{line}\n{terms_warning(lang)}" if risks_the_terms(product) else line


def price_hint(lang: Lang, default_currency: str) -> str:
    return lang.t(
        "Send the <b>price</b>, e.g. <code>9.99</code>, <code>9.99 eur</code> or "
        "<code>1000 jpy</code>. Without a currency it is {currency}.",
        currency=escape(default_currency.upper()),
    )


def delivery_prompt(lang: Lang, kind: ProductKind) -> str:
    limit = MAX_DELIVERY_TEXT
    if kind is ProductKind.DIGITAL_TEXT:
        return lang.t(
            "Send the <b>delivery text</b> every buyer receives after paying — a download link, "
            "a code, instructions (up to {limit} characters).",
            limit=limit,
        )
    if kind is ProductKind.DIGITAL_STOCK:
        return lang.t(
            "Send <b>instructions</b> sent along with each item (how to redeem it; up to "
            "{limit} characters), or /skip.",
            limit=limit,
        )
    if kind is ProductKind.PHYSICAL:
        return lang.t(
            "Send a <b>note to the buyer</b> shown after paying (e.g. shipping times; up to "
            "{limit} characters), or /skip.",
            limit=limit,
        )
    return lang.t(
        "Send <b>your note</b> to the buyer shown after paying (e.g. how to book; up to "
        "{limit} characters), or /skip.",
        limit=limit,
    )


def items_hint(lang: Lang) -> str:
    return lang.t(
        "Send the <b>items</b>, one per line (or upload a .txt file, one item per line, up to "
        "1 MB and {most} lines).",
        most=lang.number(MAX_ITEM_LINES),
    )


def countries_hint(lang: Lang, shop_countries: tuple[str, ...]) -> str:
    return lang.t(
        "Which <b>countries</b> do you ship it to? Send two-letter codes, e.g. "
        "<code>US, CA, DE</code>, or /skip for the shop's list ({countries}).",
        countries=", ".join(shop_countries),
    )


def countries_line(lang: Lang, countries: tuple[str, ...] | None) -> str:
    if countries:
        return ", ".join(countries)
    return lang.t("the shop's list (SHIPPING_COUNTRIES)")


def category_keyboard(
    lang: Lang, names: list[str], pick: Button, no_category: Button, owner: int
) -> InlineKeyboardMarkup:
    """Existing categories (by index: names may be long) and "No category"; `owner` is the
    first argument of both buttons (the draft's token, or the edited product's id)."""
    rows = [
        [InlineKeyboardButton(clip(name, 40), callback_data=pick.encode(owner, index))]
        for index, name in enumerate(names[:CATEGORY_BUTTONS])
    ]
    rows.append(
        [InlineKeyboardButton(lang.t("No category"), callback_data=no_category.encode(owner))]
    )
    return InlineKeyboardMarkup(rows)


def category_hint(lang: Lang) -> str:
    return lang.t(
        "Tap a <b>category</b>, choose No category, or send a new name (up to {most} characters).",
        most=MAX_CATEGORY,
    )
