"""Which language each persona's Telegram app is set to, as the sandbox page switches it.

Telegram tells a bot the language of the person's app on every update (`from.language_code`),
and the shop answers in it unless the person chose another with /language (bot/language.py).
The page offers the shop's own languages; a switch makes the stand-in send that persona's next
messages, taps and payments with the new code, as a real app would after its settings changed.
Nothing is stored: the next sandbox run starts every persona in English again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sandbox.fake_telegram import FakeTelegram
from shop.i18n import Lang, canonical


class LanguageRefused(Exception):
    """Not a language the shop offers."""


@dataclass(frozen=True)
class Offered:
    code: str  # the catalog's code: "pt_BR"
    name: str  # in itself: "Português"


def telegram_code(code: str) -> str:
    """The language_code a Telegram app sends for a catalog code: "pt_BR" → "pt-br"."""
    return code.replace("_", "-").lower()


class PersonaLanguages:
    def __init__(self, telegram: FakeTelegram, offered: Iterable[Lang]) -> None:
        self._telegram = telegram
        self._offered = [Offered(lang.code, lang.name) for lang in offered]

    def offered(self) -> list[dict[str, str]]:
        return [{"code": lang.code, "name": lang.name} for lang in self._offered]

    def of(self, user_id: int) -> str:
        """The persona's app language as the shop's catalogs name it ("pt_BR")."""
        return canonical(self._telegram.language_of(user_id))

    def choose(self, user_id: int, code: str) -> str:
        """Switch the persona's app to `code` (any spelling: "pt-BR", "pt_br"); its catalog
        code. LanguageRefused for a language the shop does not offer."""
        wanted = canonical(code)
        if wanted not in {lang.code for lang in self._offered}:
            names = ", ".join(lang.code for lang in self._offered)
            raise LanguageRefused(f"The shop offers {names}; not {code!r}.")
        self._telegram.set_language(user_id, telegram_code(wanted))
        return wanted

    def persona_view(self, user_id: int) -> dict[str, Any]:
        """What the page needs to draw the persona's language and command menu."""
        return {"language": self.of(user_id), "commands": self._telegram.commands_shown(user_id)}
