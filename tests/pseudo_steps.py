"""A person whose Telegram app speaks the pseudo-locale (tests/pseudo_locale.py), driving the bot
through the stand-in as the other stories do — but finding buttons by their callback data and
the bot's answers by their shape, since every text they would look for is pseudo.

The merchant's and the buyer's own data here is Greek: it has no ASCII letters, so whatever the
bot shows of it cannot be mistaken for English it forgot to translate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sandbox.fake_telegram import FakeMessage, FakeTelegram
from tests.pseudo_locale import TELEGRAM_CODE

Wanted = Callable[[FakeMessage], bool]

# The merchant's and the buyers' data, in Greek (and digits, emoji, URLs the check removes).
EBOOK = "Βιβλίο 📘 Ασύγχρονο"
EBOOK_ABOUT = "Ένας πρακτικός οδηγός."
EBOOK_GOODS = "Λήψη: https://files.example/vivlio.pdf"
KEY = "Κλειδί παιχνιδιού 🎮"
KEYS = ["ΚΛΕΙΔΙ-0001", "ΚΛΕΙΔΙ-0002", "ΚΛΕΙΔΙ-0003"]
KEY_HOWTO = "Εξαργυρώστε στον ιστότοπο."
STARS_ITEM = "Αυτοκόλλητα ⭐"
STARS_GOODS = "Τα αυτοκόλλητά σας: https://files.example/stickers"
NEW_TITLE = "Κούπα ☕ Ελληνική"
NEW_ABOUT = "Μεγάλη κούπα."
NEW_GOODS = "Κωδικός: ΚΟΥΠΑ-42"
NEW_CATEGORY = "Κουζίνα"
BUYER_NAME = "Αλίκη"
ADMIN_NAME = "Μόργκαν"
# What the Stripe stand-in's Checkout says its customer is called.
CHECKOUT_NAME = "Jenny Rosen"

DATA = (
    EBOOK, EBOOK_ABOUT, EBOOK_GOODS, KEY, *KEYS, KEY_HOWTO, STARS_ITEM, STARS_GOODS,
    NEW_TITLE, NEW_ABOUT, NEW_GOODS, NEW_CATEGORY, BUYER_NAME, ADMIN_NAME, CHECKOUT_NAME,
)  # fmt: skip


def anything(message: FakeMessage) -> bool:
    return True


def with_button(prefix: str) -> Wanted:
    """A message with a button whose callback data starts with `prefix` ("buy:", "aw:k:")."""
    return lambda message: any(
        str(button.get("callback_data", "")).startswith(prefix) for button in message.buttons()
    )


def with_link(message: FakeMessage) -> bool:
    """A message with a URL button (an order's Pay)."""
    return any(button.get("url") for button in message.buttons())


def data_of(message: FakeMessage, prefix: str) -> str:
    """The callback data of the message's button whose data is `prefix`, else of its first
    button whose data starts with it ("qty:5:1" is not "qty:5:10")."""
    datas = [str(button.get("callback_data", "")) for button in message.buttons()]
    if prefix in datas:
        return prefix
    for data in datas:
        if data.startswith(prefix):
            return data
    raise AssertionError(f"no {prefix!r} button on {message.message_id}: {message.buttons()}")


class PseudoPerson:
    """Someone chatting with the bot from an app set to the pseudo-locale (or, for the stories
    played in every shipped language, to `language_code`)."""

    def __init__(
        self, telegram: FakeTelegram, user_id: int, name: str, language_code: str = TELEGRAM_CODE
    ) -> None:
        self.telegram = telegram
        self.user_id = user_id
        self.name = name
        telegram.set_language(user_id, language_code)

    def _snapshot(self) -> tuple[int, dict[int, int]]:
        messages = self.telegram.messages(self.user_id)
        return max((m.message_id for m in messages), default=0), {
            m.message_id: m.edits for m in messages
        }

    async def _answer(self, snapshot: tuple[int, dict[int, int]], wanted: Wanted) -> FakeMessage:
        last, edits = snapshot

        def fresh(m: FakeMessage) -> bool:
            changed = m.message_id > last or m.edits > edits.get(m.message_id, 0)
            return changed and not m.deleted and wanted(m)

        return await self.telegram.wait_for(self.user_id, fresh)

    async def sends(self, text: str, wanted: Wanted = anything) -> FakeMessage:
        """Send `text`; the bot's first new (or edited) message that is `wanted`."""
        snapshot = self._snapshot()
        self.telegram.user_sends(self.user_id, text, first_name=self.name)
        return await self._answer(snapshot, wanted)

    async def sends_file(self, name: str, content: bytes, wanted: Wanted = anything) -> FakeMessage:
        snapshot = self._snapshot()
        self.telegram.user_sends_document(self.user_id, name, content, first_name=self.name)
        return await self._answer(snapshot, wanted)

    async def taps(
        self, message: FakeMessage, prefix: str, wanted: Wanted = anything
    ) -> FakeMessage:
        """Tap the message's button whose data starts with `prefix`; the message then new or
        edited that is `wanted`."""
        snapshot = self._snapshot()
        self.telegram.user_taps(self.user_id, self.now(message), data_of(self.now(message), prefix))
        return await self._answer(snapshot, wanted)

    async def tap_answer(self, message: FakeMessage, data: str, *, forged: bool = False) -> str:
        """Tap (a button with this exact data, or with `forged` data no button has): the text
        of the tap's answer."""
        update = self.telegram.user_taps(
            self.user_id, self.now(message), data, check_keyboard=not forged
        )
        query_id = update["callback_query"]["id"]
        for _ in range(100):
            for answer in self.telegram.answered_callbacks:
                if answer["callback_query_id"] == query_id:
                    return str(answer["text"] or "")
            await asyncio.sleep(0.05)
        raise AssertionError(f"the tap on {data!r} was never answered")

    def now(self, message: FakeMessage) -> FakeMessage:
        """The message as the chat shows it now."""
        return next(
            m for m in self.telegram.messages(self.user_id) if m.message_id == message.message_id
        )

    async def quiet(self, seconds: float = 0.3) -> None:
        """Until the bot has said nothing more to this person for `seconds`."""
        while True:
            before = self._snapshot()
            await asyncio.sleep(seconds)
            if self._snapshot() == before:
                return
