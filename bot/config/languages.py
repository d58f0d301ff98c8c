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
        r.problem(
            f"{name} has {shown(value)}, which this shop does not speak; "
            f"use one of {', '.join(shipped)} (README: adding a language)."
        )
        return None
    return code


def _codes(r: Reader, value: str, shipped: list[str]) -> tuple[str, ...] | None:
    codes: list[str] = []
    for item in value.split(","):
        if not item.strip():
            continue
        code = _code(r, "LANGUAGES", item, shipped)
        if code is None:
            return None
        if code not in codes:
            codes.append(code)
    if not codes:
        r.problem("LANGUAGES is empty; list language codes such as en,es or leave it unset.")
        return None
    return tuple(codes)
