"""What the admin reads in a product's 🌐 Translations (the dialog is bot/admin/translations.py):
the overview of its languages, one language's texts with ✏️ and 🗑 buttons, and the prompt for a
new text. Everything the merchant typed is escaped (and clipped) before it goes into a message;
the limits quoted are the ones the original fields are checked with (bot/admin/fields.py)."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks as cb
from bot.admin import fields as admin_fields
from bot.texts import MAX_DELIVERY_TEXT, clip
from shop.i18n import N_, Lang
from shop.translations import ProductTranslations
from storage.models import Product, ProductKind

# The parts of a product a merchant translates, by their code in the buttons (cb.TRANSLATION_PARTS):
# three of its own texts, as their columns are named, and the name of its category ("c").
TEXT_PARTS = {"t": "title", "d": "description", "x": "delivery_text"}
CATEGORY_PART = "c"

_PART_LABELS = {"t": N_("Title"), "d": N_("Description"), "c": N_("Category")}
# The delivery text is called as the product's Edit calls it for each kind.
_DELIVERY_LABELS = {
    ProductKind.DIGITAL_TEXT: N_("Delivery text"),
    ProductKind.DIGITAL_STOCK: N_("Instructions"),
    ProductKind.PHYSICAL: N_("Note to the buyer"),
    ProductKind.SERVICE: N_("Your note"),
}
SHOWN_CHARS = 300  # of a long translated text quoted back to the admin, as the admin card does


def parts_of(product: Product) -> list[str]:
    """The codes of the parts this product has: its texts, and a category name when it is in
    a category."""
    return [*TEXT_PARTS, *([CATEGORY_PART] if product.category else [])]


def part_label(lang: Lang, part: str, kind: ProductKind) -> str:
    return lang.t(_DELIVERY_LABELS[kind]) if part == "x" else lang.t(_PART_LABELS[part])


def translated(found: ProductTranslations, part: str, language: str) -> str | None:
    """A part's text in `language` as the merchant wrote it, or None."""
    if part == CATEGORY_PART:
        return found.category.get(language)
    return found.text(language, TEXT_PARTS[part])


def original(product: Product, part: str) -> str:
    if part == CATEGORY_PART:
        return product.category or ""
    return {"t": product.title, "d": product.description, "x": product.delivery_text}[part]


def _back(data: str, label: str) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(label, callback_data=data)]


# --- the overview ---------------------------------------------------------------------------------


def overview(
    lang: Lang, product: Product, found: ProductTranslations, targets: list[Lang], default: Lang
) -> tuple[str, InlineKeyboardMarkup]:
    """Every language the product can be translated into, with ✓ for each part done, and a
    button per language."""
    title = escape(product.title)
    back = _back(cb.PRODUCT_CARD.encode(product.id), lang.t("‹ Back"))
    head = lang.t("🌐 <b>Translations of {title}</b>", title=title)
    if not targets:
        text = lang.t(
            "This shop offers only {language}, the language your products are written in. "
            "Add languages with the LANGUAGES setting to translate them.",
            language=default.name,
        )
        return f"{head}\n\n{text}", InlineKeyboardMarkup([back])
    lines = [
        head,
        lang.t(
            "Buyers who read one of these languages see what you write here, and the original "
            "({language}) wherever you wrote nothing. Nothing is translated automatically.",
            language=default.name,
        ),
        "",
    ]
    parts = parts_of(product)
    buttons = []
    for target in targets:
        marks = " · ".join(
            lang.t("{part} ✓", part=part_label(lang, part, product.kind))
            if translated(found, part, target.code) is not None
            else lang.t("{part} —", part=part_label(lang, part, product.kind))
            for part in parts
        )
        lines.append(lang.t("<b>{language}</b>: {parts}", language=target.name, parts=marks))
        done = found.done(target.code, has_category=bool(product.category))
        label = lang.t(
            "{language} ({done}/{total})",
            language=target.name,
            done=lang.number(done),
            total=lang.number(len(parts)),
        )
        data = cb.TRANSLATION_LANGUAGE.encode(product.id, target.code)
        buttons.append(InlineKeyboardButton(label, callback_data=data))
    lines.append("\n" + lang.t("Tap a language to write or change its texts."))
    rows = [buttons[start : start + 2] for start in range(0, len(buttons), 2)]
    return "\n".join(lines), InlineKeyboardMarkup([*rows, back])


# --- one language ---------------------------------------------------------------------------------


def language_page(
    lang: Lang, product: Product, found: ProductTranslations, target: Lang, note: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    """One language's texts of the product, each with ✏️ (write) and, once written, 🗑 (remove);
    `note` (HTML) goes first: what the last step did."""
    lines = [note, ""] if note else []
    lines.append(
        lang.t(
            "🌐 <b>{title}</b> in <b>{language}</b>",
            title=escape(product.title),
            language=target.name,
        )
    )
    rows = []
    for part in parts_of(product):
        label = _heading(lang, product, part)
        text = translated(found, part, target.code)
        if text is None:
            lines.append(
                "\n" + lang.t("{part} — not translated: buyers see the original.", part=label)
            )
        else:
            lines.append("\n" + lang.t("{part} ✓", part=label))
            lines.append(escape(clip(text, SHOWN_CHARS)))
        row = [
            InlineKeyboardButton(
                lang.t("✏️ {part}", part=part_label(lang, part, product.kind)),
                callback_data=cb.TRANSLATION_EDIT.encode(product.id, target.code, part),
            )
        ]
        if text is not None:
            row.append(
                InlineKeyboardButton(
                    lang.t("🗑 Remove: {part}", part=part_label(lang, part, product.kind)),
                    callback_data=cb.TRANSLATION_REMOVE.encode(product.id, target.code, part),
                )
            )
        rows.append(row)
    lines.append(
        "\n"
        + lang.t(
            "✏️ writes a text in {language}; 🗑 removes it, and buyers then see the original.",
            language=target.name,
        )
    )
    if product.category:
        lines.append(lang.t("A category's name is shared by every product in that category."))
    back = _back(cb.TRANSLATIONS.encode(product.id), lang.t("‹ Languages"))
    return "\n".join(lines), InlineKeyboardMarkup([*rows, back])


def _heading(lang: Lang, product: Product, part: str) -> str:
    """A part's heading in the language page (HTML): "<b>Title</b>", or the category's own
    name for its part: "<b>Category “Books”</b>"."""
    if part == CATEGORY_PART:
        return lang.t(
            "<b>Category “{category}”</b>", category=escape(clip(product.category or "", 40))
        )
    return f"<b>{part_label(lang, part, product.kind)}</b>"


# --- the prompt for a new text --------------------------------------------------------------------


def prompt(
    lang: Lang, product: Product, part: str, target: Lang, now: str | None, category: str
) -> str:
    """The question: "🌐 Title of Mug in Español", the original and the text now, and what to
    send, with the original field's limits."""
    label = part_label(lang, part, product.kind)
    if part == CATEGORY_PART:
        head = lang.t(
            "🌐 Category <b>{category}</b> in <b>{language}</b>",
            category=escape(category),
            language=target.name,
        )
        source = category
    else:
        head = lang.t(
            "🌐 <b>{part}</b> of <b>{title}</b> in <b>{language}</b>",
            part=label,
            title=escape(product.title),
            language=target.name,
        )
        source = original(product, part)
    shown = escape(clip(source, SHOWN_CHARS)) if source else lang.t("empty")
    lines = [head, lang.t("Original: {text}", text=shown)]
    if now is None:
        lines.append(lang.t("Now: not translated, so buyers see the original."))
    else:
        lines.append(lang.t("Now: {text}", text=escape(clip(now, SHOWN_CHARS))))
    lines.append("\n" + _ask(lang, part, target, label))
    if now is None:
        lines.append("\n" + lang.t("/cancel leaves it as it is."))
    else:
        lines.append(
            "\n"
            + lang.t(
                "/skip removes the translation, and buyers then see the original; "
                "/cancel leaves it as it is."
            )
        )
    return "\n".join(lines)


def _ask(lang: Lang, part: str, target: Lang, label: str) -> str:
    """What to send, with the limit of the original field."""
    language = target.name
    if part == "t":
        return lang.t(
            "Send the title in {language} (1–{most} characters, on one line).",
            language=language,
            most=lang.number(admin_fields.MAX_TITLE),
        )
    if part == "d":
        return lang.t(
            "Send the description in {language} (up to {most} characters).",
            language=language,
            most=lang.number(admin_fields.MAX_DESCRIPTION),
        )
    if part == "x":
        return lang.t(
            "Send “{part}” in {language} (up to {most} characters).",
            part=label,
            language=language,
            most=lang.number(MAX_DELIVERY_TEXT),
        )
    return lang.t(
        "Send the category's name in {language} (up to {most} characters, on one line). "
        "Every product in this category shows it.",
        language=language,
        most=lang.number(admin_fields.MAX_CATEGORY),
    )
