"""The Telegram stand-in's public names, where tests, the bench and the sandbox import them from.

The stand-in itself lives in sandbox/telegram_standin/ (one module per concern); see
sandbox/telegram_standin/server.py for what it does and how strict it is.
"""

from __future__ import annotations

from sandbox.telegram_standin.entities import parse_html, utf16_len
from sandbox.telegram_standin.markup import check_reply_markup
from sandbox.telegram_standin.protocol import (
    MAX_CALLBACK_ANSWER_UTF16,
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_UTF16,
    MAX_INLINE_BUTTONS,
    MAX_TEXT_UTF16,
    METHODS,
    RATE_LIMITED_METHODS,
    ApiError,
)
from sandbox.telegram_standin.records import (
    FakeCall,
    FakeInvoice,
    FakeMessage,
    FakePayment,
    FakeUpload,
)
from sandbox.telegram_standin.server import FakeTelegram

__all__ = [
    "MAX_CALLBACK_ANSWER_UTF16",
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_CAPTION_UTF16",
    "MAX_INLINE_BUTTONS",
    "MAX_TEXT_UTF16",
    "METHODS",
    "RATE_LIMITED_METHODS",
    "ApiError",
    "FakeCall",
    "FakeInvoice",
    "FakeMessage",
    "FakePayment",
    "FakeTelegram",
    "FakeUpload",
    "check_reply_markup",
    "parse_html",
    "utf16_len",
]
