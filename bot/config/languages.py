"""DEFAULT_LANGUAGE and LANGUAGES: which of the shipped languages this shop offers, and the one
for buyers whose Telegram language is not among them (CONTRACT.md)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config.problems import Reader, shown
from shop.i18n import SOURCE_LANGUAGE, canonical, shipped_languages

__all__ = ["LanguageSettings", "read_languages"]


@dataclass(frozen=True)
class LanguageSettings:
    default: str
    offered: tuple[str, ...]


def read_languages(r: Reader) -> LanguageSettings:
    """Both settings as catalog codes ("pt-BR" → "pt_BR"); an unknown code is a problem that
    names the shipped ones, and the default is always offered."""
    shipped = shipped_languages()
    offered = r.parsed("LANGUAGES", tuple(shipped), lambda v: _codes(r, v, shipped))
    default = r.parsed(
        "DEFAULT_LANGUAGE", SOURCE_LANGUAGE, lambda v: _code(r, "DEFAULT_LANGUAGE", v, shipped)
    )
    if default not in offered:
        offered = (default, *offered)
    return LanguageSettings(default, offered)


def _code(r: Reader, name: str, value: str, shipped: list[str]) -> str | None:
    code = canonical(value)
    if code not in shipped:
        r.problem(_not_spoken(name, [value], shipped))
        return None
    return code


def _codes(r: Reader, value: str, shipped: list[str]) -> tuple[str, ...] | None:
    """Every code, once, in the order given; all the unknown ones named in one problem."""
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        r.problem("LANGUAGES is empty; list language codes such as en,es or leave it unset.")
        return None
    unknown = [item for item in items if canonical(item) not in shipped]
    if unknown:
        r.problem(_not_spoken("LANGUAGES", unknown, shipped))
        return None
    return tuple(dict.fromkeys(canonical(item) for item in items))


def _not_spoken(name: str, values: list[str], shipped: list[str]) -> str:
    which = ", ".join(shown(value) for value in values)
    return (
        f"{name} has {which}, which this shop does not speak; "
        f"use one of {', '.join(shipped)} (README: Languages, adding a language)."
    )
