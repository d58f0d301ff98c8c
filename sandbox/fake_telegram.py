"""A strict, in-process stand-in for the Telegram Bot API.

Tests run the real python-telegram-bot SDK against this aiohttp server over HTTP, so every
request goes through PTB's real encoding and error mapping. The fake is deliberately as strict
as production Telegram (chat must have started the bot, HTML must parse, buttons must be valid,
edits must change something, ...) and answers in Telegram's own error format, so bugs that
would only show up in production fail the test suite instead.

Point PTB at it with ``Application.builder().token(fake.token).base_url(fake.base_url)`` or
``telegram.Bot(fake.token, base_url=fake.base_url)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

JSON = dict[str, Any]

MAX_TEXT_UTF16 = 4096
MAX_CAPTION_UTF16 = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100
MAX_CALLBACK_ANSWER_UTF16 = 200
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile refuses bigger files

# fmt: off
METHODS = (
    "getMe", "logOut", "close", "getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo",
    "setMyCommands", "deleteMyCommands", "getMyCommands", "sendMessage", "sendPhoto",
    "sendDocument", "editMessageText", "editMessageCaption", "editMessageReplyMarkup",
    "deleteMessage", "answerCallbackQuery", "sendChatAction", "getFile",
)
_CANONICAL = {name.lower(): name for name in METHODS}
# Methods that produce or change a visible message, i.e. the ones flood control throttles.
RATE_LIMITED_METHODS = frozenset({
    "sendMessage", "sendPhoto", "sendDocument",
    "editMessageText", "editMessageCaption", "editMessageReplyMarkup",
})
# PTB (like any form-encoding client) sends non-string values as JSON-encoded strings; only
# parameters of these names are decoded, so a text of "123" or "[1]" stays a string.
_JSON_PARAMS = frozenset({
    "reply_markup", "allowed_updates", "commands", "scope", "entities", "caption_entities",
    "link_preview_options", "reply_parameters",
})
_INT_PARAMS = frozenset({
    "chat_id", "message_id", "offset", "limit", "timeout", "max_connections", "cache_time",
    "message_thread_id", "reply_to_message_id", "user_id",
})
_BOOL_PARAMS = frozenset({
    "drop_pending_updates", "show_alert", "disable_notification", "protect_content",
    "allow_sending_without_reply", "disable_web_page_preview", "show_caption_above_media",
    "has_spoiler", "disable_content_type_detection",
})
_BUTTON_ACTIONS = (
    "url", "callback_data", "switch_inline_query", "switch_inline_query_current_chat",
    "copy_text", "web_app", "login_url", "pay", "callback_game",
)
_CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note",
    "upload_video_note",
})
# fmt: on
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_FAILURE_DESCRIPTIONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

CHAT_NOT_FOUND = "Bad Request: chat not found"
BLOCKED = "Forbidden: bot was blocked by the user"
EDIT_NOT_FOUND = "Bad Request: message to edit not found"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
BAD_BUTTON = "Bad Request: can't parse inline keyboard button: "


class ApiError(Exception):
    """A Bot API error answer; raised anywhere inside a handler, turned into the JSON reply."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class FakeUpload:
    """A file that arrived as a multipart part rather than as a file_id/URL string."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class FakeCall:
    """One request as the fake understood it, for assertions about what the bot asked for.

    ``status`` is the HTTP status answered; 499 means the client hung up before the answer
    (e.g. PTB cancelling its long poll on shutdown).
    """

    method: str
    params: JSON
    status: int
    response: JSON


@dataclass
class FakeMessage:
    """The current state of one message the bot sent; mutated in place by edits and deletes."""

    message_id: int
    chat_id: int
    text: str | None = None  # plain text after entity parsing (None for media messages)
    html: str | None = None  # the text exactly as the bot sent it
    caption: str | None = None  # plain caption after entity parsing
    caption_html: str | None = None
    photo: str | None = None  # file_id
    document: str | None = None  # file_id
    parse_mode: str | None = None
    reply_markup: JSON | None = None
    edits: int = 0
    deleted: bool = False
    entities: list[JSON] = field(default_factory=list)
    caption_entities: list[JSON] = field(default_factory=list)
    date: int = 0
    edit_date: int | None = None

    def buttons(self) -> list[JSON]:
        """The inline keyboard flattened row by row ([] for no or a non-inline keyboard)."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]

    def button(self, text_contains: str) -> JSON:
        """The first inline button whose text contains ``text_contains``.

        An exact-case match wins; otherwise the match is case-insensitive, so tests need not
        care whether the bot writes "Catalog" or "catalog". No match is an AssertionError.
        """
        buttons = self.buttons()
        found = [b for b in buttons if text_contains in b.get("text", "")] or [
            b for b in buttons if text_contains.casefold() in b.get("text", "").casefold()
        ]
        if found:
            return found[0]
        texts = [b.get("text") for b in buttons]
        raise AssertionError(
            f"no button containing {text_contains!r} on message {self.message_id}: {texts}"
        )


# --------------------------------------------------------------------------- helpers


def utf16_len(text: str) -> int:
    """Telegram measures text in UTF-16 code units: an emoji outside the BMP counts twice."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([A-Za-z][A-Za-z0-9]*));")
_ATTR_RE = re.compile(r"""([A-Za-z][\w-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")


def _decode_entity(text: str, i: int) -> tuple[str, int]:
    """Decode the entity at ``text[i] == "&"``; return the character and the index after it.

    The Bot API documents that every ``&`` not starting an entity must be written ``&amp;`` and
    that only four named entities exist, so anything else is rejected here.
    """
    match = _ENTITY_RE.match(text, i)
    offset = _byte_offset(text, i)
    if match is None:
        raise ValueError(f"Unsupported HTML entity at byte offset {offset}: escape '&' as &amp;")
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        if name not in _NAMED_ENTITIES:
            raise ValueError(f'Unsupported HTML entity "&{name};" at byte offset {offset}')
        return _NAMED_ENTITIES[name], match.end()
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise ValueError(f"Invalid numeric HTML entity at byte offset {offset}")
    return chr(code), match.end()


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "&":
            char, i = _decode_entity(text, i)
            out.append(char)
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _parse_attributes(text: str, j: int, tag: str, tag_offset: int) -> tuple[dict[str, str], int]:
    """Parse ``name="value"`` pairs up to the closing ``>`` of a start tag."""
    attrs: dict[str, str] = {}
    while True:
        while j < len(text) and text[j].isspace():
            j += 1
        if j >= len(text):
            raise ValueError(f"Unclosed start tag at byte offset {tag_offset}")
        if text[j] == ">":
            return attrs, j + 1
        match = _ATTR_RE.match(text, j)
        if match is None:
            raise ValueError(f'Bad attribute in tag "{tag}" at byte offset {_byte_offset(text, j)}')
        name, double, single, bare = match.groups()
        value = next((v for v in (double, single, bare) if v is not None), None)
        if value is None and not (tag == "blockquote" and name.lower() == "expandable"):
            raise ValueError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                f"at byte offset {_byte_offset(text, j)}"
            )
        attrs[name.lower()] = _unescape(value or "")
        j = match.end()


def _check_start_tag(tag: str, attrs: dict[str, str], offset: int) -> None:
    if tag == "a" and not attrs.get("href"):
        raise ValueError(f'Tag "a" must have attribute "href" at byte offset {offset}')
    if tag == "span" and attrs.get("class") != "tg-spoiler":
        raise ValueError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
    if tag == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
        raise ValueError(f"Custom emoji identifier must be specified at byte offset {offset}")


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Parse Telegram-flavoured HTML into (plain text, message entities).

    Follows the Bot API "HTML style" rules: a fixed set of tags, properly nested and closed;
    only &lt; &gt; &amp; &quot; and numeric entities. Raises ValueError with a description in
    the spirit of tdlib's (the caller prefixes "Bad Request: can't parse entities: ").
    Offsets and lengths of entities are in UTF-16 code units, like Telegram's.
    """
    out: list[str] = []
    position = 0  # UTF-16 length of `out`
    stack: list[tuple[str, int, dict[str, str]]] = []
    entities: list[JSON] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "&":
            char, i = _decode_entity(source, i)
            out.append(char)
            position += utf16_len(char)
            continue
        if char != "<":
            out.append(char)
            position += utf16_len(char)
            i += 1
            continue
        offset = _byte_offset(source, i)
        closing = source.startswith("</", i)
        j = i + (2 if closing else 1)
        while j < len(source) and not source[j].isspace() and source[j] != ">":
            j += 1
        tag = source[i + (2 if closing else 1) : j].lower()
        if not closing:
            if j >= len(source):
                raise ValueError(f"Unclosed start tag at byte offset {offset}")
            if tag not in _HTML_TAGS:
                raise ValueError(f'Unsupported start tag "{tag}" at byte offset {offset}')
            attrs, i = _parse_attributes(source, j, tag, offset)
            _check_start_tag(tag, attrs, offset)
            stack.append((tag, position, attrs))
            continue
        while j < len(source) and source[j].isspace():
            j += 1
        if j >= len(source) or source[j] != ">":
            raise ValueError(f"Unclosed end tag at byte offset {offset}")
        if not stack:
            raise ValueError(f"Unexpected end tag at byte offset {offset}")
        open_tag, start, attrs = stack.pop()
        if tag and tag != open_tag:
            raise ValueError(
                f'Unmatched end tag at byte offset {offset}, expected "</{open_tag}>", '
                f'found "</{tag}>"'
            )
        i = j + 1
        if position > start:
            entities.append(_entity(open_tag, start, position - start, attrs, entities))
    if stack:
        raise ValueError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)  # only <pre><code class="language-x"> carries one
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _entity(tag: str, offset: int, length: int, attrs: dict[str, str], done: list[JSON]) -> JSON:
    entity: JSON = {"type": _HTML_TAGS[tag], "offset": offset, "length": length}
    if tag == "a":
        entity["url"] = attrs["href"]
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = attrs["emoji-id"]
    elif tag == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif tag == "code" and attrs.get("class", "").startswith("language-"):
        entity["language"] = attrs["class"].removeprefix("language-")
    elif tag == "pre" and done and done[-1]["type"] == "code":
        inner = done[-1]
        if (inner["offset"], inner["length"]) == (offset, length):
            done.pop()
            if inner.get("language"):
                entity["language"] = inner["language"]
    return entity


def _valid_button_url(url: object) -> bool:
    if not isinstance(url, str) or not url or any(c.isspace() for c in url):
        return False
    parts = urlsplit(url)
    return parts.scheme.lower() in ("http", "https", "tg") and bool(parts.netloc)


def _check_button(button: object) -> None:
    """Validate one InlineKeyboardButton the way the Bot API does before it reaches users."""
    if not isinstance(button, dict):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    text = button.get("text")
    if not isinstance(text, str):
        raise ApiError(400, BAD_BUTTON + 'Field "text" must be of type String')
    if not text.strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = [name for name in _BUTTON_ACTIONS if name in button]
    if not actions:
        raise ApiError(400, BAD_BUTTON + "Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise ApiError(400, BAD_BUTTON + f"exactly one of the optional fields, got {actions}")
    kind = actions[0]
    value = button[kind]
    if kind == "callback_data":
        if not isinstance(value, str):
            raise ApiError(400, BAD_BUTTON + 'Field "callback_data" must be of type String')
        if not 1 <= len(value.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    elif kind == "url" and not _valid_button_url(value):
        raise bad_request("BUTTON_URL_INVALID")
    elif kind in ("web_app", "login_url"):
        url = value.get("url") if isinstance(value, dict) else None
        if not _valid_button_url(url) or (kind == "web_app" and not str(url).startswith("https:")):
            raise bad_request("BUTTON_URL_INVALID")


def check_reply_markup(markup: object, *, inline_only: bool = False) -> JSON | None:
    """Validate a reply_markup; inline keyboards deeply, reply keyboards only by shape."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        for row in rows:
            for button in row:
                _check_button(button)
        if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
            raise bad_request("reply markup is too long")
        return markup
    if inline_only:
        raise bad_request("inline keyboard expected")
    if any(key in markup for key in ("keyboard", "remove_keyboard", "force_reply")):
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def _inline(markup: JSON | None) -> JSON | None:
    return markup if markup is not None and "inline_keyboard" in markup else None


def _set_inline_markup(message: FakeMessage, markup: JSON | None) -> None:
    """Edits replace the inline keyboard; a reply keyboard is not part of the message."""
    if markup is not None or _inline(message.reply_markup) is not None:
        message.reply_markup = markup


def _decode_param(name: str, value: Any) -> Any:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return value
    if name in _JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None
    if name in _INT_PARAMS and re.fullmatch(r"-?\d+", value):
        return int(value)
    if name in _BOOL_PARAMS and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


async def _read_params(request: web.Request) -> JSON:
    """Merge query string and body (JSON, urlencoded or multipart) into one decoded dict."""
    raw: JSON = dict(request.query)
    if request.content_type == "application/json":
        body = await request.text()
        if body.strip():
            try:
                decoded = json.loads(body)
            except ValueError:
                raise bad_request("can't parse JSON encoded request body") from None
            if not isinstance(decoded, dict):
                raise bad_request("JSON encoded request body must be an Object")
            raw.update(decoded)
    elif request.can_read_body:
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                raw[key] = FakeUpload(value.filename, value.content_type, value.file.read())
            else:
                raw[key] = value
    return {key: _decode_param(key, value) for key, value in raw.items()}


def _suffix(file_name: str) -> str:
    """The extension Telegram keeps in a document's file_path ("" for none)."""
    match = re.search(r"\.[A-Za-z0-9]{1,8}$", file_name)
    return match.group().lower() if match else ""


def _int_param(params: JSON, name: str, default: int | None = None) -> int:
    value = params.get(name, default)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if value is None or value == "":
        raise bad_request(f"{name} is empty")
    raise bad_request(f"wrong parameter {name} in request")


# --------------------------------------------------------------------------- the fake


class FakeTelegram:
    """The Bot API server, the users talking to the bot, and inspection helpers for tests."""

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
        self._recent_in_chat: dict[int, deque[float]] = {}
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
        self._users: dict[int, JSON] = {}  # chats that started the bot -> the user object
        self._blocked: set[int] = set()
        self._messages: dict[int, list[FakeMessage]] = {}
        self._user_messages: dict[int, set[int]] = {}
        self._last_message_id: dict[int, int] = {}
        self._updates: list[JSON] = []
        self._update_ids = itertools.count(900_000_001)
        self._query_ids = itertools.count(4_200_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._files: dict[str, JSON] = {}  # file_id -> kind and metadata, for reuse checks
        self._pending_queries: set[str] = set()
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._failures: dict[str, deque[tuple[int, int]]] = {}
        self._recent_sends: deque[float] = deque()
        self._handlers: dict[str, Callable[[JSON], Awaitable[Any]]] = {
            name: getattr(self, "_m_" + name) for name in METHODS
        }

    # ------------------------------------------------------------------ lifecycle / addresses

    async def start(self) -> None:
        """Serve on 127.0.0.1 on an ephemeral port, so parallel test runs never collide."""
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("GET", "/bot{token}/{method}", self._serve)
        app.router.add_route("POST", "/bot{token}/{method}", self._serve)
        app.router.add_route("GET", "/file/bot{token}/{file_path:.+}", self._serve_file)
        # handler_cancellation: a client that hangs up (e.g. a stopped poller) frees its handler.
        self._runner = web.AppRunner(
            app, handle_signals=False, handler_cancellation=True, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Release pending long polls first so shutdown never waits for their timeouts."""
        self._closing = True
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

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

    # ------------------------------------------------------------------ simulated users

    def user_sends(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str = "Buyer",
        language_code: str = "en",
        queue: bool = True,
    ) -> JSON:
        """A private message from a user; the user thereby starts (and unblocks) the bot.

        Commands get bot_command entities like real clients produce. With ``queue=False`` the
        update is only built, for tests that POST it to the bot's webhook themselves.
        """
        user = self._register(user_id, first_name, language_code)
        self._blocked.discard(user_id)  # writing to a blocked bot requires unblocking it
        message_id = self._next_message_id(user_id)
        self._user_messages.setdefault(user_id, set()).add(message_id)
        message: JSON = {
            "message_id": message_id,
            "from": user,
            "chat": self._chat_json(user_id),
            "date": int(time.time()),
            "text": text,
        }
        entities = [
            {
                "type": "bot_command",
                "offset": utf16_len(text[: m.start()]),
                "length": utf16_len(m.group()),
            }
            for m in re.finditer(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?", text)
        ]
        if entities:
            message["entities"] = entities
        return self._make_update("message", message, queue)

    def user_taps(
        self,
        user_id: int,
        message: FakeMessage,
        callback_data: str,
        *,
        queue: bool = True,
        check_keyboard: bool = True,
    ) -> JSON:
        """A callback query from tapping a button on the message's *current* keyboard.

        Tapping a button that is not there (any more), or on a message in someone else's chat,
        is a bug in the test or the bot, so it raises AssertionError instead of producing an
        update no real client could send. ``check_keyboard=False`` skips those checks to model
        a forged query from a modified client: the bot must not trust callback_data blindly.
        """
        current = self._find_message(message.chat_id, message.message_id)
        if current is None:
            raise AssertionError(f"the bot never sent message {message.message_id}")
        datas = [b.get("callback_data") for b in current.buttons()]
        if check_keyboard:
            if current.deleted:
                raise AssertionError(f"message {current.message_id} was deleted")
            if current.chat_id != user_id:
                raise AssertionError(f"user {user_id} cannot see chat {current.chat_id}")
            if callback_data not in datas:
                raise AssertionError(
                    f"no button with callback_data {callback_data!r} on message "
                    f"{current.message_id}; its buttons carry {datas}"
                )
        user = self._users.get(user_id) or self._register(user_id, "Buyer", "en")
        query_id = str(next(self._query_ids))
        self._pending_queries.add(query_id)
        query: JSON = {
            "id": query_id,
            "from": user,
            "message": self._message_json(current),
            "chat_instance": str(-(10**18) - current.chat_id),
            "data": callback_data,
        }
        return self._make_update("callback_query", query, queue)

    def user_sends_photo(
        self,
        user_id: int,
        *,
        caption: str | None = None,
        sizes: tuple[tuple[int, int], ...] = ((90, 68), (320, 240), (1280, 960)),
        first_name: str = "Buyer",
        queue: bool = True,
        data: bytes | None = None,
    ) -> JSON:
        """A photo from a user, as Telegram delivers it: one PhotoSize per size, smallest
        first, each with its own file_id that the bot may send back or download (getFile).
        With `data` (a real image) every size serves those bytes; else a stub JPEG each."""
        photo = []
        for width, height in sizes:
            content = data or b"\xff\xd8\xff" + f"fake jpeg {width}x{height}".encode()
            file_id = self._register_user_file("photo", content, {"width": width, "height": height})
            photo.append(self._files[file_id]["json"])
        extra: JSON = {"photo": photo}
        if caption:
            extra["caption"] = caption
        return self._user_media_message(user_id, extra, first_name, queue)

    def user_sends_document(
        self,
        user_id: int,
        file_name: str,
        content: bytes,
        *,
        mime_type: str = "text/plain",
        caption: str | None = None,
        first_name: str = "Buyer",
        queue: bool = True,
    ) -> JSON:
        """A file from a user (e.g. a .txt upload); getFile and the download URL serve
        ``content`` back byte for byte."""
        meta = {"file_name": file_name, "mime_type": mime_type}
        file_id = self._register_user_file("document", content, meta)
        extra: JSON = {"document": self._files[file_id]["json"]}
        if caption:
            extra["caption"] = caption
        return self._user_media_message(user_id, extra, first_name, queue)

    def _register_user_file(self, kind: str, data: bytes, meta: JSON) -> str:
        number = next(self._file_ids)
        file_id = f"{'AgAC' if kind == 'photo' else 'BQAC'}user{number:06d}"
        info: JSON = {
            "file_id": file_id,
            "file_unique_id": f"AQADuser{number:06d}",
            "file_size": len(data),
            **meta,
        }
        self._files[file_id] = {"kind": kind, "json": info, "data": data}
        return file_id

    def _user_media_message(self, user_id: int, extra: JSON, first_name: str, queue: bool) -> JSON:
        user = self._register(user_id, first_name, "en")
        self._blocked.discard(user_id)
        message_id = self._next_message_id(user_id)
        self._user_messages.setdefault(user_id, set()).add(message_id)
        message: JSON = {
            "message_id": message_id,
            "from": user,
            "chat": self._chat_json(user_id),
            "date": int(time.time()),
            **extra,
        }
        return self._make_update("message", message, queue)

    def block(self, user_id: int) -> None:
        """The user blocked the bot: every request targeting their chat answers 403."""
        self._blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self._blocked.discard(user_id)

    def fail_next(
        self, method: str, *, times: int = 1, status: int = 429, retry_after: int = 1
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail without any side effect.

        429 answers carry parameters.retry_after like Telegram's flood control; 5xx statuses
        mimic gateway trouble (502 "Bad Gateway" and friends). Replaces whatever failures are
        still pending for ``method``, so ``times=0`` ends an outage early.
        """
        canonical = _CANONICAL.get(method.lower())
        if canonical is None:
            raise ValueError(f"FakeTelegram does not implement {method!r}")
        if status != 429 and not 500 <= status <= 599:
            raise ValueError("fail_next injects 429 (flood control) or 5xx (gateway) answers")
        self._failures[canonical] = deque([(status, retry_after)] * times)

    # ------------------------------------------------------------------ inspection

    def messages(self, chat_id: int) -> list[FakeMessage]:
        """The bot's messages in the chat, oldest first, deleted ones included (deleted=True)."""
        return list(self._messages.get(chat_id, []))

    async def wait_for(
        self,
        chat_id: int,
        predicate: Callable[[FakeMessage], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the test-facing API, like wait_for's
    ) -> FakeMessage:
        """The first of the bot's messages in the chat matching ``predicate``, waiting for it."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for message in self._messages.get(chat_id, []):
                if predicate(message):
                    return message
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                seen = [
                    (m.message_id, m.text or m.caption, m.deleted) for m in self.messages(chat_id)
                ]
                raise AssertionError(
                    f"no message in chat {chat_id} matched within {timeout}s; messages: {seen}"
                )
            await self._wait_change(remaining)

    def file_data(self, file_id: str) -> bytes | None:
        """The bytes of a file a user sent (None for the bot's own uploads and URLs)."""
        data = self._files.get(file_id, {}).get("data")
        return data if isinstance(data, bytes) else None

    def file_url(self, file_id: str) -> str | None:
        """The URL the bot sent a file from (None for uploads and users' files), so a viewer
        such as the sandbox page can show a photo the fake itself never downloads."""
        url = self._files.get(file_id, {}).get("url")
        return url if isinstance(url, str) else None

    async def wait_for_change(
        self,
        timeout: float,  # noqa: ASYNC109 - a plain bound on the wait, like asyncio.wait_for's
    ) -> None:
        """Return at the next change (a message sent, edited or deleted, an update queued, a
        callback answered) or after ``timeout`` seconds: live views wait here, not in a loop."""
        await self._wait_change(timeout)

    def calls_of(self, method: str) -> list[FakeCall]:
        canonical = _CANONICAL.get(method.lower(), method)
        return [call for call in self.calls if call.method == canonical]

    # ------------------------------------------------------------------ transport

    async def _serve(self, request: web.Request) -> web.Response:
        raw_method = request.match_info["method"]
        method = _CANONICAL.get(raw_method.lower(), raw_method)
        params: JSON = {}
        unreadable: ApiError | None = None
        try:
            try:
                params = await _read_params(request)  # first, so even failed calls show them
            except ApiError as error:
                unreadable = error
            try:
                if self.down:
                    raise ApiError(502, "Bad Gateway")
                self._check_token(request.match_info["token"])
                handler = self._handlers.get(method)
                if handler is None:
                    raise ApiError(404, "Not Found")
                if unreadable is not None:
                    raise unreadable
                self._injected_failure(method)
                self._chat_flood_control(method, params)
                self._flood_control(method)
                status, body = 200, {"ok": True, "result": await handler(params)}
            except ApiError as error:
                status, body = error.status, error.body()
        except asyncio.CancelledError:
            # The client hung up (aiohttp cancels the handler); nothing was answered.
            self.calls.append(FakeCall(method, params, 499, {}))
            raise
        self.calls.append(FakeCall(method, params, status, body))
        return web.json_response(body, status=status)

    def _check_token(self, token: str) -> None:
        """Telegram answers 401 for a well-formed but wrong token and 404 for garbage."""
        if token == self._token:
            return
        if re.fullmatch(r"\d+:[\w-]+", token):
            raise ApiError(401, "Unauthorized")
        raise ApiError(404, "Not Found")

    def _injected_failure(self, method: str) -> None:
        pending = self._failures.get(method)
        if not pending:
            return
        status, retry_after = pending.popleft()
        if status == 429:
            raise ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )
        raise ApiError(status, _FAILURE_DESCRIPTIONS.get(status, "Server Error"))

    def _flood_control(self, method: str) -> None:
        if self.rate_limit_per_second is None or method not in RATE_LIMITED_METHODS:
            return
        now = time.monotonic()
        while self._recent_sends and now - self._recent_sends[0] >= 1.0:
            self._recent_sends.popleft()
        if len(self._recent_sends) >= self.rate_limit_per_second:
            self.rate_limited += 1
            raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        self._recent_sends.append(now)

    def _chat_flood_control(self, method: str, params: JSON) -> None:
        if self.chat_rate_limit is None or method not in RATE_LIMITED_METHODS:
            return
        limit, seconds = self.chat_rate_limit
        try:
            chat_id = int(params.get("chat_id", 0))
        except (TypeError, ValueError):
            return  # the method's own checks answer that
        now = time.monotonic()
        recent = self._recent_in_chat.setdefault(chat_id, deque())
        while recent and now - recent[0] >= seconds:
            recent.popleft()
        if len(recent) >= limit:
            self.rate_limited += 1
            wait = max(1, math.ceil(seconds - (now - recent[0])))
            raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        recent.append(now)

    # ------------------------------------------------------------------ state helpers

    def _notify(self) -> None:
        """Wake every waiter (long polls, wait_for); each re-checks its own condition."""
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

    def _formatted(
        self, params: JSON, key: str, entities_key: str, limit: int, *, required: bool
    ) -> tuple[str, list[JSON]]:
        """Apply parse_mode to text/caption and enforce the length limit after parsing."""
        raw = params.get(key)
        what = "message text" if key == "text" else "message caption"
        if raw is None or raw == "":
            if required:
                raise bad_request(f"{what} is empty")
            return "", []
        raw = str(raw)
        mode = params.get("parse_mode") or ""
        if not mode:
            given = params.get(entities_key)
            plain, entities = raw, given if isinstance(given, list) else []
        elif str(mode).lower() == "html":
            try:
                plain, entities = parse_html(raw)
            except ValueError as error:
                raise bad_request(f"can't parse entities: {error}") from None
        else:
            raise bad_request(f"unsupported parse_mode {mode!r} (FakeTelegram implements HTML)")
        if required and not plain.strip():
            raise bad_request(f"{what} is empty")
        if utf16_len(plain) > limit:
            raise bad_request(f"{what.replace('message text', 'message')} is too long")
        return plain, entities

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

    def _file(self, params: JSON, key: str, kind: str) -> str:
        """Resolve a photo/document argument (upload, URL or file_id) to a file_id."""
        value = params.get(key)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if value is None or value == "":
            raise bad_request(f"there is no {kind} in the request")
        if isinstance(value, str) and not value.lower().startswith(("http://", "https://")):
            known = self._files.get(value)
            if known is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            if known["kind"] != kind:
                raise bad_request("type of file mismatch")
            return value
        if isinstance(value, FakeUpload) and not value.data:
            raise bad_request("file must be non-empty")
        number = next(self._file_ids)
        file_id = f"{'AgAC' if kind == 'photo' else 'BQAC'}fake{number:06d}"
        meta: JSON = {"file_id": file_id, "file_unique_id": f"AQADfake{number:06d}"}
        if isinstance(value, FakeUpload):
            meta["file_size"] = len(value.data)
        if kind == "photo":
            meta.update(width=800, height=600)
        else:
            name = value.filename if isinstance(value, FakeUpload) else value.rsplit("/", 1)[-1]
            meta["file_name"] = name or "document"
            if isinstance(value, FakeUpload):
                meta["mime_type"] = value.content_type
        self._files[file_id] = {"kind": kind, "json": meta}
        if isinstance(value, str):
            self._files[file_id]["url"] = value  # never fetched; kept so a viewer can show it
        return file_id

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

    # ------------------------------------------------------------------ Bot API methods

    async def _m_getMe(self, params: JSON) -> JSON:
        return {
            **self._bot_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _m_logOut(self, params: JSON) -> bool:
        return True

    async def _m_close(self, params: JSON) -> bool:
        return True

    async def _m_getUpdates(self, params: JSON) -> list[JSON]:
        """Long polling: confirm below offset, then wait up to ``timeout`` for updates."""
        if self.webhook is not None:
            raise ApiError(409, WEBHOOK_CONFLICT)
        offset = _int_param(params, "offset", 0)
        limit = min(max(_int_param(params, "limit", 100), 1), 100)
        timeout = max(_int_param(params, "timeout", 0), 0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed] or None
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older poll still waiting is terminated, like on Telegram
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, POLL_CONFLICT)
            self._updates = [u for u in self._updates if self._wanted(u)]
            remaining = deadline - asyncio.get_running_loop().time()
            if self._updates or remaining <= 0 or self._closing:
                return self._updates[:limit]
            await self._wait_change(remaining)

    def _wanted(self, update: JSON) -> bool:
        kind = next(key for key in update if key != "update_id")
        if self._allowed_updates is None:
            return kind not in _DEFAULT_EXCLUDED_UPDATES
        return kind in self._allowed_updates

    async def _m_setWebhook(self, params: JSON) -> bool:
        url = str(params.get("url") or "")
        if not url:
            self.webhook = None
            return True
        parts = urlsplit(url)
        try:
            port = parts.port or 443
        except ValueError:
            raise bad_request("bad webhook: Wrong port number specified in the URL") from None
        if parts.scheme.lower() != "https" or not parts.hostname:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if port not in (80, 88, 443, 8443):
            raise bad_request(
                "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
            )
        secret = params.get("secret_token")
        if secret is not None:
            if not isinstance(secret, str) or not 1 <= len(secret) <= 256:
                raise bad_request("secret token must be 1-256 characters long")
            if not re.fullmatch(r"[A-Za-z0-9_-]+", secret):
                raise bad_request("secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        if allowed is not None and not (
            isinstance(allowed, list) and all(isinstance(kind, str) for kind in allowed)
        ):
            raise bad_request("can't parse allowed_updates JSON object")
        max_connections = _int_param(params, "max_connections", 40)
        if not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {
            "url": url,
            "secret_token": secret,
            "allowed_updates": allowed,
            "max_connections": max_connections,
            "ip_address": params.get("ip_address"),
            "has_custom_certificate": isinstance(params.get("certificate"), FakeUpload),
        }
        return True

    async def _m_deleteWebhook(self, params: JSON) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _m_getWebhookInfo(self, params: JSON) -> JSON:
        hook = self.webhook or {}
        info: JSON = {
            "url": hook.get("url", ""),
            "has_custom_certificate": bool(hook.get("has_custom_certificate")),
            "pending_update_count": len(self._updates),
        }
        if hook:
            info["max_connections"] = hook["max_connections"]
            for key in ("allowed_updates", "ip_address"):
                if hook.get(key) is not None:
                    info[key] = hook[key]
        return info

    def _scope_key(self, params: JSON) -> str:
        """Canonical key for a (scope, language_code) pair: "default", "chat:42", "default/ru"."""
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
            raise bad_request("can't parse BotCommandScope JSON object")
        kind = scope["type"]
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            key = kind
        elif kind in ("chat", "chat_administrators", "chat_member"):
            chat_id = self._chat({"chat_id": scope.get("chat_id")})
            key = f"{kind}:{chat_id}"
            if kind == "chat_member":
                key += f":{_int_param(scope, 'user_id')}"
        else:
            raise bad_request(f"unsupported bot command scope type {kind!r}")
        language = params.get("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", str(language)):
            raise bad_request("invalid language code specified")
        return f"{key}/{language}" if language else key

    async def _m_setMyCommands(self, params: JSON) -> bool:
        commands = params.get("commands", [])
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        stored: list[dict[str, str]] = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand: BotCommand must be an Object")
            for key in ("command", "description"):
                if not isinstance(command.get(key), str):
                    raise bad_request(f"can't parse BotCommand: Can't find field \"{key}\"")
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]):
                raise bad_request("BOT_COMMAND_INVALID")
            if not command["description"].strip():
                raise bad_request("command description must be non-empty")
            if len(command["description"]) > 256:
                raise bad_request("command description is too long")
            stored.append({"command": command["command"], "description": command["description"]})
        key = self._scope_key(params)
        if stored:
            self.commands[key] = stored
        else:
            self.commands.pop(key, None)
        return True

    async def _m_deleteMyCommands(self, params: JSON) -> bool:
        self.commands.pop(self._scope_key(params), None)
        return True

    async def _m_getMyCommands(self, params: JSON) -> list[dict[str, str]]:
        return list(self.commands.get(self._scope_key(params), []))

    async def _m_sendMessage(self, params: JSON) -> JSON:
        chat_id = self._chat(params)
        text, entities = self._formatted(params, "text", "entities", MAX_TEXT_UTF16, required=True)
        markup = check_reply_markup(params.get("reply_markup"))
        self._check_reply_to(chat_id, params)
        return self._store(
            FakeMessage(
                message_id=self._next_message_id(chat_id),
                chat_id=chat_id,
                text=text,
                html=str(params["text"]),
                parse_mode=params.get("parse_mode") or None,
                reply_markup=markup,
                entities=entities,
                date=int(time.time()),
            )
        )

    async def _send_media(self, params: JSON, kind: str) -> JSON:
        chat_id = self._chat(params)
        file_id = self._file(params, kind, kind)
        caption, entities = self._formatted(
            params, "caption", "caption_entities", MAX_CAPTION_UTF16, required=False
        )
        markup = check_reply_markup(params.get("reply_markup"))
        self._check_reply_to(chat_id, params)
        return self._store(
            FakeMessage(
                message_id=self._next_message_id(chat_id),
                chat_id=chat_id,
                caption=caption or None,
                caption_html=str(params["caption"]) if caption else None,
                photo=file_id if kind == "photo" else None,
                document=file_id if kind == "document" else None,
                parse_mode=params.get("parse_mode") or None,
                reply_markup=markup,
                caption_entities=entities,
                date=int(time.time()),
            )
        )

    async def _m_sendPhoto(self, params: JSON) -> JSON:
        return await self._send_media(params, "photo")

    async def _m_sendDocument(self, params: JSON) -> JSON:
        return await self._send_media(params, "document")

    async def _m_editMessageText(self, params: JSON) -> JSON:
        message = self._editable(params)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        text, entities = self._formatted(params, "text", "entities", MAX_TEXT_UTF16, required=True)
        # Omitting reply_markup removes the inline keyboard, exactly as on Telegram.
        markup = check_reply_markup(params.get("reply_markup"), inline_only=True)
        if (text, entities, markup) == (
            message.text,
            message.entities,
            _inline(message.reply_markup),
        ):
            raise ApiError(400, NOT_MODIFIED)
        message.text, message.html, message.entities = text, str(params["text"]), entities
        message.parse_mode = params.get("parse_mode") or None
        _set_inline_markup(message, markup)
        return self._edited(message)

    async def _m_editMessageCaption(self, params: JSON) -> JSON:
        message = self._editable(params)
        if message.text is not None:
            raise bad_request("there is no caption in the message to edit")
        caption, entities = self._formatted(
            params, "caption", "caption_entities", MAX_CAPTION_UTF16, required=False
        )
        markup = check_reply_markup(params.get("reply_markup"), inline_only=True)
        current = (message.caption or "", message.caption_entities, _inline(message.reply_markup))
        if (caption, entities, markup) == current:
            raise ApiError(400, NOT_MODIFIED)
        message.caption = caption or None
        message.caption_html = str(params["caption"]) if caption else None
        message.caption_entities = entities
        message.parse_mode = params.get("parse_mode") or None
        _set_inline_markup(message, markup)
        return self._edited(message)

    async def _m_editMessageReplyMarkup(self, params: JSON) -> JSON:
        message = self._editable(params)
        markup = check_reply_markup(params.get("reply_markup"), inline_only=True)
        if markup == _inline(message.reply_markup):
            raise ApiError(400, NOT_MODIFIED)
        _set_inline_markup(message, markup)
        return self._edited(message)

    async def _m_deleteMessage(self, params: JSON) -> bool:
        chat_id = self._chat(params)
        message_id = _int_param(params, "message_id")
        message = self._find_message(chat_id, message_id)
        if message is not None and not message.deleted:
            message.deleted = True
            self._notify()
            return True
        if message_id in self._user_messages.get(chat_id, set()):
            self._user_messages[chat_id].discard(message_id)  # bots may delete incoming DMs
            return True
        raise bad_request("message to delete not found")

    async def _m_answerCallbackQuery(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._pending_queries:
            raise ApiError(400, QUERY_INVALID)
        text = params.get("text")
        if isinstance(text, str) and utf16_len(text) > MAX_CALLBACK_ANSWER_UTF16:
            raise bad_request("MESSAGE_TOO_LONG")
        self._pending_queries.discard(query_id)
        self.answered_callbacks.append(
            {
                "callback_query_id": query_id,
                "text": text,
                "show_alert": bool(params.get("show_alert")),
                "url": params.get("url"),
                "cache_time": params.get("cache_time"),
            }
        )
        self._notify()
        return True

    async def _m_sendChatAction(self, params: JSON) -> bool:
        self._chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    async def _m_getFile(self, params: JSON) -> JSON:
        """Telegram answers a file_path under /file/bot<token>/ for files of up to 20 MB."""
        file_id = str(params.get("file_id") or "")
        if not file_id:
            raise bad_request("file_id is empty")
        known = self._files.get(file_id)
        if known is None:
            raise bad_request("invalid file_id")
        data = known.get("data")
        if data is None:  # sent by the bot from a URL: the fake never fetched its bytes
            raise bad_request("file is temporarily unavailable")
        if len(data) > MAX_DOWNLOAD_BYTES:
            raise bad_request("file is too big")
        meta = known["json"]
        folder = "photos" if known["kind"] == "photo" else "documents"
        suffix = ".jpg" if known["kind"] == "photo" else _suffix(meta.get("file_name", ""))
        path = f"{folder}/file_{meta['file_unique_id']}{suffix}"
        known["path"] = path
        return {
            "file_id": file_id,
            "file_unique_id": meta["file_unique_id"],
            "file_size": len(data),
            "file_path": path,
        }

    async def _serve_file(self, request: web.Request) -> web.Response:
        """The download URL of a file_path handed out by getFile; anything else is a 404."""
        try:
            self._check_token(request.match_info["token"])
        except ApiError as error:
            return web.json_response(error.body(), status=error.status)
        wanted = request.match_info["file_path"]
        for known in self._files.values():
            if known.get("path") == wanted and known.get("data") is not None:
                return web.Response(body=known["data"], content_type="application/octet-stream")
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )
