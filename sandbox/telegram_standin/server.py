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
import math
import re
from collections import deque

from aiohttp import web

from sandbox.sliding_window import SlidingWindow
from sandbox.telegram_standin.params import _read_params
from sandbox.telegram_standin.payments import TelegramPaymentMethods
from sandbox.telegram_standin.protocol import (
    _CANONICAL,
    _FAILURE_DESCRIPTIONS,
    JSON,
    RATE_LIMITED_METHODS,
    ApiError,
)
from sandbox.telegram_standin.records import FakeCall, HeldCall


class FakeTelegram(TelegramPaymentMethods):
    """The Bot API server, the users talking to the bot, and inspection helpers for tests."""

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

    def hold_next(self, method: str) -> HeldCall:
        """Keep the next call of ``method`` waiting, before Telegram acts on it, until the
        test releases it: a slow answer from Telegram, for tests that order two senders'
        calls (one instance's edit still on its way while another's lands)."""
        canonical = _CANONICAL.get(method.lower())
        if canonical is None:
            raise ValueError(f"FakeTelegram does not implement {method!r}")
        held = HeldCall()
        self._holds.setdefault(canonical, deque()).append(held)
        return held

    async def _held(self, method: str) -> None:
        pending = self._holds.get(method)
        if pending:
            held = pending.popleft()
            held.arrived.set()
            await held.released.wait()

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
                await self._held(method)
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
        if self._recent_sends.admit(self.rate_limit_per_second) is not None:
            self.rate_limited += 1
            raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})

    def _chat_flood_control(self, method: str, params: JSON) -> None:
        if self.chat_rate_limit is None or method not in RATE_LIMITED_METHODS:
            return
        limit, seconds = self.chat_rate_limit
        try:
            chat_id = int(params.get("chat_id", 0))
        except (TypeError, ValueError):
            return  # the method's own checks answer that
        wait = self._recent_in_chat.setdefault(chat_id, SlidingWindow()).admit(limit, seconds)
        if wait is not None:
            self.rate_limited += 1
            retry = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})

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
