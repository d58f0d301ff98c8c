"""DEFAULT_LANGUAGE and LANGUAGES (issue 14, item 2): codes as people write them ("pt-BR") are
the catalogs' ("pt_BR"), an unknown one is a problem that names the shipped ones, the default is
always offered, and unset means every shipped language."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

from shop.i18n import Languages, shipped_languages
from tests.config_env import problems_with, settings

SHIPPED = ("en", "es", "fa", "id", "pt_BR", "ru", "uk")
SHIPPED_TEXT = "use one of en, es, fa, id, pt_BR, ru, uk"


def test_the_shipped_languages_are_the_seven_of_the_readme() -> None:
    assert tuple(shipped_languages()) == SHIPPED
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    languages = readme.split("\n## Languages\n", 1)[1].split("\n## ", 1)[0]
    assert all(f"(`{code}`" in languages for code in SHIPPED)
    assert "make language LANG_CODE=" in languages and "make catalogs" in languages


def test_unset_offers_every_shipped_language_with_english_the_default() -> None:
    loaded = settings()
    assert (loaded.default_language, loaded.languages) == ("en", SHIPPED)
    spoken = Languages.load(loaded.languages, loaded.default_language, loaded.catalog_dir)
    assert tuple(lang.code for lang in spoken.offered) == SHIPPED
    assert settings(LANGUAGES="", DEFAULT_LANGUAGE=" ").languages == SHIPPED  # blank is unset


def test_codes_are_read_as_people_write_them() -> None:
    loaded = settings(LANGUAGES=" en , pt-BR,PT_br, ES ,,ru", DEFAULT_LANGUAGE="pt-br")
    assert loaded.languages == ("en", "pt_BR", "es", "ru")  # in the order given, each once
    assert loaded.default_language == "pt_BR"


def test_the_default_is_offered_even_when_left_out() -> None:
    loaded = settings(LANGUAGES="en,ru", DEFAULT_LANGUAGE="es")
    assert loaded.languages == ("es", "en", "ru")
    spoken = Languages.load(loaded.languages, loaded.default_language, loaded.catalog_dir)
    assert spoken.default.code == "es" and spoken.pick(None, "de").code == "es"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"LANGUAGES": "en,de"}, "LANGUAGES has “de”,"),
        ({"LANGUAGES": "xx, es, pt-PT, zz"}, "LANGUAGES has “xx”, “pt-PT”, “zz”,"),
        ({"DEFAULT_LANGUAGE": "german"}, "DEFAULT_LANGUAGE has “german”,"),
        ({"DEFAULT_LANGUAGE": "pt"}, "DEFAULT_LANGUAGE has “pt”,"),  # only pt_BR is shipped
    ],
)
def test_an_unknown_code_is_one_problem_naming_the_shipped_ones(
    env: dict[str, str], named: str
) -> None:
    (problem,) = problems_with(**env)
    assert problem.startswith(named) and "does not speak" in problem
    assert SHIPPED_TEXT in problem and "README: Languages" in problem


def test_both_wrong_are_both_reported_and_nothing_only_blank_is_offered() -> None:
    found = problems_with(LANGUAGES="en,klingon", DEFAULT_LANGUAGE="tlh")
    assert [p.split()[0] for p in found] == ["LANGUAGES", "DEFAULT_LANGUAGE"]
    (empty,) = problems_with(LANGUAGES=" , ,")
    assert empty.startswith("LANGUAGES is empty")


def test_a_secret_pasted_into_languages_is_not_echoed() -> None:
    key = "sk_live_" + "k" * 30
    (problem,) = problems_with(LANGUAGES=f"en,{key}")
    assert key not in problem and "value hidden" in problem


def test_a_language_whose_catalog_was_never_compiled_is_still_shipped(tmp_path: Path) -> None:
    """A deploy that runs `python -m bot` straight from a clone (the Procfile) has the .po
    files only: they count, and are read as `make catalogs` would compile them (fuzzy
    translations left out); a compiled catalog, where there is one, is the one read."""
    catalog = Catalog(locale="ru", domain="messages")
    catalog.add("Your orders", "Ваши заказы")
    catalog.add("{n} item", "{n} штука", flags=["fuzzy"])  # a guess, not yet checked
    catalog.add(("{n} product", "{n} products"), ("{n} товар", "{n} товара", "{n} товаров"))
    folder = tmp_path / "ru" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.po").open("wb") as file:
        write_po(file, catalog)
    assert shipped_languages(tmp_path) == ["en", "ru"]
    russian = Languages.load(None, "en", tmp_path).get("ru")
    assert russian.t("Your orders") == "Ваши заказы" and russian.t("{n} item", n=2) == "2 item"
    assert [russian.nt("{n} product", "{n} products", n) for n in (1, 3, 5)] == [
        "1 товар",
        "3 товара",
        "5 товаров",
    ]

    compiled = Catalog(locale="ru", domain="messages")
    compiled.add("Your orders", "Заказы")
    with (folder / "messages.mo").open("wb") as file:
        write_mo(file, compiled)
    assert Languages.load(None, "en", tmp_path).get("ru").t("Your orders") == "Заказы"
    with pytest.raises(FileNotFoundError, match="no catalog for 'uk'"):
        Languages.load(("en", "uk"), "en", tmp_path)
