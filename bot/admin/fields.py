"""The rules every product field follows, whether typed in /addproduct, /products' Edit or
/stock — so a product can never be edited into something the wizard would have refused."""

from __future__ import annotations

import re
import unicodedata

from telegram import Document, Message

from bot.config import SHIPPABLE_COUNTRIES
from bot.texts import MAX_DELIVERY_TEXT, clip, utf16_len
from shop.catalog import MAX_STARS_PRICE
from shop.money import Money, MoneyError
from shop.typed_money import parse_price

MAX_TITLE = 128
MAX_DESCRIPTION = 800
MAX_CATEGORY = 32
MAX_ITEMS_FILE_BYTES = 1024 * 1024
MAX_ITEM_LINES = 10_000


class FieldError(ValueError):
    """Input the merchant must correct; the message is theirs to read (plain text)."""


def check_length(value: str, limit: int, what: str) -> str:
    """Refuse `value` when it is longer than `limit` as Telegram counts (UTF-16 units), so a
    text accepted here can always be shown: an emoji counts two, and the admin is told so."""
    size = utf16_len(value)
    if size > limit:
        emoji = " (emoji and some symbols count as two)" if size != len(value) else ""
        raise FieldError(f"{what} has {size:,} characters{emoji}; the most is {limit:,}.")
    return value


def clean_title(text: str | None) -> str:
    title = (text or "").strip()
    if not title:
        raise FieldError("The title can't be empty.")
    if "\n" in title:
        raise FieldError("Please keep the title on one line.")
    return check_length(title, MAX_TITLE, "That title")


def clean_description(text: str | None) -> str:
    return check_length((text or "").strip(), MAX_DESCRIPTION, "That description")


def clean_delivery(text: str | None) -> str:
    delivery = (text or "").strip()
    if not delivery:
        raise FieldError("The text can't be empty.")
    return check_length(delivery, MAX_DELIVERY_TEXT, "That text")


def clean_category(text: str | None) -> str:
    category = (text or "").strip()
    if not category or "\n" in category:
        raise FieldError("Send the category's name on one line.")
    return check_length(category, MAX_CATEGORY, "That category name")


def clean_countries(text: str | None) -> tuple[str, ...]:
    """A physical product's own shipping countries: two-letter codes, by commas or spaces,
    each one Stripe Checkout ships to (the same list SHIPPING_COUNTRIES is checked against)."""
    codes = [code.upper() for code in re.split(r"[,;\s]+", (text or "").strip()) if code]
    if not codes:
        raise FieldError("Send at least one two-letter country code, e.g. US.")
    refused = [code for code in codes if code not in SHIPPABLE_COUNTRIES]
    if refused:
        shown = ", ".join(clip(code, 12) for code in refused[:5])
        raise FieldError(
            f"Stripe Checkout doesn't ship to {shown}: use two-letter country codes such as "
            "US, DE or FR."
        )
    return tuple(dict.fromkeys(codes))


def clean_price(text: str | None, default_currency: str) -> Money:
    try:
        return parse_price(text or "", default_currency)
    except MoneyError as error:
        raise FieldError(str(error)) from error


_STAR = r"(?:⭐\ufe0f?|stars?|xtr)"
_STARS = re.compile(rf"(?:⭐\ufe0f?)?\s*(\d{{1,3}}(?:[ ,\u00a0\u202f]\d{{3}})*|\d+)\s*{_STAR}?")


def clean_stars(text: str | None) -> int:
    """A Stars price: a whole number of Stars from 1 to MAX_STARS_PRICE, as "150", "1,500",
    "⭐ 150" or "150 stars". Stars have no fractions, so "1.5" is refused, not rounded."""
    typed = (text or "").strip().lower()[:64]
    found = _STARS.fullmatch(typed)
    if found is None:
        if re.fullmatch(rf"[⭐\ufe0f\s]*\d+[.,]\d{{1,2}}\s*{_STAR}?", typed):
            raise FieldError("Stars are whole: send a whole number, e.g. 150.")
        raise FieldError("Send the price as a whole number of Stars, e.g. 150.")
    stars = int(re.sub(r"\D", "", found.group(1)))
    if stars < 1:
        raise FieldError("A Stars price is at least 1 Star.")
    if stars > MAX_STARS_PRICE:
        raise FieldError(f"A Stars price is at most {MAX_STARS_PRICE:,} Stars.")
    return stars


def parse_items(text: str | None) -> list[str]:
    """One item per line, blank lines dropped; duplicates are left for storage to count.

    Lines end at `\n` or `\r\n` only: `str.splitlines` would also cut one key at a form
    feed, a record separator or U+2028. A line holding any other control character (a NUL
    byte, a stray `\r`, a tab) or a line/paragraph separator is refused, all of them counted,
    so nothing unreadable is stored and nothing is added until the admin fixes the upload."""
    lines = [line.removesuffix("\r") for line in (text or "").removesuffix("\n").split("\n")]
    if len(lines) > MAX_ITEM_LINES:
        raise FieldError(f"That is {len(lines)} lines; send at most {MAX_ITEM_LINES:,} at once.")
    bad = [number for number, line in enumerate(lines, start=1) if _has_control(line)]
    if bad:
        shown = ", ".join(str(n) for n in bad[:10]) + (", …" if len(bad) > 10 else "")
        count = f"{len(bad)} line{'s' if len(bad) != 1 else ''}"
        raise FieldError(
            f"{count} contain control characters (invisible codes such as NUL, tab or a page "
            f"break) — line{'s' if len(bad) != 1 else ''} {shown}. Nothing was added: remove "
            "them and send the items again."
        )
    items = [line.strip() for line in lines if line.strip()]
    if not items:
        raise FieldError("I found no items: send one item per line.")
    return items


def _has_control(line: str) -> bool:
    return any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in line)


async def read_items_file(document: Document) -> list[str]:
    """The items of an uploaded .txt file (UTF-8, ≤ 1 MB, ≤ 10,000 lines)."""
    name = document.file_name or "this file"
    if not name.lower().endswith(".txt"):
        raise FieldError(f"“{name}” is not a .txt file. Send a plain .txt file, one item per line.")
    if (document.file_size or 0) > MAX_ITEMS_FILE_BYTES:
        raise FieldError("That file is over 1 MB. Split it into smaller files.")
    data = await (await document.get_file()).download_as_bytearray()
    if len(data) > MAX_ITEMS_FILE_BYTES:
        raise FieldError("That file is over 1 MB. Split it into smaller files.")
    try:
        content = bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FieldError(
            "That file is not UTF-8 text. Save it as UTF-8 and send it again."
        ) from error
    return parse_items(content)


def largest_photo(message: Message) -> str:
    """The file_id of the biggest size Telegram made of the photo."""
    return max(
        message.photo, key=lambda size: (size.width * size.height, size.file_size or 0)
    ).file_id
