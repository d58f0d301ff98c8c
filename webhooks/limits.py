"""What the HTTP server holds out against on its own, without a reverse proxy in front.

A client gets a bounded share of the process: `IDLE_SECONDS` to send its request headers (and
as long idle between keep-alive requests), `BODY_READ_SECONDS` to send a body that did not
arrive with them, and at most `MAX_SLOW_BODIES` such bodies are awaited at once. At most
`MAX_CONNECTIONS` connections are open (well under the common limit of 1,024 file descriptors,
leaving room for the database and the Telegram and Stripe connections); at the cap the
longest-open idle connection — one with no request in flight — makes room for the newcomer, so
a flood of silent or slow clients cannot lock out /healthz or a signed webhook that arrives
whole. Each refused client is one log line, at most one a second (the rest are counted into the
next line), never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler
from aiohttp.web_protocol import RequestHandler

log = logging.getLogger(__name__)

BODY_READ_SECONDS = 10.0
IDLE_SECONDS = 15.0
MAX_CONNECTIONS = 512
MAX_SLOW_BODIES = 128  # above the concurrency of a webhook burst, well under MAX_CONNECTIONS
LISTEN_BACKLOG = 128
# After an early answer (408, 413, 503), read and drop what the client still sends for this
# long so it can see the answer; then close (aiohttp's default of 10 s kept slow clients open).
LINGER_SECONDS = 1.0
REFUSAL_LOG_INTERVAL = 1.0


class RefusalLog:
    """One line per refused client, at most one per `interval`; the rest are counted."""

    def __init__(self, interval: float = REFUSAL_LOG_INTERVAL) -> None:
        self._interval = interval
        self._last = -interval
        self._unlogged = 0

    def refused(self, peer: object, reason: str) -> None:
        moment = time.monotonic()
        if moment - self._last < self._interval:
            self._unlogged += 1
            return
        more = f" (and {self._unlogged} more refused since the last line)" if self._unlogged else ""
        log.warning("HTTP client %s refused: %s%s", peer, reason, more)
        self._last, self._unlogged = moment, 0


class BodyOverdue(TimeoutError):
    """A request body that has not fully arrived `BODY_READ_SECONDS` after its headers.

    A TimeoutError, so that aiohttp's lingering read after our answer ends quietly on it."""


@dataclass
class ServerGuard:
    """The middleware that bounds body reads, and the record of which connections are busy.

    It puts a deadline on the body rather than reading it itself, so each route still decides
    what to read (a webhook with a wrong secret is refused without reading a byte)."""

    body_read_seconds: float = BODY_READ_SECONDS
    max_slow_bodies: int = MAX_SLOW_BODIES
    max_connections: int = MAX_CONNECTIONS

    def __post_init__(self) -> None:
        self.refusals = RefusalLog()
        self._busy: set[object] = set()
        self._slow_bodies = 0

    def is_busy(self, connection: object) -> bool:
        return connection in self._busy

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Every request passes here: a body still arriving gets a deadline, and a body that
        breaks off is one log line instead of aiohttp's traceback."""
        connection = request.protocol
        self._busy.add(connection)
        try:
            if not request.body_exists or request.content.is_eof():
                return await handler(request)  # no body, or all of it came with the headers
            return await self._with_body_deadline(request, handler)
        except (ConnectionError, web.RequestPayloadError, BodyOverdue) as error:
            if request.content.exception() is not error:
                raise  # not the body's own failure
            if isinstance(error, BodyOverdue):
                return self._refuse(request, 408, str(error))
            return self._refuse(request, 400, f"body broken off ({type(error).__name__})")
        finally:
            self._busy.discard(connection)

    async def _with_body_deadline(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        """Run the route; whoever reads the body gets BodyOverdue once the time is up."""
        if self._slow_bodies >= self.max_slow_bodies:
            return self._refuse(request, 503, "too many bodies still arriving")
        payload = request.content
        overdue = BodyOverdue(f"body not sent within {self.body_read_seconds:g} s")
        timer = asyncio.get_running_loop().call_later(
            self.body_read_seconds,
            lambda: None if payload.is_eof() else payload.set_exception(overdue),
        )
        self._slow_bodies += 1
        try:
            return await handler(request)
        finally:
            self._slow_bodies -= 1
            timer.cancel()

    def _refuse(self, request: web.Request, status: int, reason: str) -> web.Response:
        self.refusals.refused(request.remote, reason)
        response = web.json_response({"error": reason}, status=status)
        response.force_close()
        return response


class _Refused(asyncio.Protocol):
    """A connection beyond the cap with nothing idle to make room: closed at once."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.abort()


class GuardedConnections:
    """The listening socket's protocol factory: aiohttp's, behind the connection cap."""

    def __init__(self, server: web.Server, guard: ServerGuard) -> None:
        self._server, self._guard = server, guard

    def __call__(self) -> asyncio.Protocol:
        open_now = self._server.connections  # oldest first
        if len(open_now) >= self._guard.max_connections and not self._evict_idle(open_now):
            self._guard.refusals.refused("(new)", f"{len(open_now)} connections open")
            return _Refused()
        return self._server()

    def _evict_idle(self, open_now: list[RequestHandler]) -> bool:
        for connection in open_now:
            if not self._guard.is_busy(connection):
                peer = connection.transport and connection.transport.get_extra_info("peername")
                self._guard.refusals.refused(peer, "idle connection closed to make room")
                connection.force_close()
                return True
        return False


async def listen(runner: web.AppRunner, guard: ServerGuard, host: str, port: int) -> asyncio.Server:
    """Serve `runner`'s app on host:port behind the connection cap; close it before cleanup."""
    assert runner.server is not None, "runner.setup() first"
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        GuardedConnections(runner.server, guard),
        host,
        port,
        backlog=LISTEN_BACKLOG,
        reuse_address=True,
        family=socket.AF_UNSPEC,
    )
