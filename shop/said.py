"""Words written when something happens and read later by someone whose language is not known
then: an admin's problem alert (stored with the outbox row) and an order's failure reason (shown
in /orders and /refund). Stored as the English message (marked with `N_`, so it is in the
catalog) and its values, and worded in the reader's language when shown.

A plain stored text is an `N_`-marked constant (translated when shown) or a row written before
messages were stored this way (shown as it was written)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from shop.i18n import Lang

# A value: text or a number as written, a message worded in the reader's language too, or a tuple
# of messages worded as the reader's list ("a, b and c").
Value: TypeAlias = "str | int | Said | tuple[Said, ...]"


@dataclass(frozen=True)
class Said:
    message: str  # the English message id, `N_`-marked where it is written
    values: Mapping[str, Value] = field(default_factory=dict)

    def stored(self) -> str:
        """The JSON kept in the database; the same words always store the same text."""
        return json.dumps(self._plain(), ensure_ascii=False, sort_keys=True)

    def _plain(self) -> dict[str, Any]:
        values = {key: _plain(value) for key, value in self.values.items()}
        return {"said": self.message, "values": values}

    def worded(self, lang: Lang) -> str:
        """The message in `lang`, with every nested message worded in it too."""
        return lang.marked(self.message, **{k: _worded(v, lang) for k, v in self.values.items()})

    def english(self) -> str:
        """The message as written, for the operator's log (which is in English)."""
        return self.message.format_map({k: _english(v) for k, v in self.values.items()})

    @classmethod
    def read(cls, text: str) -> Said | None:
        """What `stored` wrote; None for any other text."""
        try:
            return cls._parse(json.loads(text))
        except ValueError:
            return None

    @classmethod
    def _parse(cls, plain: object) -> Said | None:
        if not isinstance(plain, dict) or not isinstance(plain.get("said"), str):
            return None
        raw = plain.get("values")
        if not isinstance(raw, dict):
            return None
        values: dict[str, Value] = {}
        for key, value in raw.items():
            parsed = _parsed_value(value)
            if parsed is None:
                return None
            values[str(key)] = parsed
        return cls(plain["said"], values)


def _parsed_value(value: object) -> Value | None:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return value
    if isinstance(value, list):
        items = [Said._parse(item) for item in value]
        return tuple(item for item in items if item is not None) if all(items) else None
    return Said._parse(value)


def _plain(value: Value) -> object:
    if isinstance(value, Said):
        return value._plain()
    if isinstance(value, tuple):
        return [item._plain() for item in value]
    return value


def _worded(value: Value, lang: Lang) -> str | int:
    if isinstance(value, Said):
        return value.worded(lang)
    if isinstance(value, tuple):
        return lang.join(item.worded(lang) for item in value)
    return value


def _english(value: Value) -> str | int:
    if isinstance(value, Said):
        return value.english()
    if isinstance(value, tuple):
        return "; ".join(item.english() for item in value)
    return value


def worded(lang: Lang, stored: str) -> str:
    """A stored message in `lang`. A plain text is a reason kept as a code (an `N_`-marked
    constant such as outbox.CANCELLED_REASON, translated here) or one written before messages
    were stored this way (shown as written)."""
    said = Said.read(stored)
    return lang.marked(stored) if said is None else said.worded(lang)
