"""The buyer's landing pages after Checkout, and the health check.

/success and /cancel speak the language the buyer ordered in (`OrderPage.language`); a page
that knows no order of ours (a session that is not ours, a link that is not the order's own)
speaks the first language the browser's Accept-Language asks for that the shop offers, else
DEFAULT_LANGUAGE. Every text comes from the catalog, money is written the language's way, and
`<html lang dir>` follow the language, so a right-to-left one reads right to left (its values
isolated by `Lang`, so a price keeps its own direction).
"""

from __future__ import annotations

import asyncio
import html
import logging
import re

from aiohttp import web
from aiohttp.typedefs import Handler

from shop.i18n import N_, Lang, Languages
from webhooks.ports import OrderPage, ShopPorts

log = logging.getLogger(__name__)

# The buyer is looking at a loading page; past this, the webhook will do the work instead.
SUCCESS_CHECK_SECONDS = 10
_SESSION_ID = re.compile(r"^cs_[A-Za-z0-9_]{1,250}$")
# Accept-Language tags looked at: a browser sends a handful; the rest of a longer header is noise.
_ACCEPTED_TAGS = 16

_PAGE = """<!doctype html>
<html lang="{lang}" dir="{dir}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<style>
body{{margin:0;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f4f6f8;
color:#1f2933;display:flex;min-height:100vh;align-items:center;justify-content:center}}
main{{background:#fff;max-width:26rem;margin:1rem;padding:2rem 1.5rem;border-radius:16px;
box-shadow:0 4px 24px rgba(0,0,0,.08);text-align:center}}
.icon{{font-size:3rem;line-height:1}} h1{{font-size:1.4rem;margin:.75rem 0}}
p{{line-height:1.5;color:#52606d}} p.amount{{font-weight:600;color:#1f2933}}
a.button{{display:inline-block;margin-top:1rem;padding:.8rem 1.4rem;border-radius:10px;
background:#2aabee;color:#fff;text-decoration:none;font-weight:600}}
</style></head>
<body><main><div class="icon">{icon}</div><h1>{title}</h1><p>{message}</p>{amount}{link}</main>
</body>
</html>
"""

# What each page says, by the state it reports: its icon, title and message. "thanks" is
# /success for a session that is not ours, "not_cancelled" /cancel for a link that is not.
_ICONS = {
    "paid": "✅",
    "processing": "⏳",
    "failed": "❌",
    "expired": "⌛",
    "refunded": "↩️",
    "cancelled": "↩️",
    "unpaid": "⏳",
    "thanks": "🛍️",
    "not_cancelled": "↩️",
}
_TITLES = {
    "paid": N_("Payment received"),
    "processing": N_("Payment is being confirmed"),
    "failed": N_("Payment not completed"),
    "expired": N_("Payment link expired"),
    "refunded": N_("Order refunded"),
    "cancelled": N_("Payment cancelled"),
    "unpaid": N_("Almost there"),
    "thanks": N_("Thanks!"),
    "not_cancelled": N_("Payment cancelled"),
}
_MESSAGES = {
    "paid": N_("Thank you! Your order is on its way to you in Telegram."),
    "processing": N_(
        "Your bank is confirming the payment. The bot will message you as soon as it clears."
    ),
    "failed": N_("The payment did not go through. The bot has the details and a way to try again."),
    "expired": N_(
        "This payment link has expired and nothing was charged. You can buy again in the bot."
    ),
    "refunded": N_("This order was refunded. The bot has the details."),
    "cancelled": N_(
        "Nothing was charged and the payment link is closed. You can buy again in the bot."
    ),
    "unpaid": N_(
        "We have not seen the payment yet. If you completed it, the bot will message you shortly."
    ),
    "thanks": N_("If you completed the payment, the bot will message you with your order shortly."),
    "not_cancelled": N_("Nothing was charged. You can pick up where you left off in the bot."),
}
# The order's money, on the pages where there is some to speak of.
_PAID_AMOUNT = {"paid": N_("Paid: {amount}"), "processing": N_("Amount: {amount}")}
# /cancel is never "almost there": an unpaid order whose link could not be closed (Stripe out
# of reach) gets the plain "nothing was charged".
_CANCEL_STATES = frozenset(_TITLES) - {"unpaid", "thanks"}


def _amount(lang: Lang, order: OrderPage) -> str:
    if order.state == "refunded" and order.refunded:
        text = lang.t("Refunded: {amount}", amount=lang.money(order.refunded, order.currency))
    elif order.state in _PAID_AMOUNT:
        text = lang.t(_PAID_AMOUNT[order.state], amount=lang.money(order.paid, order.currency))
    else:
        return ""
    return f'<p class="amount">{html.escape(text)}</p>'


def _render(ports: ShopPorts, lang: Lang, state: str, amount: str = "") -> web.Response:
    username = ports.bot_username()
    back = html.escape(lang.t("Back to the bot"))
    link = (
        f'<a class="button" href="{html.escape(ports.telegram_link_base + username)}">{back}</a>'
        if username
        else ""
    )
    body = _PAGE.format(
        lang=lang.code.replace("_", "-"),
        dir="rtl" if lang.rtl else "ltr",
        icon=_ICONS[state],
        title=html.escape(lang.t(_TITLES[state])),
        message=html.escape(lang.t(_MESSAGES[state])),
        amount=amount,
        link=link,
    )
    return web.Response(
        text=body,
        content_type="text/html",
        headers={
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            # The page's language follows the browser's when no order of ours is named.
            "Vary": "Accept-Language",
        },
    )


def _order_page(ports: ShopPorts, order: OrderPage) -> web.Response:
    lang = ports.languages.get(order.language)
    return _render(ports, lang, order.state, _amount(lang, order))


def browser_language(languages: Languages, accept_language: str | None) -> Lang:
    """The offered language the browser wants most (Accept-Language, RFC 9110 §12.5.4: the
    highest q first, then the order given; region fallback as in Telegram: "pt-PT" finds
    pt_BR), else the shop's default."""
    wanted: list[tuple[float, int, str]] = []
    for index, item in enumerate((accept_language or "").split(",")[:_ACCEPTED_TAGS]):
        tag, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > 0:
            wanted.append((-quality, index, tag))
    for _, _, tag in sorted(wanted):
        found = languages.match(tag)
        if found is not None:
            return found
    return languages.default


def success_handler(ports: ShopPorts) -> Handler:
    async def success(request: web.Request) -> web.Response:
        """Runs the same idempotent fulfilment as the webhook, so a lost webhook still delivers."""
        session_id = request.query.get("session_id", "")
        order: OrderPage | None = None
        if _SESSION_ID.match(session_id):
            try:
                order = await asyncio.wait_for(
                    ports.fulfil_session(session_id), SUCCESS_CHECK_SECONDS
                )
            except Exception:
                log.exception("success page: could not check the session")
        if order is None:
            lang = browser_language(ports.languages, request.headers.get("Accept-Language"))
            return _render(ports, lang, "thanks")
        return _order_page(ports, order)

    return success


def cancel_handler(ports: ShopPorts) -> Handler:
    async def cancel(request: web.Request) -> web.Response:
        """Checkout's "back": expire the session and release its stock at once, if the link's
        token is its order's own; otherwise (or if Stripe cannot be reached) the link simply
        runs out at its expiry."""
        order: OrderPage | None = None
        try:
            order = await asyncio.wait_for(
                ports.cancel_checkout(
                    request.query.get("order", ""), request.query.get("token", "")
                ),
                SUCCESS_CHECK_SECONDS,
            )
        except Exception:
            log.exception("cancel page: could not cancel the order")
        if order is None:
            lang = browser_language(ports.languages, request.headers.get("Accept-Language"))
            return _render(ports, lang, "not_cancelled")
        if order.state not in _CANCEL_STATES:
            return _render(ports, ports.languages.get(order.language), "not_cancelled")
        return _order_page(ports, order)

    return cancel


def health_handler(ports: ShopPorts) -> Handler:
    async def healthz(request: web.Request) -> web.Response:
        """200 only when a payment could be recorded now; else 503 and the problems."""
        health = await ports.health()
        ready = all(health.checks.values())
        body: dict[str, object] = {"status": "ok" if ready else "unavailable", **health.checks}
        if health.problems:
            body["problems"] = list(health.problems)
        if health.warnings:
            body["warnings"] = list(health.warnings)
        return web.json_response(body, status=200 if ready else 503)

    return healthz
