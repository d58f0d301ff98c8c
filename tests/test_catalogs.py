"""The translation catalogs (locales/): complete, true to their message ids, CLDR's plural
rules, a template as current as the code, and code whose every message extraction can find.

The checks themselves live in tests/catalog_checks.py and tests/message_calls.py; each is also
run here on a catalog or code known to be wrong, so one that stopped seeing would fail too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

from tests.catalog_checks import (
    TEMPLATE,
    catalog_paths,
    code_of,
    extracted_ids,
    html_problems,
    placeholder_problems,
    plural_problems,
    read_catalog,
    telegram_html_error,
    template_differences,
    template_ids,
    untranslated,
)
from tests.message_calls import Module, call_problems
from tests.pseudo_locale import pseudo_catalog

SHIPPED = ("es", "pt_BR", "ru", "uk", "id", "fa")
CATALOGS = {code_of(path): path for path in catalog_paths()}


def _listed(problems: list[str], most: int = 40) -> str:
    shown = "\n".join(f"  {problem}" for problem in problems[:most])
    more = f"\n  … and {len(problems) - most} more" if len(problems) > most else ""
    return f"{len(problems)} problems:\n{shown}{more}"


@pytest.fixture(scope="module")
def template() -> Catalog:
    return read_catalog(TEMPLATE)


@pytest.fixture(scope="module", params=sorted(CATALOGS))
def catalog(request: pytest.FixtureRequest) -> tuple[str, Catalog]:
    code = str(request.param)
    return code, read_catalog(CATALOGS[code])


def test_every_shipped_language_has_a_catalog() -> None:
    missing = sorted(set(SHIPPED) - set(CATALOGS))
    assert not missing, f"no locales/<code>/LC_MESSAGES/messages.po for {missing}"


def test_every_catalog_has_every_message_of_the_template(
    catalog: tuple[str, Catalog], template: Catalog
) -> None:
    code, messages = catalog
    assert str(messages.locale) == code, f"its Language header says {messages.locale}"
    problems = template_differences(messages, template)
    assert not problems, f"{code}: run `make messages`. " + _listed(problems)


def test_every_catalog_is_completely_translated(catalog: tuple[str, Catalog]) -> None:
    """Fails until the translators are done: an empty or fuzzy message shows in English."""
    code, messages = catalog
    problems = untranslated(messages)
    assert not problems, f"{code}: translate these in locales/{code}/LC_MESSAGES/messages.po. " + (
        _listed(problems, most=15)
    )


def test_translations_keep_their_placeholders(catalog: tuple[str, Catalog]) -> None:
    code, messages = catalog
    problems = placeholder_problems(messages)
    assert not problems, f"{code}: " + _listed(problems)


def test_translations_keep_their_html(catalog: tuple[str, Catalog]) -> None:
    code, messages = catalog
    problems = html_problems(messages)
    assert not problems, f"{code}: " + _listed(problems)


def test_plural_forms_are_cldrs(catalog: tuple[str, Catalog]) -> None:
    code, messages = catalog
    problems = plural_problems(messages, code)
    assert not problems, f"{code}: " + _listed(problems)


def test_the_template_is_as_current_as_the_code(template: Catalog) -> None:
    extracted, listed = extracted_ids(), template_ids(template)
    problems = [f"in the code, not the template: {key!r}" for key in extracted - listed] + [
        f"in the template, no longer in the code: {key!r}" for key in listed - extracted
    ]
    assert not problems, "locales/messages.pot is stale: run `make messages`. " + _listed(
        sorted(problems)
    )


def test_every_translated_call_hands_extraction_a_literal() -> None:
    problems = call_problems()
    assert not problems, (
        "extraction cannot find these messages: give `.t(` / `.nt(` string literals "
        "(or `lang.t(TABLE[key])` of an N_ table). " + _listed(problems)
    )


# --- the checks see what they are for ------------------------------------------------------------


def _catalog(code: str, *messages: tuple[str | tuple[str, str], str | tuple[str, ...]]) -> Catalog:
    catalog = Catalog(locale=code)
    for message_id, string in messages:
        catalog.add(message_id, string)
    return catalog


def test_the_pseudo_catalog_passes_every_check(template: Catalog) -> None:
    """Every real message id, "translated" by the pseudo-locale that keeps what must be kept:
    the checks run over real ids and non-empty forms, and find nothing."""
    pseudo = pseudo_catalog()
    pseudo.locale = "en"  # type: ignore[assignment,unused-ignore]  # Babel parses the code
    assert template_differences(pseudo, template) == []
    assert untranslated(pseudo) == []
    assert placeholder_problems(pseudo) == []
    assert html_problems(pseudo) == []
    assert plural_problems(pseudo, "en") == []


def test_an_untranslated_or_fuzzy_message_is_reported() -> None:
    catalog = _catalog("es", ("Done", ""), (("{n} item", "{n} items"), ("{n} artículo", "")))
    catalog.add("Cart", "Carrito", flags=["fuzzy"])
    assert sorted(untranslated(catalog)) == [
        "fuzzy: 'Cart'",
        "untranslated: 'Done'",
        "untranslated: '{n} item'",
    ]


def test_missing_and_stale_messages_are_reported() -> None:
    template = _catalog("es", ("A", ""), ("B", ""))
    catalog = _catalog("es", ("A", "a"), ("C", "c"))
    assert template_differences(catalog, template) == ["missing: 'B'", "not in the template: 'C'"]


def test_lost_added_and_broken_placeholders_are_reported() -> None:
    catalog = _catalog(
        "ru",
        ("{title} costs {price}", "{title} стоит"),
        ("Order #{id}", "Заказ #{number}"),
        ("Open {{braces}}", "Открыть {скобки"),
        (("{n} item", "{n} items"), ("{n} товар", "{n} товара", "товаров")),
        ("Fine {a}", "Хорошо {a}"),
    )
    problems = placeholder_problems(catalog)
    assert len(problems) == 4, problems
    assert "lost ['{price}']" in problems[0]
    assert "lost ['{id}']; added ['{number}']" in problems[1]
    assert "cannot be filled" in problems[2]
    assert "'товаров'" in problems[3] and "lost ['{n}']" in problems[3]


def test_a_form_used_for_one_alone_may_say_one() -> None:
    english = _catalog("en", (("one item", "{n} items"), ("one item", "{n} items")))
    assert placeholder_problems(english) == []
    # Russian's first form is also 21, 31, …: it must say the number.
    russian = _catalog("ru", (("{n} item", "{n} items"), ("один товар", "{n} товара", "{n} т.")))
    assert "lost ['{n}']" in placeholder_problems(russian)[0]


def test_lost_tags_and_bad_html_are_reported() -> None:
    catalog = _catalog(
        "es",
        ("<b>{title}</b> — {price}", "{title} — {price}"),
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ('See <a href="{url}">the page</a>', 'Ver <a href="{url}">la página</b>'),
        ("<i>Note</i>", "<u>Nota</u>"),
        ("Usage: /stock <id>", "Uso: /stock <identificador>"),  # plain text: the translator's
        ("Fine <code>{key}</code>", "Bien <code>{key}</code>"),
    )
    problems = html_problems(catalog)
    assert len(problems) == 4, problems
    assert "tags differ (lost ['</b>', '<b>'], added [])" in problems[0]
    assert "not Telegram HTML" in problems[1] and "&amp;" in problems[1]
    assert "not Telegram HTML" in problems[2]
    assert "tags differ" in problems[3]
    assert telegram_html_error("<blink>hi</blink>") is not None


def test_wrong_plural_headers_and_form_counts_are_reported() -> None:
    catalog = _catalog("ru", (("{n} item", "{n} items"), ("{n} товар", "{n} товара")))
    catalog.mime_headers = [
        (name, value) for name, value in catalog.mime_headers if name != "Plural-Forms"
    ] + [("Plural-Forms", "nplurals=2; plural=(n != 1);")]
    problems = plural_problems(catalog, "ru")
    assert any("but CLDR's is nplurals=3" in problem for problem in problems), problems
    assert any("do not follow CLDR's categories" in problem for problem in problems), problems
    right = _catalog("ru", (("{n} item", "{n} items"), ("{n} товар", "{n} товара")))
    assert plural_problems(right, "ru") == ["'{n} item' has 2 forms, not 3"]


def test_the_extraction_reads_the_code_as_make_messages_does(template: Catalog) -> None:
    """Babel's extraction through babel.cfg finds the code's messages, plural ones as pairs."""
    extracted = extracted_ids()
    assert "This button has expired. Please use /catalog." in extracted
    assert ("…and {n} more", "…and {n} more") in extracted
    assert "✅ delivered" in extracted  # an N_ table's
    assert len(template_ids(template)) > 10


def test_calls_extraction_cannot_read_are_reported() -> None:
    code = """
from bot.labels import LABELS
from bot import labels
from shop.i18n import N_

OWN = {1: N_("One"), 2: N_("Two")}
MIXED = {1: N_("One"), 2: "Two"}

def render(lang, name, key):
    lang.t("Hello {name}", name=name)
    lang.t("Hello " "{name}", name=name)
    lang.nt("{n} item", "{n} items", 2)
    lang.t(OWN[key]); lang.t(LABELS[key]); lang.t(labels.LABELS[key])
    lang.t(f"Hello {name}")
    lang.t("Hello " + name)
    lang.t(name)
    lang.nt("{n} item", f"{name} items", 2)
    lang.t(MIXED[key])
    lang.t(*name)
    N_(name)
"""
    modules = [
        Module("bot.labels", "bot/labels.py", ast.parse('LABELS = (N_("A"), N_("B"))')),
        Module("bot.render", "bot/render.py", ast.parse(code)),
    ]
    problems = call_problems(modules)
    assert [problem.split(": ", 1)[0] for problem in problems] == [
        f"bot/render.py:{line}" for line in (14, 15, 16, 17, 18, 19, 20)
    ], problems
    assert "is an f-string" in problems[0] and "is not a string literal" in problems[1]


def test_the_checks_read_the_real_tree() -> None:
    """The AST check walks bot/, shop/ and webhooks/ (not an empty list)."""
    from tests.message_calls import modules

    names = {module.name for module in modules()}
    assert {"bot.texts", "shop.i18n", "webhooks.pages"} <= names
    assert Path(TEMPLATE).is_file()
