"""The aiohttp application: every HTTP route of the contract in one place."""

from __future__ import annotations

from aiohttp import web

from webhooks import pages, stripe_webhook, telegram_webhook
from webhooks.ports import ShopPorts

# Stripe events and Telegram updates are a few KiB; anything near this is not one of them.
MAX_BODY_BYTES = 256 * 1024


def create_app(
    ports: ShopPorts, *, stripe_webhook_secret: str, telegram_secret: str
) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_post(
        "/stripe/webhook", stripe_webhook.make_handler(ports, stripe_webhook_secret)
    )
    app.router.add_post("/telegram/webhook", telegram_webhook.make_handler(ports, telegram_secret))
    app.router.add_get("/success", pages.success_handler(ports))
    app.router.add_get("/cancel", pages.cancel_handler(ports))
    app.router.add_get("/healthz", pages.health_handler(ports))
    return app
