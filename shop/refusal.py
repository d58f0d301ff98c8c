"""A refusal a person must read — a price typed wrong, a refund that cannot be made — worded in
their language only when it is shown.

The rule that refuses lives where it is decided (shop/typed_money.py, shop/refunds.py, the admin's
field rules), and so does its sentence: one place. But the rule does not know who will read it,
so the exception carries its words as a function of the language (`lang.t("…")` inside, so
`make messages` finds the sentence) and the chat edge calls `text(context.lang)`. `str()` is the
English, for logs and tests.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # shop.i18n formats money with shop.money, which raises refusals
    from shop.i18n import Lang

Words = Callable[["Lang"], str]


class Refusal(Exception):
    """Input or a request the shop refuses, with what to do instead, in any language."""

    def __init__(self, words: Words) -> None:
        super().__init__()
        self._words = words

    def text(self, lang: Lang) -> str:
        """The refusal in `lang`, as plain text (escape it for an HTML message)."""
        return self._words(lang)

    def __str__(self) -> str:
        return self._words(_source_language())


def _source_language() -> Lang:
    """The message ids' own language; imported here, late, because shop.i18n needs shop.money
    (which raises refusals) to be importable first."""
    from shop.i18n import SOURCE_LANGUAGE, Lang

    return Lang(SOURCE_LANGUAGE, gettext.NullTranslations())
