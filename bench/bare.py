"""The yardstick for the webhook path: an aiohttp server whose handler only reads the body and
answers 200. Run as its own process, exactly like the shop (`python -m bench.bare <port>`), so
"ours / bare" compares the two handlers under the same client, transport and machine; whatever
the shop does beyond reading the request is what the ratio shows.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from aiohttp import web
from aiohttp.typedefs import Handler


async def webhook(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(status=200)


async def healthz(request: web.Request) -> web.Response:
    return web.Response(status=200)


async def serve(port: int) -> None:
    await serve_until_signal(webhook, port)


async def serve_until_signal(handler: Handler, port: int) -> None:
    """Serve `handler` at /stripe/webhook (and a /healthz) on loopback until SIGTERM/SIGINT."""
    app = web.Application()
    app.router.add_post("/stripe/webhook", handler)
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> int:
    asyncio.run(serve(int(sys.argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
