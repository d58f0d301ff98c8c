"""Shared values and small builders for the Bot API stand-in's tests."""

from __future__ import annotations

import datetime as dtm
import warnings

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import RetryAfter

BUYER = 42
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in buttons])


def retry_seconds(error: RetryAfter) -> float:
    """RetryAfter.retry_after is an int or a timedelta depending on PTB settings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB deprecates the int form
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)
