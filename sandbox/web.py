"""The sandbox's HTTP routes on the shop's own server: the page, its API and its live stream.

`/sandbox` is a static page (sandbox/static) that talks to:
- `GET  /sandbox/api/setup` — personas (ids included), the bot's name and commands;
- `GET  /sandbox/api/stream` — Server-Sent Events: every message, tap answer, webhook and
  waiting delayed payment, first all of them, then each one again whenever it changes;
- `POST /sandbox/api/send`, `/sandbox/api/tap` — a persona types or taps (JSON bodies);
- `POST /sandbox/api/language` — a persona's Telegram app switches language (the shop's
  offered ones, listed by setup); answers with the persona's command menu in it;
- `POST /sandbox/api/pay_invoice` — a persona confirms Telegram's payment sheet for an invoice;
  answers once the bot did (or did not, within the pre-checkout deadline);
- `POST /sandbox/api/webhooks/{number}/resend`, `/sandbox/api/sessions/{id}/{settle|fail}`.
The Checkout page lives under `/sandbox/stripe` (checkout_page.py). `/sandbox/t.me/<bot>` stands
in for t.me links (the success and cancel pages' "Back to the bot"): no visitor is sent to the
real t.me, where the sandbox's bot username belongs to nobody (or to a stranger).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from sandbox import checkout_page
from sandbox.chats import ChatRefused, Chats, Item
from sandbox.customer import CheckoutRefused, Customer
from sandbox.fake_telegram import FakeTelegram
from sandbox.origin import Origins
from sandbox.persona_languages import LanguageRefused, PersonaLanguages
from sandbox.personas import PERSONAS, persona
from sandbox.webhook_log import Delivery, WebhookLog
from shop.i18n import Languages
from shop.money import format_money

STATIC = Path(__file__).parent / "static"
TELEGRAM_LINKS = "/sandbox/t.me/"  # the shop's telegram_link_base in the sandbox
HEARTBEAT_SECONDS = 15.0
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' http: https: data:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
}


class SandboxWeb:
    def __init__(
        self,
        telegram: FakeTelegram,
        chats: Chats,
        webhooks: WebhookLog,
        customer: Customer,
        origins: Origins,
        languages: PersonaLanguages | None = None,
    ) -> None:
        """`languages`: the shop's offered ones (None: every shipped catalog)."""
        self._telegram = telegram
        self._languages = languages or PersonaLanguages(telegram, Languages.load().offered)
        self._origins = origins
        self._chats = chats
        self._webhooks = webhooks
        self._customer = customer
        self._closing = asyncio.Event()

    def add_routes(self, app: web.Application) -> None:
        app.middlewares.append(self._origins.guard)  # every route: our address, our pages
        app.router.add_get("/sandbox", self._page)
        app.router.add_get("/sandbox/", self._page)
        app.router.add_static("/sandbox/static/", STATIC)
        app.router.add_get(TELEGRAM_LINKS + "{username}", self._telegram_link)
        app.router.add_get("/sandbox/api/setup", self._setup)
        app.router.add_get("/sandbox/api/stream", self._stream)
        app.router.add_post("/sandbox/api/send", self._send)
        app.router.add_post("/sandbox/api/photo", self._photo)
        app.router.add_get("/sandbox/api/files/{file_id:[A-Za-z0-9_-]+}", self._file)
        app.router.add_post("/sandbox/api/tap", self._tap)
        app.router.add_post("/sandbox/api/language", self._language)
        app.router.add_post("/sandbox/api/pay_invoice", self._pay_invoice)
        app.router.add_post("/sandbox/api/webhooks/{number:[0-9]+}/resend", self._resend)
        app.router.add_post(
            "/sandbox/api/sessions/{session_id}/{outcome:settle|fail}", self._settle
        )
        checkout_page.add_routes(app, self._customer)
        app.on_shutdown.append(self._close_streams)

    async def _close_streams(self, _: web.Application) -> None:
        """Open event streams never end by themselves; end them so shutdown does not wait."""
        self._closing.set()

    # --- the page and its setup -----------------------------------------------------------------

    async def _page(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html", headers=_PAGE_HEADERS)

    async def _telegram_link(self, request: web.Request) -> web.Response:
        """t.me/<bot>[?start=…] opens the chat with the bot: here, the sandbox page (which sends
        `/start <payload>` for a deep link, as Telegram does)."""
        if request.match_info["username"] != self._telegram.bot_username:
            raise web.HTTPNotFound(text="The sandbox plays only its own bot.")
        start = request.query.get("start")
        raise web.HTTPSeeOther("/sandbox" + (f"?{urlencode({'start': start})}" if start else ""))

    async def _setup(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "bot": {"name": self._telegram.bot_name, "username": self._telegram.bot_username},
                "languages": self._languages.offered(),
                "personas": [
                    {
                        "id": p.user_id,
                        "name": p.name,
                        "role": p.role,
                        **self._languages.persona_view(p.user_id),
                    }
                    for p in PERSONAS
                ],
            },
            headers={"Cache-Control": "no-store"},
        )

    # --- the live stream ------------------------------------------------------------------------

    def _items(self) -> Iterator[Item]:
        yield from self._chats.items()
        for delivery in self._webhooks.deliveries():
            yield Item(f"w{delivery.number}", 0, _webhook_view(delivery))
        waiting = sorted(self._customer.awaiting_settlement(), key=lambda s: str(s["id"]))
        yield Item(
            "waiting",
            tuple(s["id"] for s in waiting),
            {"type": "waiting", "sessions": [self._waiting_view(s) for s in waiting]},
        )

    def _waiting_view(self, session: dict[str, Any]) -> dict[str, Any]:
        """A delayed payment as the events panel names it: the shop's order, what and how much."""
        items = self._customer.line_items(str(session["id"]))
        return {
            "id": session["id"],
            "order": (session.get("metadata") or {}).get("order_id"),
            "what": _line_summary(items),
            "total": format_money(int(session["amount_total"] or 0), str(session["currency"])),
        }

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        sent: dict[str, object] = {}
        first = True
        try:
            while not self._closing.is_set():
                # Noted before reading: a change during the write below must still wake us.
                seen = (self._telegram.change_count, self._webhooks.changed.version)
                batch = []
                for item in self._items():
                    if sent.get(item.key, _UNSEEN) == item.version:
                        continue
                    sent[item.key] = item.version
                    # Answers to taps made before this page opened are old news: no toasts.
                    if not (first and item.view["type"] == "answer"):
                        batch.append({"key": item.key, **item.view})
                if batch or first:
                    await response.write(_event("items", {"items": batch, "initial": first}))
                else:
                    await response.write(b": still here\n\n")
                first = False
                await self._next_change(*seen)
        except ConnectionResetError:
            pass  # the page went away
        return response

    async def _next_change(self, telegram_seen: int, webhooks_seen: int) -> None:
        """Until Telegram or the webhook log changed since the given counts (maybe already),
        the sandbox closes, or a heartbeat is due."""
        waits = [
            asyncio.ensure_future(
                self._telegram.wait_for_change(HEARTBEAT_SECONDS, since=telegram_seen)
            ),
            asyncio.ensure_future(
                self._webhooks.changed.wait(HEARTBEAT_SECONDS, since=webhooks_seen)
            ),
            asyncio.ensure_future(self._closing.wait()),
        ]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    # --- what a visitor does --------------------------------------------------------------------

    async def _send(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        try:
            self._chats.send(_int(body, "user_id"), _str(body, "text"))
        except ChatRefused as refused:
            raise _bad(str(refused)) from refused
        return web.json_response({"ok": True})

    async def _photo(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        try:
            data = base64.b64decode(_str(body, "data"), validate=True)
        except binascii.Error as error:
            raise _bad("data must be base64") from error
        size = (_int(body, "width"), _int(body, "height"))
        try:
            self._chats.send_photo(_int(body, "user_id"), data, size, _str(body, "caption"))
        except ChatRefused as refused:
            raise _bad(str(refused)) from refused
        return web.json_response({"ok": True})

    async def _file(self, request: web.Request) -> web.Response:
        data = self._chats.file(request.match_info["file_id"])
        if data is None:
            raise web.HTTPNotFound()
        kind = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
        headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
        return web.Response(body=data, content_type=kind, headers=headers)

    async def _tap(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        try:
            self._chats.tap(_int(body, "user_id"), _int(body, "message_id"), _str(body, "data"))
        except ChatRefused as refused:
            raise _bad(str(refused)) from refused
        return web.json_response({"ok": True})

    async def _language(self, request: web.Request) -> web.Response:
        """The persona's Telegram app now speaks `language`: their next updates say so."""
        body = await _json_body(request)
        user_id = _int(body, "user_id")
        try:
            persona(user_id)
            self._languages.choose(user_id, _str(body, "language"))
        except (ValueError, LanguageRefused) as refused:
            raise _bad(str(refused)) from refused
        return web.json_response({"ok": True, **self._languages.persona_view(user_id)})

    async def _pay_invoice(self, request: web.Request) -> web.Response:
        """The outcome as the payment sheet shows it: paid, refused with the bot's
        error_message, or "timeout" when the bot did not answer the pre-checkout query."""
        body = await _json_body(request)
        try:
            payment = await self._chats.pay(_int(body, "user_id"), _int(body, "message_id"))
        except ChatRefused as refused:
            raise _bad(str(refused)) from refused
        return web.json_response(
            {
                "ok": True,
                "outcome": payment.outcome,
                "error_message": payment.error_message,
                "total": format_money(payment.invoice.total_amount, "xtr"),
            }
        )

    async def _resend(self, request: web.Request) -> web.Response:
        try:
            delivery = await self._webhooks.resend(int(request.match_info["number"]))
        except KeyError as error:
            raise web.HTTPNotFound() from error
        return web.json_response(_webhook_view(delivery))

    async def _settle(self, request: web.Request) -> web.Response:
        session_id = request.match_info["session_id"]
        try:
            await self._customer.settle(
                session_id, succeeded=request.match_info["outcome"] == "settle"
            )
        except CheckoutRefused as refused:
            raise _bad(str(refused)) from refused
        return web.json_response({"ok": True})


_UNSEEN = object()


# How many of a session's line items the events panel names before "+ N more": a cart's card
# stays a few lines tall on a phone however many lines the order has.
_NAMED_LINES = 3


def _line_summary(items: list[dict[str, Any]]) -> str:
    """ "Mug × 1" for one line item; "Ebook × 1, Key × 2, Mug × 1 + 2 more" for a cart."""
    named = ", ".join(
        f"{item['description']} × {item['quantity']}" for item in items[:_NAMED_LINES]
    )
    rest = len(items) - _NAMED_LINES
    return named + (f" + {rest} more" if rest > 0 else "")


def _event(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _webhook_view(delivery: Delivery) -> dict[str, Any]:
    return {
        "type": "webhook",
        "number": delivery.number,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "object_id": delivery.object_id,
        "status": delivery.status,
        "answer": delivery.answer,
        "ms": delivery.milliseconds,
        "at": delivery.sent_at,
        "resend_of": delivery.resend_of,
    }


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(
        text=json.dumps({"ok": False, "error": message}), content_type="application/json"
    )


async def _json_body(request: web.Request) -> dict[str, Any]:
    """A JSON object body; requiring JSON also keeps plain cross-site forms out."""
    if request.content_type != "application/json":
        raise _bad("send JSON")
    try:
        body = await request.json()
    except ValueError as error:
        raise _bad("the body is not JSON") from error
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    return body


def _int(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad(f"{name} must be a number")
    return value


def _str(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise _bad(f"{name} must be text")
    return value
