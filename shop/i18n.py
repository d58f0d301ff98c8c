"""The shop in the buyer's language: gettext catalogs (managed with Babel, English is the
message id), which language a person gets, and money, numbers and dates in that locale.

A `Lang` is passed explicitly to whatever renders text (never a global, DESIGN.md): a handler
has `context.lang`, a message the outbox sends later uses the language stored on its order.

Every message goes through `lang.t(...)` (or `lang.nt(...)` for plurals) with the English text
as a literal, so `make messages` (pybabel extract -k t -k nt:1,2) finds it; values go in as
named `{placeholders}`, filled after translation. Texts kept in module-level tables are marked
with `N_` and translated where they are shown. In a right-to-left language every value is
wrapped in Unicode isolates, so a Latin title, a price or an order number keeps its own
direction inside the sentence instead of scrambling it (Unicode's bidi algorithm, UAX #9);
`Verbatim` opts a value out (a URL inside an href).
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from babel.lists import format_list
from babel.messages import mofile, pofile
from babel.numbers import format_decimal

from shop.money import format_money

log = logging.getLogger(__name__)

# The compiled catalogs: locales/<code>/LC_MESSAGES/messages.mo, built from the .po files by
# the install step (`make catalogs`; the Dockerfile runs the same). A catalog that was never
# compiled (a deploy that runs `python -m bot` straight from a clone, as the Procfile does) is
# read from its .po instead, so every deploy speaks every shipped language.
SHIPPED_CATALOGS = Path(__file__).resolve().parents[1] / "locales"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"  # the message ids themselves: needs no catalog

FSI, PDI = "\u2068", "\u2069"  # first-strong isolate … pop directional isolate

# Checkout's languages (Stripe's `locale` parameter); any other language gets "auto", which
# lets Stripe follow the buyer's browser.
STRIPE_CHECKOUT_LOCALES = frozenset(
    {
        "bg", "cs", "da", "de", "el", "en", "en-GB", "es", "es-419", "et", "fi", "fil", "fr",
        "fr-CA", "hr", "hu", "id", "it", "ja", "ko", "lt", "lv", "ms", "mt", "nb", "nl", "pl",
        "pt", "pt-BR", "ro", "ru", "sk", "sl", "sv", "th", "tr", "vi", "zh", "zh-HK", "zh-TW",
    }
)  # fmt: skip


def N_(message: str) -> str:  # noqa: N802 - gettext's own name for "mark, translate later"
    """Mark a message kept in a table for extraction; `lang.t(it)` translates it where shown."""
    return message


class Verbatim(str):
    """A value put into a message exactly as it is, even in a right-to-left language: a URL
    inside an href, or text that is already isolated."""

    __slots__ = ()


def canonical(code: str) -> str:
    """A language tag as the catalogs name it: "pt-br" and "pt_BR" are both "pt_BR"."""
    language, _, region = code.strip().replace("-", "_").partition("_")
    language = language.lower()
    if not region:
        return language
    return f"{language}_{region.upper() if len(region) == 2 else region.title()}"


def stripe_locale(code: str | None) -> str:
    """Checkout's `locale` for a language: Stripe's own tag when it has one ("pt-BR", "es"),
    else "auto" (Stripe then follows the buyer's browser)."""
    if not code:
        return "auto"
    tag = canonical(code).replace("_", "-")
    for candidate in (tag, tag.partition("-")[0]):
        if candidate in STRIPE_CHECKOUT_LOCALES:
            return candidate
    return "auto"


def _babel_locale(code: str) -> Locale:
    """The locale that formats for `code`: itself, else its language, else English."""
    for candidate in (code, code.partition("_")[0], SOURCE_LANGUAGE):
        try:
            return Locale.parse(candidate)
        except (UnknownLocaleError, ValueError):
            continue
    raise AssertionError("Babel always knows English")


class Lang:
    """One language: its translations and its locale's way with numbers, money and dates."""

    def __init__(self, code: str, translations: gettext.NullTranslations) -> None:
        self.code = code
        self.locale = _babel_locale(code)
        self._translations = translations
        self.rtl = self.locale.character_order == "right-to-left"

    def __repr__(self) -> str:
        return f"Lang({self.code!r})"

    @property
    def name(self) -> str:
        """The language's name in itself ("Español", "فارسی"), for the /language buttons."""
        name = self.locale.get_display_name(self.locale) or self.code
        return name[:1].upper() + name[1:]

    def t(self, message: str, /, **values: object) -> str:
        """`message` in this language, its `{placeholders}` filled with `values`."""
        return self._fill(self._translations.gettext(message), values)

    def marked(self, message: str, /, **values: object) -> str:
        """A message marked with `N_` where it was written and kept as data (shop/said.py
        stores it with an alert), translated like `t`; never a text that was not marked."""
        return self._fill(self._translations.gettext(message), values)

    def nt(self, singular: str, plural: str, n: int, /, **values: object) -> str:
        """The plural form of this language for `n` (Russian has three, Persian two), with
        `{n}` filled as this locale writes the number unless given."""
        values.setdefault("n", self.number(n))
        return self._fill(self._translations.ngettext(singular, plural, n), values)

    def _fill(self, text: str, values: Mapping[str, object]) -> str:
        if self.rtl:
            values = {key: self._isolate(value) for key, value in values.items()}
        return text.format_map(values)

    @staticmethod
    def _isolate(value: object) -> object:
        if isinstance(value, Verbatim):
            return value
        return f"{FSI}{value}{PDI}"

    def number(self, value: int) -> str:
        return format_decimal(value, locale=self.locale)

    def money(self, amount: int, currency: str) -> str:
        """An amount as people of this locale write it; the currency stays the order's."""
        return format_money(amount, currency, str(self.locale))

    def moment(self, timestamp: int) -> str:
        """A point in time for a person whose time zone Telegram does not tell us: the
        locale's date and time in UTC, with the zone spelled out."""
        when = dt.datetime.fromtimestamp(timestamp, dt.UTC)
        date = format_date(when, "medium", locale=self.locale)
        time = format_time(when, "short", tzinfo=dt.UTC, locale=self.locale)
        return self.t("{date}, {time} UTC", date=date, time=time)

    def join(self, items: Iterable[str]) -> str:
        """Items as this language lists them: "A, B and C", "A, B y C"."""
        return format_list(list(items), locale=self.locale)


class Languages:
    """The languages this shop offers, and the one each person gets."""

    def __init__(self, langs: Mapping[str, Lang], default: str) -> None:
        if default not in langs:
            raise ValueError(f"the default language {default!r} is not offered")
        self._langs = dict(langs)
        self.default = langs[default]

    @classmethod
    def load(
        cls,
        offered: Iterable[str] | None = None,
        default: str = SOURCE_LANGUAGE,
        directory: Path = SHIPPED_CATALOGS,
    ) -> Languages:
        """The compiled catalogs of `offered` (every shipped one when None) from `directory`."""
        codes = list(offered) if offered is not None else shipped_languages(directory)
        return cls({code: _load_lang(code, directory) for code in codes}, default)

    @property
    def offered(self) -> tuple[Lang, ...]:
        return tuple(self._langs.values())

    def get(self, code: str | None) -> Lang:
        """The language stored for someone (an order's, a choice); gone or None: the default."""
        return self.find(code) or self.default

    def find(self, code: str | None) -> Lang | None:
        """Exactly this language when it is offered ("pt-BR" is pt_BR), else None: a tapped
        /language button is taken only for a language the shop offers now."""
        return self._langs.get(canonical(code)) if code else None

    def match(self, code: str | None) -> Lang | None:
        """The offered language closest to a tag someone's software reports, with a region
        fallback ("pt-BR" → pt_BR → pt → any pt_*); None when the shop speaks none like it."""
        if not code:
            return None
        tag = canonical(code)
        language = tag.partition("_")[0]
        for candidate in (tag, language):
            if candidate in self._langs:
                return self._langs[candidate]
        for offered, lang in self._langs.items():  # "pt" or "pt-PT" → pt_BR
            if offered.partition("_")[0] == language:
                return lang
        return None

    def pick(self, chosen: str | None, telegram_code: str | None) -> Lang:
        """A person's language: their /language choice, else their Telegram app's language
        with a region fallback ("pt-BR" → pt_BR → pt → any pt_*), else the shop's default."""
        return self.find(chosen) or self.match(telegram_code) or self.default


def shipped_languages(directory: Path = SHIPPED_CATALOGS) -> list[str]:
    """English and every language with a catalog in `directory` (compiled or not), sorted."""
    found = {
        path.parent.parent.name
        for pattern in (f"*/LC_MESSAGES/{DOMAIN}.mo", f"*/LC_MESSAGES/{DOMAIN}.po")
        for path in directory.glob(pattern)
    }
    return [SOURCE_LANGUAGE, *sorted(found - {SOURCE_LANGUAGE})]


def _load_lang(code: str, directory: Path) -> Lang:
    if code == SOURCE_LANGUAGE:
        return Lang(code, gettext.NullTranslations())
    catalog = directory / code / "LC_MESSAGES" / DOMAIN
    compiled, source = catalog.with_suffix(".mo"), catalog.with_suffix(".po")
    if compiled.is_file():
        with compiled.open("rb") as file:
            return Lang(code, gettext.GNUTranslations(file))
    if source.is_file():
        log.info("%s: no compiled catalog, reading %s (make catalogs compiles it)", code, source)
        return Lang(code, gettext.GNUTranslations(_compiled_in_memory(source)))
    raise FileNotFoundError(f"no catalog for {code!r} at {compiled} or {source}")


def _compiled_in_memory(source: Path) -> io.BytesIO:
    """What `pybabel compile` would write for this .po (fuzzy entries left out likewise)."""
    with source.open("rb") as file:
        catalog = pofile.read_po(file, domain=DOMAIN)  # its own header names the plurals
    compiled = io.BytesIO()
    mofile.write_mo(compiled, catalog)
    compiled.seek(0)
    return compiled
