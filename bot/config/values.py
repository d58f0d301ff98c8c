"""Parsers for the kinds of value several settings share: yes/no, bounded whole numbers, URLs.

Each takes the Reader so that a bad value becomes one problem in the shared list (and the
default stands in), worded the same way for every variable of its kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from bot.config.problems import Reader, shown

__all__ = ["parse_bool", "url_problem", "url_setting", "whole_number", "yes_no"]

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def parse_bool(value: str) -> bool | None:
    """A yes/no setting: true/false, 1/0, yes/no, on/off in any case; None for anything else."""
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


def yes_no(reader: Reader, name: str) -> Callable[[str], bool | None]:
    def parse(value: str) -> bool | None:
        result = parse_bool(value)
        if result is None:
            reader.problem(f"{name} {shown(value)} is not a yes/no value: use true or false.")
        return result

    return parse


def whole_number(
    reader: Reader, name: str, low: int, high: int, why: str
) -> Callable[[str], int | None]:
    def parse(value: str) -> int | None:
        if not re.fullmatch(r"[0-9]+", value) or not low <= int(value) <= high:
            reader.problem(
                f"{name} {shown(value)} must be a whole number from {low} to {high}{why}."
            )
            return None
        return int(value)

    return parse


def url_problem(name: str, value: str) -> str | None:
    """What is wrong with an http(s) URL setting, or None when it is a usable one."""
    try:
        parts = urlsplit(value)
        port = parts.port  # urllib only validates the port when asked
    except ValueError:
        return f"{name} {shown(value)} is not a valid URL."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{name} {shown(value)} must be an absolute URL starting with http:// or https://."
    if parts.username is not None or parts.password is not None:
        return f"{name} must not contain a user name or password."
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        return f"{name} {shown(value)} must not have a query (?…) or fragment (#…)."
    if port == 0:
        return f"{name} {shown(value)} has port 0, which nothing can listen on."
    return None


def url_setting(reader: Reader, name: str, default: str, strip_slash: bool) -> str:
    """An optional URL setting: the default when unset or (after reporting it) invalid."""
    value = reader.raw(name)
    if value is None:
        return default
    problem = url_problem(name, value)
    if problem:
        reader.problem(problem)
        return default
    return value.rstrip("/") if strip_slash else value
