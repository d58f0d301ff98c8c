"""The rules every product field follows, whether typed in /addproduct, /products' Edit or
/stock — so a product can never be edited into something the wizard would have refused."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from telegram import Document, Message

from bot.config import SHIPPABLE_COUNTRIES
from bot.texts import MAX_DELIVERY_TEXT, clip, utf16_len
from shop.catalog import MAX_STARS_PRICE
from shop.i18n import Lang
from shop.money import Money, MoneyError
from shop.refusal import Refusal
from shop.typed_money import parse_price

MAX_TITLE = 128
MAX_DESCRIPTION = 800
MAX_CATEGORY = 32
MAX_ITEMS_FILE_BYTES = 1024 * 1024
MAX_ITEM_LINES = 10_000


class FieldError(Refusal, ValueError):
    """Input the merchant must correct: `text(lang)` says what, in their language (plain text)."""


# A field's "too long" sentence: (lang, size, limit, emoji) → the refusal; `emoji` adds that
# an emoji counts two (the size is Telegram's count, in UTF-16 units, not the one people make).
TooLong = Callable[[Lang, int, int, bool], str]


def check_length(value: str, limit: int, words: TooLong) -> str:
    """Refuse `value` when it is longer than `limit` as Telegram counts (UTF-16 units), so a
    text accepted here can always be shown: an emoji counts two, and the admin is told so in
    the field's own sentence (`words`)."""
    size = utf16_len(value)
    if size > limit:
        emoji = size != len(value)
        raise FieldError(lambda lang: words(lang, size, limit, emoji))
    return value


def _title_too_long(lang: Lang, size: int, limit: int, emoji: bool) -> str:
    most = lang.number(limit)
    if emoji:
        return lang.nt(
            "That title has {n} character (emoji and some symbols count as two); "
            "the most is {most}.",
            "That title has {n} characters (emoji and some symbols count as two); "
            "the most is {most}.",
            size,
            most=most,
        )
    return lang.nt(
        "That title has {n} character; the most is {most}.",
        "That title has {n} characters; the most is {most}.",
        size,
        most=most,
    )


def _description_too_long(lang: Lang, size: int, limit: int, emoji: bool) -> str:
    most = lang.number(limit)
    if emoji:
        return lang.nt(
            "That description has {n} character (emoji and some symbols count as two); "
            "the most is {most}.",
            "That description has {n} characters (emoji and some symbols count as two); "
            "the most is {most}.",
            size,
            most=most,
        )
    return lang.nt(
        "That description has {n} character; the most is {most}.",
        "That description has {n} characters; the most is {most}.",
        size,
        most=most,
    )


def _text_too_long(lang: Lang, size: int, limit: int, emoji: bool) -> str:
    most = lang.number(limit)
    if emoji:
        return lang.nt(
            "That text has {n} character (emoji and some symbols count as two); "
            "the most is {most}.",
            "That text has {n} characters (emoji and some symbols count as two); "
            "the most is {most}.",
            size,
            most=most,
        )
    return lang.nt(
        "That text has {n} character; the most is {most}.",
        "That text has {n} characters; the most is {most}.",
        size,
        most=most,
    )


def _category_too_long(lang: Lang, size: int, limit: int, emoji: bool) -> str:
    most = lang.number(limit)
    if emoji:
        return lang.nt(
            "That category name has {n} character (emoji and some symbols count as two); "
            "the most is {most}.",
            "That category name has {n} characters (emoji and some symbols count as two); "
            "the most is {most}.",
            size,
            most=most,
        )
    return lang.nt(
        "That category name has {n} character; the most is {most}.",
        "That category name has {n} characters; the most is {most}.",
        size,
        most=most,
    )


def clean_title(text: str | None) -> str:
    title = (text or "").strip()
    if not title:
        raise FieldError(lambda lang: lang.t("The title can't be empty."))
    if "\n" in title:
        raise FieldError(lambda lang: lang.t("Please keep the title on one line."))
    return check_length(title, MAX_TITLE, _title_too_long)


def clean_description(text: str | None) -> str:
    return check_length((text or "").strip(), MAX_DESCRIPTION, _description_too_long)


def clean_delivery(text: str | None) -> str:
    delivery = (text or "").strip()
    if not delivery:
        raise FieldError(lambda lang: lang.t("The text can't be empty."))
    return check_length(delivery, MAX_DELIVERY_TEXT, _text_too_long)


def clean_category(text: str | None) -> str:
    category = (text or "").strip()
    if not category or "\n" in category:
        raise FieldError(lambda lang: lang.t("Send the category's name on one line."))
    return check_length(category, MAX_CATEGORY, _category_too_long)


def clean_countries(text: str | None) -> tuple[str, ...]:
    """A physical product's own shipping countries: two-letter codes, by commas or spaces,
    each one Stripe Checkout ships to (the same list SHIPPING_COUNTRIES is checked against)."""
    codes = [code.upper() for code in re.split(r"[,;\s]+", (text or "").strip()) if code]
    if not codes:
        raise FieldError(lambda lang: lang.t("Send at least one two-letter country code, e.g. US."))
    refused = [code for code in codes if code not in SHIPPABLE_COUNTRIES]
    if refused:
        shown = ", ".join(clip(code, 12) for code in refused[:5])
        raise FieldError(
            lambda lang: lang.t(
                "Stripe Checkout doesn't ship to {codes}: use two-letter country codes such as "
                "US, DE or FR.",
                codes=shown,
            )
        )
    return tuple(dict.fromkeys(codes))


def clean_price(text: str | None, default_currency: str) -> Money:
    """A price by card, as shop/typed_money.py reads it; its refusal, worded there, is passed
    on as the field's."""
    try:
        return parse_price(text or "", default_currency)
    except MoneyError as error:
        raise FieldError(error.text) from error


_STAR = r"(?:⭐\ufe0f?|stars?|xtr)"
_STARS = re.compile(rf"(?:⭐\ufe0f?)?\s*(\d{{1,3}}(?:[ ,\u00a0\u202f]\d{{3}})*|\d+)\s*{_STAR}?")


def clean_stars(text: str | None) -> int:
    """A Stars price: a whole number of Stars from 1 to MAX_STARS_PRICE, as "150", "1,500",
    "⭐ 150" or "150 stars". Stars have no fractions, so "1.5" is refused, not rounded."""
    typed = (text or "").strip().lower()[:64]
    found = _STARS.fullmatch(typed)
    if found is None:
        if re.fullmatch(rf"[⭐\ufe0f\s]*\d+[.,]\d{{1,2}}\s*{_STAR}?", typed):
            raise FieldError(lambda lang: lang.t("Stars are whole: send a whole number, e.g. 150."))
        raise FieldError(
            lambda lang: lang.t("Send the price as a whole number of Stars, e.g. 150.")
        )
    stars = int(re.sub(r"\D", "", found.group(1)))
    if stars < 1:
        raise FieldError(lambda lang: lang.t("A Stars price is at least 1 Star."))
    if stars > MAX_STARS_PRICE:
        raise FieldError(
            lambda lang: lang.nt(
                "A Stars price is at most {n} Star.",
                "A Stars price is at most {n} Stars.",
                MAX_STARS_PRICE,
            )
        )
    return stars


def parse_items(text: str | None) -> list[str]:
    """One item per line, blank lines dropped; duplicates are left for storage to count.

    Lines end at `\n` or `\r\n` only: `str.splitlines` would also cut one key at a form
    feed, a record separator or U+2028. A line holding any other control character (a NUL
    byte, a stray `\r`, a tab) or a line/paragraph separator is refused, all of them counted,
    so nothing unreadable is stored and nothing is added until the admin fixes the upload."""
    lines = [line.removesuffix("\r") for line in (text or "").removesuffix("\n").split("\n")]
    if len(lines) > MAX_ITEM_LINES:
        count = len(lines)
        raise FieldError(
            lambda lang: lang.t(
                "That is {count} lines; send at most {most} at once.",
                count=lang.number(count),
                most=lang.number(MAX_ITEM_LINES),
            )
        )
    bad = [number for number, line in enumerate(lines, start=1) if _has_control(line)]
    if bad:
        raise _control_characters(bad)
    items = [line.strip() for line in lines if line.strip()]
    if not items:
        raise FieldError(lambda lang: lang.t("I found no items: send one item per line."))
    return items


def _control_characters(bad: list[int]) -> FieldError:
    """Which lines hold control characters: the first ten line numbers, then "…"."""
    shown = ", ".join(str(n) for n in bad[:10]) + (", …" if len(bad) > 10 else "")
    return FieldError(
        lambda lang: lang.nt(
            "{n} line contains control characters (invisible codes such as NUL, tab or a page "
            "break) — line {lines}. Nothing was added: remove them and send the items again.",
            "{n} lines contain control characters (invisible codes such as NUL, tab or a page "
            "break) — lines {lines}. Nothing was added: remove them and send the items again.",
            len(bad),
            lines=shown,
        )
    )


def _has_control(line: str) -> bool:
    return any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in line)


async def read_items_file(document: Document) -> list[str]:
    """The items of an uploaded .txt file (UTF-8, ≤ 1 MB, ≤ 10,000 lines)."""
    name = document.file_name
    if not (name or "").lower().endswith(".txt"):
        raise _not_a_text_file(name)
    too_big = FieldError(
        lambda lang: lang.t("That file is over 1 MB. Split it into smaller files.")
    )
    if (document.file_size or 0) > MAX_ITEMS_FILE_BYTES:
        raise too_big
    data = await (await document.get_file()).download_as_bytearray()
    if len(data) > MAX_ITEMS_FILE_BYTES:
        raise too_big
    try:
        content = bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FieldError(
            lambda lang: lang.t("That file is not UTF-8 text. Save it as UTF-8 and send it again.")
        ) from error
    return parse_items(content)


def _not_a_text_file(name: str | None) -> FieldError:
    if name:
        return FieldError(
            lambda lang: lang.t(
                "“{name}” is not a .txt file. Send a plain .txt file, one item per line.", name=name
            )
        )
    return FieldError(
        lambda lang: lang.t(
            "This file is not a .txt file. Send a plain .txt file, one item per line."
        )
    )


def largest_photo(message: Message) -> str:
    """The file_id of the biggest size Telegram made of the photo."""
    return max(
        message.photo, key=lambda size: (size.width * size.height, size.file_size or 0)
    ).file_id
