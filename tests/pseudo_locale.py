"""A pseudo-locale, en_XA: English with every letter swapped for a look-alike ("Buy now" →
"Ƀüý ñöŵ"), built from locales/messages.pot at test time.

A person reads it as English, but no ASCII letter of a translated message survives, so any
text the bot sends that still has one ("Pay", "Qty 2") did not come from the catalog: it was
glued together in code, or its message id never reached the template. Placeholders, HTML
tags and entities, URLs and /commands are left as they are, exactly as a translator must.

Also: what the bot sent to a person, every text of it, read back from the Telegram stand-in's
record of calls, and the runs of ASCII letters left in it once the merchant's and the buyer's
own data, URLs, /commands, @usernames, money and numbers are taken out.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from sandbox.fake_telegram import FakeCall, FakeTelegram

PSEUDO_CODE = "en_XA"  # the catalog's name: CLDR's own pseudo-locale for accented English
TELEGRAM_CODE = "en-XA"  # as a Telegram app reports it
TEMPLATE = Path(__file__).resolve().parents[1] / "locales" / "messages.pot"

_LOOK_ALIKES = dict(
    zip(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "ȧƀçđéƒĝĥîĵķĺɱñöþʠŕšŧüṽŵẋýžÅƁÇĐÉƑĜĤÎĴĶĹṀÑÖÞǪŔŠŦÜṼŴẊÝŽ",
        strict=True,
    )
)
_SWAP = str.maketrans(_LOOK_ALIKES)
# What a translation keeps as it is: {{ and }}, {placeholders}, <tags>, &entities;, URLs, and
# /commands (a command is typed as it is in every language).
_KEPT = re.compile(
    r"\{\{|\}\}|\{[^{}]*\}|<[^<>]*>|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z]+);"
    r"|https?://[^\s<>\"']+|(?<![\w/])/[A-Za-z0-9_]+"
)


def pseudo(text: str) -> str:
    """`text` with every ASCII letter outside placeholders, tags, entities, URLs and
    /commands swapped for a non-ASCII look-alike."""
    out, last = [], 0
    for kept in _KEPT.finditer(text):
        out.append(text[last : kept.start()].translate(_SWAP))
        out.append(kept.group())
        last = kept.end()
    out.append(text[last:].translate(_SWAP))
    return "".join(out)


def pseudo_catalog(template: Path = TEMPLATE) -> Catalog:
    """Every message of the template, translated into the pseudo-locale (English's two plural
    forms, the template's own default)."""
    with template.open("rb") as file:
        source = read_po(file)
    catalog = Catalog(locale=None, domain="messages", fuzzy=False)
    for message in source:
        if not message.id:
            continue
        if isinstance(message.id, str):
            catalog.add(message.id, pseudo(message.id), flags=message.flags)
        else:
            singular, plural = message.id[0], message.id[1]
            catalog.add((singular, plural), (pseudo(singular), pseudo(plural)))
    return catalog


def build_catalog(directory: Path, template: Path = TEMPLATE) -> Path:
    """Compile the pseudo catalog to `directory`/en_XA/LC_MESSAGES/messages.mo (a catalog_dir
    Settings can point at); returns `directory`."""
    target = directory / PSEUDO_CODE / "LC_MESSAGES" / "messages.mo"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as file:
        write_mo(file, pseudo_catalog(template))
    return directory


# --- what the bot said ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Said:
    """One text the bot showed a person: where (the Bot API method and part) and what."""

    where: str
    text: str


# The methods that put text in front of a person, and the parameters holding it.
_TEXT_PARAMS = {
    "sendMessage": ("text",),
    "editMessageText": ("text",),
    "sendPhoto": ("caption",),
    "sendDocument": ("caption",),
    "editMessageCaption": ("caption",),
    "sendInvoice": ("title", "description"),
    "answerCallbackQuery": ("text",),
    "answerPreCheckoutQuery": ("error_message",),
}


def said_to(telegram: FakeTelegram, people: Iterable[int]) -> list[Said]:
    """Every text the bot sent the people in `people` (chats) or as answers to their taps and
    payments: messages, captions and their edits, buttons, callback answers, invoices (with
    their price labels) and pre-checkout refusals — each version, not just the last. Only calls
    the stand-in accepted count: a refused one showed nobody anything."""
    chats = set(people)
    queries = _their_queries(telegram, chats)
    found: list[Said] = []
    for number, call in enumerate(telegram.calls):
        if call.status != 200 or not _for_them(call, chats, queries):
            continue
        where = f"#{number} {call.method}"
        html_mode = str(call.params.get("parse_mode") or "").upper() == "HTML"
        for name in _TEXT_PARAMS.get(call.method, ()):
            value = call.params.get(name)
            if isinstance(value, str) and value:
                found.append(Said(f"{where} {name}", _plain(value) if html_mode else value))
        for label in _labels(call):
            found.append(Said(f"{where} button/price", label))
    return found


def _their_queries(telegram: FakeTelegram, chats: set[int]) -> set[str]:
    """The ids of the callback and pre-checkout queries these people made."""
    queries = set()
    for call in telegram.calls:
        if call.method != "getUpdates" or not isinstance(call.response.get("result"), list):
            continue
        for update in call.response["result"]:
            for kind in ("callback_query", "pre_checkout_query"):
                query = update.get(kind)
                if isinstance(query, dict) and query.get("from", {}).get("id") in chats:
                    queries.add(str(query["id"]))
    return queries


def _for_them(call: FakeCall, chats: set[int], queries: set[str]) -> bool:
    for key in ("callback_query_id", "pre_checkout_query_id"):
        if key in call.params:
            return str(call.params[key]) in queries
    return call.params.get("chat_id") in chats


def _labels(call: FakeCall) -> list[str]:
    """The buttons of a message's keyboard and an invoice's price labels."""
    markup = call.params.get("reply_markup")
    if isinstance(markup, str):
        markup = json.loads(markup)
    labels = []
    if isinstance(markup, dict):
        for row in markup.get("inline_keyboard", []):
            labels += [str(button.get("text", "")) for button in row]
    prices = call.params.get("prices")
    if isinstance(prices, str):
        prices = json.loads(prices)
    if isinstance(prices, list):
        labels += [str(price.get("label", "")) for price in prices if isinstance(price, dict)]
    return labels


def _plain(text: str) -> str:
    """Telegram HTML as a person reads it: tags (and the URLs in them) gone, entities read."""
    return html.unescape(re.sub(r"<[^<>]*>", "", text))


# --- what must not be there ---------------------------------------------------------------------

_NOT_MESSAGES = [
    re.compile(pattern)
    for pattern in (
        r"(?:https?|tg)://\S+",  # URLs (deep links, receipts, Checkout)
        r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b",  # e-mail addresses (Checkout's customer)
        r"(?<![\w/])/[A-Za-z0-9_]+(?:@\w+)?",  # /commands
        r"@\w{3,}",  # @usernames
        # Identifiers: Stripe's (cs_test_…, pi_…, re_…) and any long token with a digit in it
        # (Telegram's payment charge ids).
        r"\b(?:cs|pi|ch|re|cus|evt|pm|py|txn|prod|price)_[A-Za-z0-9_]+",
        r"\b(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{16,}",
        r"\b(?:USD|EUR|XTR)\b",  # the stories' currencies, by their codes (a sales heading)
        # Money as Babel writes it for a locale whose formats are English: "US$", "CA$",
        # "9.99 EUR", "USD 9.99".
        r"\b[A-Z]{1,3}\$",
        r"\b[A-Z]{3}\s?(?=[\d\u00a0\u202f])|(?<=[\d\u00a0\u202f])\s?[A-Z]{3}\b",
        # A moment in the en_XA locale's formats, which are English's (Babel has no en_XA): the
        # month's and the day's names and AM/PM are locale data, not catalog text.
        r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s\d{1,2}\b",
        r"(?<=\d)[\s\u202f\u00a0]?(?:AM|PM)\b",
        r"\d[\d.,:]*",  # numbers, order numbers, times
    )
]
LETTERS = re.compile(r"[A-Za-z]{2,}")


def unmarked(said: Iterable[Said], data: Iterable[str]) -> list[tuple[Said, list[str]]]:
    """Each text that still has runs of two or more ASCII letters once the people's own
    `data` (product titles, descriptions, goods, names: the test's, in another script) and the
    things above are taken out — with those runs."""
    own = sorted({item for item in data if item}, key=len, reverse=True)
    flagged = []
    for item in said:
        text = item.text
        for value in own:
            text = text.replace(value, " ")
        for pattern in _NOT_MESSAGES:
            text = pattern.sub(" ", text)
        runs = LETTERS.findall(text)
        if runs:
            flagged.append((item, runs))
    return flagged


def report(flagged: list[tuple[Said, list[str]]]) -> str:
    """The failure message: every run of English, with the text it is in and where that was
    sent first (a text sent again, say a keyboard redrawn, is listed once, with a count)."""
    texts: dict[str, list[Said]] = {}
    runs_of: dict[str, list[str]] = {}
    for said, runs in flagged:
        texts.setdefault(said.text, []).append(said)
        runs_of[said.text] = runs
    lines = [
        f"{len(texts)} different texts the bot sent in {PSEUDO_CODE} ({len(flagged)} in all) "
        "have English left in them — put them through lang.t / lang.nt (and `make messages`):"
    ]
    for text, where in texts.items():
        again = f" (and {len(where) - 1} more times)" if len(where) > 1 else ""
        english = " ".join(dict.fromkeys(runs_of[text]))
        lines.append(f"- {where[0].where}{again}: {english}\n    {text!r}")
    return "\n".join(lines)
