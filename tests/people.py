"""People in the chats: someone who sends, taps and waits for the bot's answer to that, and what
they read on a message. The `admin` and `buyer` fixtures (tests/conftest.py) are two of them."""

from __future__ import annotations

import asyncio

from sandbox.fake_telegram import FakeMessage, FakeTelegram


def shown(message: FakeMessage) -> str:
    """What a person reads on the message: its text, or a photo's caption."""
    return message.text or message.caption or ""


class Person:
    """Someone in a private chat with the bot: they act, then wait for the bot's answer."""

    def __init__(self, telegram: FakeTelegram, user_id: int) -> None:
        self.telegram = telegram
        self.user_id = user_id

    def _snapshot(self) -> tuple[int, dict[int, int]]:
        messages = self.telegram.messages(self.user_id)
        last = max((m.message_id for m in messages), default=0)
        return last, {m.message_id: m.edits for m in messages}

    async def _answer(self, snapshot: tuple[int, dict[int, int]], expect: str) -> FakeMessage:
        last, edits = snapshot

        def fresh(m: FakeMessage) -> bool:
            changed = m.message_id > last or m.edits > edits.get(m.message_id, 0)
            return changed and expect in shown(m)

        return await self.telegram.wait_for(self.user_id, fresh)

    async def sends(self, text: str, expect: str) -> FakeMessage:
        snapshot = self._snapshot()
        self.telegram.user_sends(self.user_id, text)
        return await self._answer(snapshot, expect)

    async def sends_photo(self, expect: str) -> FakeMessage:
        snapshot = self._snapshot()
        self.telegram.user_sends_photo(self.user_id)
        return await self._answer(snapshot, expect)

    async def sends_file(self, name: str, content: bytes, expect: str) -> FakeMessage:
        snapshot = self._snapshot()
        self.telegram.user_sends_document(self.user_id, name, content)
        return await self._answer(snapshot, expect)

    async def taps(self, message: FakeMessage, button: str, expect: str) -> FakeMessage:
        snapshot = self._snapshot()
        self.telegram.user_taps(self.user_id, message, message.button(button)["callback_data"])
        return await self._answer(snapshot, expect)

    async def nothing_more(self) -> None:
        """Give the bot time to (wrongly) answer, then check that it did not."""
        before = self._snapshot()
        await asyncio.sleep(0.4)
        assert self._snapshot() == before
