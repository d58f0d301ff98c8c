"""The aiohttp application: every HTTP route of the contract in one place, and its listener."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from webhooks import limits, pages, stripe_webhook, telegram_webhook
from webhooks.ports import ShopPorts

# Stripe events and Telegram updates are a few KiB; anything near this is not one of them.
MAX_BODY_BYTES = 256 * 1024
GUARD = web.AppKey("guard", limits.ServerGuard)


def create_app(
    ports: ShopPorts, *, stripe_webhook_secret: str, telegram_secret: str
) -> web.Application:
    guard = limits.ServerGuard()
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[guard.middleware])
    app[GUARD] = guard
    app.router.add_post(
        "/stripe/webhook", stripe_webhook.make_handler(ports, stripe_webhook_secret)
    )
    app.router.add_post("/telegram/webhook", telegram_webhook.make_handler(ports, telegram_secret))
    app.router.add_get("/success", pages.success_handler(ports))
    app.router.add_get("/cancel", pages.cancel_handler(ports))
    app.router.add_get("/healthz", pages.health_handler(ports))
    return app


@dataclass
class HttpServer:
    """The running server: aiohttp's runner behind our own guarded listening socket."""

    runner: web.AppRunner
    listener: asyncio.Server

    @property
    def port(self) -> int:
        return int(self.listener.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop accepting, then let aiohttp finish and close the open connections."""
        self.listener.close()
        await self.runner.cleanup()
        await self.listener.wait_closed()


async def serve(app: web.Application, host: str, port: int) -> HttpServer:
    """Serve `app` (create_app's, routes added) within the bounds of webhooks.limits."""
    runner = web.AppRunner(
        app,
        handle_signals=False,
        keepalive_timeout=limits.IDLE_SECONDS,
        lingering_time=limits.LINGER_SECONDS,
    )
    await runner.setup()
    try:
        listener = await limits.listen(runner, app[GUARD], host, port)
    except BaseException:
        await runner.cleanup()
        raise
    return HttpServer(runner, listener)
