"""POST /telegram/webhook: updates in webhook mode, only with Telegram's secret token."""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from webhooks.ports import ShopPorts

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def make_handler(ports: ShopPorts, secret_token: str) -> Handler:
    expected = secret_token.encode()

    async def telegram_webhook(request: web.Request) -> web.Response:
        # aiohttp keeps undecodable header bytes as surrogates; keep them, never crash on them.
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, expected):
            log.warning("telegram webhook: wrong or missing secret token from %s", request.remote)
            return web.json_response({"error": "forbidden"}, status=403)
        try:
            update = json.loads(await request.read())
        except (ValueError, RecursionError):
            return web.json_response({"error": "malformed body"}, status=400)
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            return web.json_response({"error": "not an update"}, status=400)
        try:
            await ports.feed_telegram_update(update)
        except ValueError:
            return web.json_response({"error": "not an update"}, status=400)
        except Exception as error:  # starting, or the database refused: Telegram sends it again
            log.warning(
                "telegram webhook: update %s not recorded (%s); Telegram will send it again",
                update["update_id"],
                type(error).__name__,
            )
            return web.json_response({"error": "not recorded, retry later"}, status=503)
        return web.json_response({"ok": True})

    return telegram_webhook
