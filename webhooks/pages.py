"""The buyer's landing pages after Checkout, and the health check."""

from __future__ import annotations

import asyncio
import html
import logging
import re

from aiohttp import web
from aiohttp.typedefs import Handler

from webhooks.ports import ShopPorts

log = logging.getLogger(__name__)

# The buyer is looking at a loading page; past this, the webhook will do the work instead.
SUCCESS_CHECK_SECONDS = 10
_SESSION_ID = re.compile(r"^cs_[A-Za-z0-9_]{1,250}$")

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<style>
body{{margin:0;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f4f6f8;
color:#1f2933;display:flex;min-height:100vh;align-items:center;justify-content:center}}
main{{background:#fff;max-width:26rem;margin:1rem;padding:2rem 1.5rem;border-radius:16px;
box-shadow:0 4px 24px rgba(0,0,0,.08);text-align:center}}
.icon{{font-size:3rem;line-height:1}} h1{{font-size:1.4rem;margin:.75rem 0}}
p{{line-height:1.5;color:#52606d}}
a.button{{display:inline-block;margin-top:1rem;padding:.8rem 1.4rem;border-radius:10px;
background:#2aabee;color:#fff;text-decoration:none;font-weight:600}}
</style></head>
<body><main><div class="icon">{icon}</div><h1>{title}</h1><p>{message}</p>{link}</main></body>
</html>
"""

# What each state the pages report says to the buyer: (icon, title, message).
_STATE_TEXT = {
    "paid": ("✅", "Payment received", "Thank you! Your order is on its way to you in Telegram."),
    "processing": (
        "⏳",
        "Payment is being confirmed",
        "Your bank is confirming the payment. The bot will message you as soon as it clears.",
    ),
    "failed": (
        "❌",
        "Payment not completed",
        "The payment did not go through. The bot has the details and a way to try again.",
    ),
    "expired": (
        "⌛",
        "Payment link expired",
        "This payment link has expired and nothing was charged. You can buy again in the bot.",
    ),
    "refunded": ("↩️", "Order refunded", "This order was refunded. The bot has the details."),
    "cancelled": (
        "↩️",
        "Payment cancelled",
        "Nothing was charged and the payment link is closed. You can buy again in the bot.",
    ),
}
_SUCCESS_TEXT = {
    **_STATE_TEXT,
    "unpaid": (
        "⏳",
        "Almost there",
        "We have not seen the payment yet. If you completed it, the bot will message you shortly.",
    ),
}
_UNKNOWN = (
    "🛍️",
    "Thanks!",
    "If you completed the payment, the bot will message you with your order shortly.",
)
# A cancel link we could not act on (not ours, or Stripe unreachable): nothing was charged.
_NOT_CANCELLED = (
    "↩️",
    "Payment cancelled",
    "Nothing was charged. You can pick up where you left off in the bot.",
)


def _render(ports: ShopPorts, icon: str, title: str, message: str) -> web.Response:
    username = ports.bot_username()
    link = (
        f'<a class="button" href="{html.escape(ports.telegram_link_base + username)}">'
        "Back to the bot</a>"
        if username
        else ""
    )
    body = _PAGE.format(
        icon=icon, title=html.escape(title), message=html.escape(message), link=link
    )
    return web.Response(
        text=body,
        content_type="text/html",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def success_handler(ports: ShopPorts) -> Handler:
    async def success(request: web.Request) -> web.Response:
        """Runs the same idempotent fulfilment as the webhook, so a lost webhook still delivers."""
        session_id = request.query.get("session_id", "")
        state = "unknown"
        if _SESSION_ID.match(session_id):
            try:
                state = await asyncio.wait_for(
                    ports.fulfil_session(session_id), SUCCESS_CHECK_SECONDS
                )
            except Exception:
                log.exception("success page: could not check the session")
        return _render(ports, *_SUCCESS_TEXT.get(state, _UNKNOWN))

    return success


def cancel_handler(ports: ShopPorts) -> Handler:
    async def cancel(request: web.Request) -> web.Response:
        """Checkout's "back": expire the session and release its stock at once, if the link's
        token is its order's own; otherwise (or if Stripe cannot be reached) the link simply
        runs out at its expiry."""
        state = "unknown"
        try:
            state = await asyncio.wait_for(
                ports.cancel_checkout(
                    request.query.get("order", ""), request.query.get("token", "")
                ),
                SUCCESS_CHECK_SECONDS,
            )
        except Exception:
            log.exception("cancel page: could not cancel the order")
        return _render(ports, *_STATE_TEXT.get(state, _NOT_CANCELLED))

    return cancel


def health_handler(ports: ShopPorts) -> Handler:
    async def healthz(request: web.Request) -> web.Response:
        """200 only when a payment could be recorded now; else 503 and the problems."""
        health = await ports.health()
        ready = all(health.checks.values())
        body: dict[str, object] = {"status": "ok" if ready else "unavailable", **health.checks}
        if health.problems:
            body["problems"] = list(health.problems)
        return web.json_response(body, status=200 if ready else 503)

    return healthz
