"""What a translation must keep of its message id, as functions that list the problems of one
catalog (tests/test_catalogs.py runs them over the shipped catalogs, and over a pseudo catalog
and deliberately broken ones, so a check that never fires would show).

A message reaches the buyer through `str.format_map` (every message, placeholders or not, so
`{{` is a literal brace) and usually as Telegram HTML, so a translation that drops a
`{placeholder}`, invents one, loses a `<b>` or writes a bare `&` breaks at run time — in a
language the developer never reads. These checks catch that when the catalog is committed.
"""

from __future__ import annotations

import gettext
import re
from collections import Counter
from pathlib import Path
from string import Formatter

from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from sandbox.fake_telegram import parse_html

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "locales"
TEMPLATE = LOCALES / "messages.pot"

# An HTML tag as it appears in a message: <b>, </b>, <a href="{url}">.
TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?>")
# Numbers a plural rule is tried on: small ones, and the large round ones some rules single out.
PLURAL_SAMPLES = (*range(0, 1001), 1_000_000, 2_000_000, 1_000_001, 10_000_000)


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file)


def catalog_paths() -> list[Path]:
    return sorted(LOCALES.glob("*/LC_MESSAGES/messages.po"))


def code_of(path: Path) -> str:
    """locales/pt_BR/LC_MESSAGES/messages.po → "pt_BR"."""
    return path.parent.parent.name


def entries(catalog: Catalog) -> list[Message]:
    """The catalog's messages without its header (whose id is "")."""
    return [message for message in catalog if message.id]


def forms(message: Message) -> tuple[str, ...]:
    """The translation's forms: one for a plain message, nplurals for a plural one."""
    string = message.string
    return tuple(string) if isinstance(string, (tuple, list)) else (string or "",)


def ids(message: Message) -> tuple[str, ...]:
    """The message id's texts: (singular,) or (singular, plural)."""
    return tuple(message.id) if isinstance(message.id, (tuple, list)) else (message.id,)


def shown(message: Message) -> str:
    """A message id as a problem report quotes it."""
    return repr(ids(message)[0])


# --- completeness ---------------------------------------------------------------------------------


def untranslated(catalog: Catalog) -> list[str]:
    """Messages with an empty form or marked fuzzy (gettext then shows the English)."""
    problems = []
    for message in entries(catalog):
        if message.fuzzy:
            problems.append(f"fuzzy: {shown(message)}")
        elif any(not form for form in forms(message)):
            problems.append(f"untranslated: {shown(message)}")
    return problems


def template_differences(catalog: Catalog, template: Catalog) -> list[str]:
    """Messages of the template the catalog lacks, and ones it has that the template dropped
    (a plural message counts as different from a plain one of the same text)."""
    wanted, have = template_ids(template), template_ids(catalog)
    return [f"missing: {key!r}" for key in sorted(wanted - have, key=repr)] + [
        f"not in the template: {key!r}" for key in sorted(have - wanted, key=repr)
    ]


# --- placeholders -------------------------------------------------------------------------------


def fields(text: str) -> set[tuple[str, str, str]]:
    """The `{placeholders}` of a format string as (name, conversion, format spec); ValueError
    when str.format_map could not read it (a lone `{` or `}`)."""
    found = set()
    for _, name, spec, conversion in Formatter().parse(text):
        if name is not None:
            found.add((name, conversion or "", spec or ""))
    return found


def one_only_forms(plural_expr: str, nplurals: int) -> set[int]:
    """The plural forms used for exactly n == 1 and no other number: those alone may say "one"
    instead of `{n}` ("one item")."""
    choose = gettext.c2py(plural_expr)
    numbers: dict[int, set[int]] = {index: set() for index in range(nplurals)}
    for n in PLURAL_SAMPLES:
        numbers.setdefault(choose(n), set()).add(n)
    return {index for index, seen in numbers.items() if seen == {1}}


def placeholder_problems(catalog: Catalog) -> list[str]:
    """Every translated form keeps every placeholder of its id and adds none (a plural form
    used only for n == 1 may leave out `{n}`), and str.format_map can read it."""
    problems = []
    try:
        singular_only = one_only_forms(catalog.plural_expr, catalog.num_plurals)
    except ValueError:  # an unreadable Plural-Forms header: plural_problems reports it
        singular_only = set()
    for message in entries(catalog):
        try:
            wanted = set().union(*(fields(text) for text in ids(message)))
        except ValueError as error:
            problems.append(f"the message id {shown(message)} is no format string: {error}")
            continue
        for index, form in enumerate(forms(message)):
            if not form:
                continue
            try:
                have = fields(form)
            except ValueError as error:
                problems.append(f"{shown(message)} → {form!r}: cannot be filled ({error})")
                continue
            required = wanted
            if message.pluralizable and index in singular_only:
                required = {field for field in wanted if field[0] != "n"}
            lost, added = required - have, have - wanted
            if lost or added:
                problems.append(f"{shown(message)} → {form!r}: {_changes(lost, added)}")
    return problems


def _changes(lost: set[tuple[str, str, str]], added: set[tuple[str, str, str]]) -> str:
    parts = [f"lost {sorted(map(_braced, lost))}"] if lost else []
    return "; ".join(parts + ([f"added {sorted(map(_braced, added))}"] if added else []))


def _braced(field: tuple[str, str, str]) -> str:
    name, conversion, spec = field
    conversion = f"!{conversion}" if conversion else ""
    return "{" + name + conversion + (f":{spec}" if spec else "") + "}"


# --- HTML ---------------------------------------------------------------------------------------


class _Zero(dict[str, object]):
    """Fills every placeholder with 0, so a message can be parsed as the bot sends it."""

    def __missing__(self, key: str) -> object:
        return 0


def telegram_html_error(text: str) -> str | None:
    """Why Telegram would refuse `text` (filled, placeholders as 0) as HTML; None if it would
    not (only its tags, balanced, and only &lt; &gt; &amp; &quot; and numeric entities)."""
    try:
        parse_html(text.format_map(_Zero()))
    except (ValueError, IndexError, KeyError, AttributeError) as error:
        return str(error)
    return None


def html_problems(catalog: Catalog) -> list[str]:
    """A message id that is valid Telegram HTML keeps the same multiset of tags in every
    translated form, and each form is valid Telegram HTML too. (An id that is no HTML at all —
    plain text with a literal "<id>" — is sent without parse_mode; its text is the
    translator's.)"""
    problems = []
    for message in entries(catalog):
        if any(telegram_html_error(text) is not None for text in ids(message)):
            continue
        expected = [Counter(TAG.findall(text)) for text in ids(message)]
        for form in forms(message):
            if not form:
                continue
            error = telegram_html_error(form)
            if error is not None:
                problems.append(f"{shown(message)} → {form!r}: not Telegram HTML ({error})")
                continue
            tags = Counter(TAG.findall(form))
            if tags not in expected:
                lost = expected[-1] - tags
                added = tags - expected[-1]
                problems.append(
                    f"{shown(message)} → {form!r}: tags differ "
                    f"(lost {sorted(lost.elements())}, added {sorted(added.elements())})"
                )
    return problems


# --- plural forms -------------------------------------------------------------------------------


def plural_header(catalog: Catalog) -> tuple[int, str] | None:
    """The catalog's own Plural-Forms header as (nplurals, plural expression)."""
    for name, value in catalog.mime_headers:
        if name.lower() == "plural-forms":
            match = re.fullmatch(r"\s*nplurals\s*=\s*(\d+)\s*;\s*plural\s*=\s*(.+?)\s*;?\s*", value)
            if match:
                return int(match.group(1)), match.group(2)
    return None


def _squeeze(expression: str) -> str:
    return re.sub(r"\s+", "", expression)


def plural_problems(catalog: Catalog, code: str) -> list[str]:
    """The Plural-Forms header is CLDR's for the language (as Babel knows it), picks the forms
    as CLDR's categories do, and every plural message has exactly nplurals forms."""
    header = plural_header(catalog)
    if header is None:
        return ["no readable Plural-Forms header"]
    nplurals, expression = header
    expected = get_plural(code)
    problems = []
    if (nplurals, _squeeze(expression)) != (expected.num_plurals, _squeeze(expected.plural_expr)):
        problems.append(
            f"Plural-Forms is nplurals={nplurals}; plural={expression}, but CLDR's is "
            f"{expected.plural_forms}"
        )
    problems += _category_problems(code, nplurals, expression)
    for message in entries(catalog):
        if message.pluralizable and len(forms(message)) != nplurals:
            problems.append(f"{shown(message)} has {len(forms(message))} forms, not {nplurals}")
        if not message.pluralizable and len(forms(message)) != 1:
            problems.append(f"{shown(message)} is no plural message but has plural forms")
    return problems


def _category_problems(code: str, nplurals: int, expression: str) -> list[str]:
    """One form per CLDR category and one category per form, over many numbers."""
    try:
        choose = gettext.c2py(expression)
    except ValueError as error:
        return [f"the plural expression cannot be read: {error}"]
    rule = Locale.parse(code).plural_form
    form_of: dict[str, set[int]] = {}
    category_of: dict[int, set[str]] = {}
    for n in PLURAL_SAMPLES:
        form, category = choose(n), rule(n)
        if not 0 <= form < nplurals:
            return [f"the plural expression picks form {form} for {n}, of {nplurals}"]
        form_of.setdefault(category, set()).add(form)
        category_of.setdefault(form, set()).add(category)
    mixed = {c: f for c, f in form_of.items() if len(f) > 1} | {
        f"form {f}": c for f, c in category_of.items() if len(c) > 1
    }
    return [f"plural forms do not follow CLDR's categories for {code}: {mixed}"] if mixed else []


# --- the template against the code --------------------------------------------------------------

# The Makefile's `pybabel extract --no-default-keywords -k t -k nt:1,2 -k N_`.
KEYWORDS: dict[str, tuple[int, ...] | None] = {"t": None, "nt": (1, 2), "N_": None}


def extracted_ids(root: Path = ROOT) -> set[str | tuple[str, ...]]:
    """The message ids `make messages` would write now: Babel's own extraction with babel.cfg's
    mapping (bot/, shop/, webhooks/) and the Makefile's keywords."""
    with (root / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)  # type: ignore[no-untyped-call]
    found: set[str | tuple[str, ...]] = set()
    for _, _, message, _, _ in extract_from_dir(
        str(root), method_map, options_map, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def template_ids(template: Catalog) -> set[str | tuple[str, ...]]:
    return {m.id if isinstance(m.id, str) else tuple(m.id) for m in entries(template)}
