"""Ids that come from outside (callback data, commands, deep links, Stripe metadata).

One parser for all of them, because `str.isdigit()` and `\\d` accept far more than 0-9: `"²"`
passes `isdigit()` and then breaks `int()`, and `"١٢"` (Arabic-Indic digits) silently becomes
order 12. Only ASCII digits, at most 12 of them, name one of our rows.
"""

from __future__ import annotations

import re

MAX_ID_DIGITS = 12
# For regular expressions that embed an id (callback patterns, `/start p_<id>`).
ID_PATTERN = f"[0-9]{{1,{MAX_ID_DIGITS}}}"
_ID = re.compile(ID_PATTERN)


def parse_id(text: object) -> int | None:
    """The id written in `text`, or None when it is not 1-12 ASCII digits (or not a str)."""
    if not isinstance(text, str) or _ID.fullmatch(text) is None:
        return None
    return int(text)
