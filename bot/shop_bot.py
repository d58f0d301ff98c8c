"""The shop's Telegram `Bot` and the `Application` built around it.

Telegram takes an answer to a callback query only for a short while after the tap (about
10–15 s, undocumented: "query is too old and response timeout expired or query ID is invalid"),
and only once. A tap can reach its handler later than that: a flash sale's queue, a restart in
polling mode that picks up waiting updates, or in webhook mode another instance taking over the
chats of one that died. Such a tap still asks for something — a payment link, a refund, a
saved product — so its answer failing must not abort the handler and show "something went
wrong". `ShopBot.answer_callback_query` decides that in one place: an answer Telegram no
longer takes is logged and reported as False (the spinner is gone by then anyway), and every
handler goes on with the tap's work. Any other refusal still raises.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram.error import BadRequest
from telegram.ext import ApplicationBuilder, ExtBot
from telegram.request import HTTPXRequest

from bot.config import Settings
from bot.context import CONTEXT_TYPES, ShopApplication
from bot.rate_limiter import SteadyRateLimiter

log = logging.getLogger(__name__)

# Buy taps wait for the Stripe queue inside their handler; room for a flash sale's worth of
# them lets every tap be answered at once instead of queueing unanswered in PTB.
CONCURRENT_UPDATES = 1024
# Connections to the Bot API (PTB's own default for an Application's bot).
CONNECTION_POOL_SIZE = 256
# Telegram's words for a query that can no longer be answered (PTB drops "Bad Request: ").
_QUERY_GONE = ("query is too old", "query id is invalid")


def is_query_gone(error: BadRequest) -> bool:
    """Whether Telegram refused an answer because the query expired or was answered already."""
    message = error.message.lower()
    return any(words in message for words in _QUERY_GONE)


class ShopBot(ExtBot[int]):
    """PTB's ExtBot, with a late answer to a button tap being no error (the module says why)."""

    async def answer_callback_query(self, *args: Any, **kwargs: Any) -> bool:
        try:
            return await super().answer_callback_query(*args, **kwargs)
        except BadRequest as error:
            if not is_query_gone(error):
                raise
            log.info("a button tap was handled too late to answer it: %s", error.message)
            return False


def file_base_url(api_base_url: str) -> str:
    """PTB's file URL beside its API URL: …/bot → …/file/bot."""
    if api_base_url.endswith("/bot"):
        return api_base_url[: -len("bot")] + "file/bot"
    return api_base_url.rstrip("/") + "/file/bot"


def build_bot(settings: Settings, rate_limiter: SteadyRateLimiter) -> ShopBot:
    """The bot with its two HTTP pools: sends, and room for PTB's final getUpdates at shutdown
    while the cancelled long poll lets go."""
    return ShopBot(
        token=settings.telegram_bot_token,
        base_url=settings.telegram_api_base_url,
        base_file_url=file_base_url(settings.telegram_api_base_url),
        request=HTTPXRequest(
            connection_pool_size=CONNECTION_POOL_SIZE,
            connect_timeout=10,
            read_timeout=15,
            write_timeout=15,
            pool_timeout=10,
        ),
        get_updates_request=HTTPXRequest(connection_pool_size=2),
        rate_limiter=rate_limiter,
    )


def build_application(settings: Settings, rate_limiter: SteadyRateLimiter) -> ShopApplication:
    builder = (
        ApplicationBuilder()
        .context_types(CONTEXT_TYPES)
        .bot(build_bot(settings, rate_limiter))
        .concurrent_updates(CONCURRENT_UPDATES)
    )
    if settings.telegram_mode == "webhook":
        builder = builder.updater(None)
    return builder.build()
