"""The one place that sends the shop's own messages, turning Telegram's errors into decisions.

Handlers answer the user directly through python-telegram-bot; everything the shop *owes*
somebody (goods, alerts) goes through here, so that every failure is classified as: retry
later, the user blocked us, or Telegram refused this message for good.
"""

from __future__ import annotations

import enum
import logging
import random
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from storage.models import DeliveryKind

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 600


class Result(enum.Enum):
    SENT = "sent"
    RETRY = "retry"  # transient: timeout, network, flood control, Telegram down
    BLOCKED = "blocked"  # the user blocked the bot or deleted their account
    REJECTED = "rejected"  # Telegram refused this request for good (chat not found, …)
    GONE = "gone"  # the message to edit no longer exists or can't be edited


@dataclass(frozen=True)
class Outcome:
    result: Result
    message_id: int | None = None
    retry_after: float | None = None
    error: str = ""


class Priority(enum.IntEnum):
    """Which message leaves first when Telegram's ~30 messages/s are the bottleneck."""

    GOODS = 0  # what was paid for, and payment links: money waits on these
    NOTICE = 1  # everything else: replies, notices, admin alerts
    REFUSAL = 2  # "sold out", "too many taps": nothing the buyer can act on at once


_priority: ContextVar[Priority] = ContextVar("telegram_send_priority", default=Priority.NOTICE)


@contextmanager
def sending_as(priority: Priority) -> Iterator[None]:
    """Bot API calls made inside take their place in the send schedule by `priority`."""
    token = _priority.set(priority)
    try:
        yield
    finally:
        _priority.reset(token)


def current_priority() -> Priority:
    return _priority.get()


def delivery_priority(kind: DeliveryKind) -> Priority:
    """Goods (first delivery or sent again) before the outbox's notices and alerts."""
    return Priority.GOODS if kind in (DeliveryKind.GOODS, DeliveryKind.RESEND) else Priority.NOTICE


# "no text": a Stars order's own message is its invoice, whose text can't be edited — the
# receipt then goes as a new message, which becomes the order's (bot/delivery.py).
_GONE = (
    "message to edit not found",
    "message can't be edited",
    "message_id_invalid",
    "there is no text in the message to edit",
)


def retry_after_seconds(error: RetryAfter) -> float:
    """Telegram's asked-for pause, whether PTB gives it as int or (from v23) timedelta."""
    with warnings.catch_warnings():  # PTB 22 warns that int will become timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        seconds = error.retry_after
    return seconds.total_seconds() if not isinstance(seconds, int) else float(seconds)


def backoff_seconds(attempts: int, retry_after: float | None) -> int:
    """When to try an owed message again: exponential backoff with jitter, capped; never
    sooner than Telegram asked."""
    base = min(2 ** min(attempts, 10), MAX_BACKOFF_SECONDS)
    wait = base * random.uniform(0.5, 1.0)
    if retry_after is not None:
        wait = max(wait, retry_after)
    return max(1, int(round(wait)))


def _classify(error: TelegramError) -> Outcome:
    # Order matters: BadRequest and TimedOut are both NetworkError subclasses in PTB.
    if isinstance(error, RetryAfter):
        return Outcome(Result.RETRY, retry_after=retry_after_seconds(error), error=str(error))
    if isinstance(error, Forbidden):
        return Outcome(Result.BLOCKED, error=str(error))
    if isinstance(error, BadRequest):
        text = error.message.lower()
        if "message is not modified" in text:
            return Outcome(Result.SENT, error=str(error))
        if any(marker in text for marker in _GONE):
            return Outcome(Result.GONE, error=str(error))
        return Outcome(Result.REJECTED, error=str(error))
    return Outcome(Result.RETRY, error=f"{type(error).__name__}: {error}")


async def send_text(
    bot: Bot, chat_id: int, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> Outcome:
    try:
        message: Message = await bot.send_message(
            chat_id,
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=reply_markup,
            link_preview_options=None,
        )
    except TelegramError as error:
        return _classify(error)
    return Outcome(Result.SENT, message_id=message.message_id)


async def edit_text(
    bot: Bot,
    chat_id: int,
    message_id: int,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> Outcome:
    """Edit a message in place; editing to the same content counts as done (idempotent)."""
    try:
        await bot.edit_message_text(
            text,
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=reply_markup,
        )
    except TelegramError as error:
        return _classify(error)
    return Outcome(Result.SENT, message_id=message_id)


# deleteMessage: a message already deleted (by the buyer, or by us before a crash) is done; one
# Telegram keeps (sent over 48 hours ago) "can't be deleted" and stays as it is.
_DELETED = ("message to delete not found",)
_UNDELETABLE = ("message can't be deleted",)


async def delete_message(bot: Bot, chat_id: int, message_id: int) -> Outcome:
    """Delete one of the bot's messages; deleting it twice counts as done (idempotent), and a
    message Telegram will not delete any more is GONE (the caller decides what that means)."""
    try:
        await bot.delete_message(chat_id, message_id)
    except BadRequest as error:
        text = error.message.lower()
        if any(marker in text for marker in _DELETED):
            return Outcome(Result.SENT, error=str(error))
        if any(marker in text for marker in _UNDELETABLE):
            return Outcome(Result.GONE, error=str(error))
        return _classify(error)
    except TelegramError as error:
        return _classify(error)
    return Outcome(Result.SENT)
