"""The stand-in's state (users, chats, messages, updates, files) and the helpers every method and
simulated user shares.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sandbox.sliding_window import SlidingWindow
from sandbox.telegram_standin.markup import (
    _inline,
)
from sandbox.telegram_standin.params import _int_param
from sandbox.telegram_standin.protocol import (
    BLOCKED,
    CHAT_NOT_FOUND,
    EDIT_NOT_FOUND,
    JSON,
    METHODS,
    ApiError,
    bad_request,
)
from sandbox.telegram_standin.records import (
    FakeCall,
    FakeInvoice,
    FakeMessage,
    FakePayment,
    HeldCall,
)


class TelegramState:
    """The stand-in's state."""

    def __init__(
        self,
        token: str = "123456:TEST-fake-token",
        *,
        bot_id: int = 123456,
        bot_username: str = "shop_test_bot",
        bot_name: str = "Shop Test Bot",
        rate_limit_per_second: float | None = None,
        chat_rate_limit: tuple[int, float] | None = None,
    ) -> None:
        self._token = token
        self._bot_id = bot_id
        self._bot_username = bot_username
        self._bot_name = bot_name
        self.rate_limit_per_second = rate_limit_per_second
        # (messages, seconds) allowed in any one chat: Telegram asks for about one message a
        # second per chat and tolerates short bursts; beyond them it answers 429.
        self.chat_rate_limit = chat_rate_limit
        self._recent_in_chat: dict[int, SlidingWindow] = {}
        self.down = False  # every method answers 502 Bad Gateway while True
        self.calls: list[FakeCall] = []
        self.webhook: JSON | None = None
        self.commands: dict[str, list[dict[str, str]]] = {}
        self.answered_callbacks: list[JSON] = []
        self.rate_limited = 0
        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        self._closing = False
        self._changed = asyncio.Event()
        self._change_count = 0  # how many times _notify ran; lets a reader wait "since"
        self._users: dict[int, JSON] = {}  # chats that started the bot -> the user object
        # The language each user's Telegram app is set to (set_language): every update from
        # them carries it as from.language_code, as a real app's do. Anyone else's: English.
        self._app_languages: dict[int, str] = {}
        self._blocked: set[int] = set()
        self._messages: dict[int, list[FakeMessage]] = {}
        self._user_messages: dict[int, set[int]] = {}
        self._last_message_id: dict[int, int] = {}
        self._updates: list[JSON] = []
        self._update_ids = itertools.count(900_000_001)
        self._query_ids = itertools.count(4_200_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._files: dict[str, JSON] = {}  # file_id -> kind and metadata, for reuse checks
        # Callback queries not answered yet -> when they were tapped. Telegram takes an answer
        # only for a short while after the tap (about 10-15 s, undocumented), then says
        # "query is too old"; tests may shorten the wait.
        self._pending_queries: dict[str, float] = {}
        self.callback_answer_seconds = 15.0
        self._allowed_updates: list[str] | None = None
        self._init_payments()
        self._poll_generation = 0
        self.poll_conflicts = 0  # long polls ended by a newer one (two bots polling at once)
        self._failures: dict[str, deque[tuple[int, int]]] = {}
        self._holds: dict[str, deque[HeldCall]] = {}  # calls a test keeps waiting (hold_next)
        self._recent_sends = SlidingWindow()
        self._handlers: dict[str, Callable[[JSON], Awaitable[Any]]] = {
            name: getattr(self, "_m_" + name) for name in METHODS
        }

    def _init_payments(self) -> None:
        """The Stars side: invoices, payments, the bot's Star transactions and refunds."""
        # Telegram cancels a payment whose pre_checkout_query is not answered in 10 seconds;
        # tests may shorten the wait.
        self.pre_checkout_timeout = 10.0
        self.payments: list[FakePayment] = []  # every try to pay, in order
        self._invoices: dict[tuple[int, int], FakeInvoice] = {}  # (chat_id, message_id)
        self._checkouts: dict[str, asyncio.Future[tuple[bool, str | None]]] = {}
        self._star_transactions: list[JSON] = []  # the bot's, oldest first
        self._charges: dict[str, JSON] = {}  # telegram_payment_charge_id -> the payment
        # Service messages Telegram itself posts in users' chats (refunded_payment), as the bot
        # receives them: a user sees them in the chat, so the sandbox page shows them too.
        self.service_messages: list[JSON] = []
        self._charge_numbers = itertools.count(1)

    @property
    def token(self) -> str:
        return self._token

    @property
    def bot_id(self) -> int:
        return self._bot_id

    @property
    def bot_username(self) -> str:
        return self._bot_username

    @property
    def bot_name(self) -> str:
        return self._bot_name

    @property
    def base_url(self) -> str:
        """PTB appends the token to base_url, like it does to https://api.telegram.org/bot."""
        return f"http://127.0.0.1:{self._require_port()}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self._require_port()}/file/bot"

    def _require_port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeTelegram.start() has not been awaited")
        return self._port

    def _notify(self) -> None:
        """Wake every waiter (long polls, wait_for); each re-checks its own condition."""
        self._change_count += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_change(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), seconds)

    def _register(self, user_id: int, first_name: str, language_code: str) -> JSON:
        if user_id <= 0:
            raise ValueError("private chats (users) have positive ids")
        user = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": language_code,
        }
        self._users[user_id] = user
        return user

    def language_of(self, user_id: int) -> str:
        """The language_code the user's updates carry unless a call says otherwise."""
        return self._app_languages.get(user_id, "en")

    def set_language(self, user_id: int, language_code: str) -> None:
        """The user switches their Telegram app to `language_code` ("es", "pt-br"): their
        next updates, taps and payments included, carry it."""
        self._app_languages[user_id] = language_code
        if user_id in self._users:
            self._users[user_id]["language_code"] = language_code

    def _make_update(self, kind: str, payload: JSON, queue: bool) -> JSON:
        update = {"update_id": next(self._update_ids), kind: payload}
        if queue:
            self._updates.append(update)
            self._notify()
        return update

    def _next_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _find_message(self, chat_id: int, message_id: int) -> FakeMessage | None:
        return next(
            (m for m in self._messages.get(chat_id, []) if m.message_id == message_id), None
        )

    def _chat_json(self, chat_id: int) -> JSON:
        return {"id": chat_id, "type": "private", "first_name": self._users[chat_id]["first_name"]}

    def _bot_json(self) -> JSON:
        return {
            "id": self._bot_id,
            "is_bot": True,
            "first_name": self._bot_name,
            "username": self._bot_username,
        }

    def _message_json(self, message: FakeMessage) -> JSON:
        result: JSON = {
            "message_id": message.message_id,
            "from": self._bot_json(),
            "chat": self._chat_json(message.chat_id),
            "date": message.date,
        }
        if message.edit_date is not None:
            result["edit_date"] = message.edit_date
        if message.text is not None:
            result["text"] = message.text
            if message.entities:
                result["entities"] = message.entities
        if message.photo is not None:
            result["photo"] = [self._files[message.photo]["json"]]
        if message.document is not None:
            result["document"] = self._files[message.document]["json"]
        if message.caption:
            result["caption"] = message.caption
            if message.caption_entities:
                result["caption_entities"] = message.caption_entities
        if message.invoice is not None:
            result["invoice"] = message.invoice.json()
        if _inline(message.reply_markup) is not None:
            result["reply_markup"] = message.reply_markup
        return result

    def _chat(self, params: JSON) -> int:
        """Resolve chat_id: the user must have started the bot and not have blocked it."""
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool) or chat_id not in self._users:
            raise ApiError(400, CHAT_NOT_FOUND)
        if chat_id in self._blocked:
            raise ApiError(403, BLOCKED)
        return chat_id

    def _check_reply_to(self, chat_id: int, params: JSON) -> None:
        reply = params.get("reply_parameters")
        target = reply.get("message_id") if isinstance(reply, dict) else None
        target = target if target is not None else params.get("reply_to_message_id")
        allow = isinstance(reply, dict) and reply.get("allow_sending_without_reply")
        if target is None or allow or params.get("allow_sending_without_reply"):
            return
        own = self._find_message(chat_id, target)
        if (own is None or own.deleted) and target not in self._user_messages.get(chat_id, ()):
            raise bad_request("message to be replied not found")

    def _store(self, message: FakeMessage) -> JSON:
        self._messages.setdefault(message.chat_id, []).append(message)
        self._notify()
        return self._message_json(message)

    def _editable(self, params: JSON) -> FakeMessage:
        if params.get("inline_message_id"):
            raise ApiError(400, EDIT_NOT_FOUND)  # the fake has no inline-mode messages
        if "chat_id" not in params or "message_id" not in params:
            raise bad_request("message identifier is not specified")
        chat_id = self._chat(params)
        message_id = _int_param(params, "message_id")
        message = self._find_message(chat_id, message_id)
        if message is None or message.deleted:
            if message_id in self._user_messages.get(chat_id, ()):
                raise bad_request("message can't be edited")
            raise ApiError(400, EDIT_NOT_FOUND)
        return message

    def _edited(self, message: FakeMessage) -> JSON:
        message.edits += 1
        message.edit_date = int(time.time())
        self._notify()
        return self._message_json(message)
