"""The Stripe stand-in's hosted Checkout page, as the sandbox serves it to the browser.

A session's `url` points here (FakeStripe.hosted_base_url), on the same origin as the sandbox
page, so it opens wherever the sandbox does. It shows what Stripe's page shows (every line item
with quantity × unit price and its amount; subtotal, discount, shipping and total; expiry; a
shipping form for physical goods; a promotion code field when the session allows codes) and,
in place of a card form, the outcomes a sandbox visitor may choose: pay, pay with a delayed
method and settle or fail it later, cancel, or let the session expire. Every value shown is
escaped: titles come from merchants.
"""

from __future__ import annotations

import time
from html import escape
from typing import Any

from aiohttp import web
from babel import Locale

from sandbox.customer import CheckoutRefused, Customer, Shipping
from sandbox.seed import DEMO_PROMOTION_CODE
from shop.money import format_money

PREFIX = "/sandbox/stripe"
BACK_TO_CHAT = "/sandbox"
_FIELD_CHARS = 200
_COUNTRY_NAMES = Locale.parse("en").territories

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Checkout · sandbox</title>
<link rel="stylesheet" href="/sandbox/static/checkout.css">
</head><body>
<p class="testmode">Sandbox — the Stripe stand-in; no card is charged</p>
<main>
{notice}
<section class="summary">
<h1>{heading}</h1>
<p class="total" data-testid="total">{total}</p>
<table class="items"><tbody>{items}</tbody><tfoot>{sums}</tfoot></table>
<p class="meta">{expiry} · <code>{session_id}</code></p>
</section>
<section class="actions">{actions}</section>
</main></body></html>
"""


_UNKNOWN = (
    "<!doctype html><title>Unknown session</title>"
    '<link rel="stylesheet" href="/sandbox/static/checkout.css">'
    '<main><p class="notice">The Stripe stand-in knows no such Checkout Session. It keeps '
    "sessions in memory: a link from before the sandbox restarted leads nowhere.</p></main>"
)


def _expiry(session: dict[str, Any]) -> str:
    """When the link stops working, or that it has: an expired session (let expire, or timed
    out) never claims minutes left."""
    if session["status"] == "expired":
        return "Expired"
    if session["status"] == "complete":
        return "Completed"
    expires_at = int(session["expires_at"])
    minutes = round((expires_at - time.time()) / 60)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(expires_at))
    return f"Expires {stamp}" + (f" (in {minutes} min)" if minutes > 0 else "")


def _money(amount: int, currency: str) -> str:
    return escape(format_money(amount, currency))


def _items(line_items: list[dict[str, Any]]) -> str:
    """One row per line item as Checkout lists them: the title, quantity × unit price, and the
    line's amount before discounts (a discount is its own row below, as on Stripe's page)."""
    rows = []
    for item in line_items:
        currency = str(item["currency"])
        unit = _money(int(item["price"]["unit_amount"]), currency)
        rows.append(
            f'<tr class="line"><td><span class="title">{escape(str(item["description"]))}</span>'
            f"<small>{int(item['quantity'])} × {unit}</small></td>"
            f"<td>{_money(int(item['amount_subtotal']), currency)}</td></tr>"
        )
    return "".join(rows)


def _sums(session: dict[str, Any], lines: int) -> str:
    """Subtotal, the promotion code's discount, shipping (when the session ships) and the total:
    the rows below the line items, so that the lines visibly add up to what is paid."""
    if session["amount_subtotal"] is None:
        return ""
    currency = str(session["currency"])
    details = session["total_details"] or {}
    noun = "item" if lines == 1 else "items"
    rows = [
        ("subtotal", f"Subtotal ({lines} {noun})", _money(session["amount_subtotal"], currency))
    ]
    if details.get("amount_discount"):
        rows.append(("discount", "Discount", "−" + _money(details["amount_discount"], currency)))
    shipping = int(details.get("amount_shipping") or 0)
    if shipping or session["shipping_address_collection"]:
        rows.append(("shipping", "Shipping", _money(shipping, currency) if shipping else "Free"))
    label = "Total due" if session["status"] == "open" else "Total"
    rows.append(("total-row", label, _money(int(session["amount_total"] or 0), currency)))
    return "".join(
        f'<tr class="{name}" data-testid="{name}"><th scope="row">{escape(label)}</th>'
        f"<td>{amount}</td></tr>"
        for name, label, amount in rows
    )


def _field(label: str, name: str, value: str, kind: str = "text") -> str:
    return (
        f'<label>{escape(label)}<input name="{name}" type="{kind}" value="{escape(value)}" '
        f'maxlength="{_FIELD_CHARS}" required></label>'
    )


def _shipping_fields(session: dict[str, Any]) -> str:
    collection = session.get("shipping_address_collection")
    if not collection:
        return ""
    options = "".join(
        f'<option value="{escape(code)}">{escape(str(_COUNTRY_NAMES.get(code, code)))}</option>'
        for code in collection["allowed_countries"]
    )
    return (
        "<fieldset><legend>Shipping address</legend>"
        + _field("Name", "name", "Jenny Rosen")
        + _field("Address", "line1", "1 Test Street")
        + _field("City", "city", "Testville")
        + _field("Postal code", "postal_code", "94103")
        + f'<label>Country<select name="country">{options}</select></label></fieldset>'
    )


def _promotion_code_field(session: dict[str, Any]) -> str:
    """Checkout's "Add promotion code", offered only when the session allows codes."""
    if not session["allow_promotion_codes"]:
        return ""
    return (
        '<label>Promotion code (optional)<input name="promotion_code" type="text" '
        f'maxlength="{_FIELD_CHARS}" autocomplete="off"></label>'
        f'<p class="hint">The sandbox knows {escape(DEMO_PROMOTION_CODE)}: 10% off.</p>'
    )


def _open_actions(session: dict[str, Any]) -> str:
    action = escape(f"{PREFIX}/c/pay/{session['id']}")
    total = format_money(int(session["amount_total"] or 0), str(session["currency"]))
    return (
        f'<form method="post" action="{action}/pay">'
        + _field("Email", "email", "buyer@example.com", "email")
        + _shipping_fields(session)
        + _promotion_code_field(session)
        + '<p class="card">Card <span>4242 4242 4242 4242 · no card needed here</span></p>'
        + f'<button class="primary">Pay {escape(total)}</button>'
        + f'<button formaction="{action}/pay_delayed">Pay with a delayed method</button>'
        + '<p class="hint">A bank debit, say: the order waits until you settle or fail it.</p>'
        + f'<button formaction="{action}/expire" formnovalidate>Let it expire</button>'
        + f'<button class="link" formaction="{action}/cancel" formnovalidate>'
        + "← Cancel and go back</button></form>"
    )


def _processing_actions(session: dict[str, Any]) -> str:
    action = escape(f"{PREFIX}/c/pay/{session['id']}")
    return (
        "<p>The delayed payment is processing. How does it end?</p>"
        f'<form method="post"><button class="primary" formaction="{action}/settle">'
        f'Settle (payment succeeds)</button><button formaction="{action}/fail">'
        "Fail (payment is declined)</button></form>"
    )


def render(customer: Customer, session: dict[str, Any], notice: str = "") -> str:
    waiting = {s["id"] for s in customer.awaiting_settlement()}
    if session["status"] == "open":
        heading, actions = "Pay the shop", _open_actions(session)
    elif session["id"] in waiting:
        heading, actions = "Payment processing", _processing_actions(session)
    elif session["status"] == "complete":
        success = str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session["id"])
        paid = "Paid" if session["payment_status"] == "paid" else "Payment failed"
        heading = paid
        actions = f'<p><a href="{escape(success)}">Back to the shop\'s page</a></p>'
    else:
        heading = "This Checkout Session has expired"
        actions = (
            "<p>Nothing was charged. Ask the bot for a new payment link.</p>"
            f'<p><a class="back" href="{BACK_TO_CHAT}">← Back to the chat</a></p>'
        )
    currency = str(session["currency"] or "usd")
    lines = customer.line_items(session["id"])
    return _PAGE.format(
        notice=f'<p class="notice" role="alert">{escape(notice)}</p>' if notice else "",
        heading=escape(heading),
        total=escape(format_money(int(session["amount_total"] or 0), currency)),
        items=_items(lines),
        sums=_sums(session, len(lines)),
        expiry=escape(_expiry(session)),
        session_id=escape(session["id"]),
        actions=actions,
    )


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(
        text=text,
        status=status,
        content_type="text/html",
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
            "base-uri 'none'; frame-ancestors 'none'",
            "Referrer-Policy": "same-origin",
        },
    )


def add_routes(app: web.Application, customer: Customer) -> None:
    async def page(request: web.Request) -> web.Response:
        session = customer.session(request.match_info["session_id"])
        if session is None:
            return _html(_UNKNOWN, 404)
        return _html(render(customer, session))

    async def act(request: web.Request) -> web.StreamResponse:
        session_id, action = request.match_info["session_id"], request.match_info["action"]
        session = customer.session(session_id)
        if session is None:
            raise web.HTTPNotFound()
        form = await request.post()
        here = f"{PREFIX}/c/pay/{session_id}"
        try:
            if action in ("pay", "pay_delayed"):
                target = await customer.pay(
                    session_id,
                    delayed=action == "pay_delayed",
                    email=_text(form, "email"),
                    shipping=_shipping(form) if session["shipping_address_collection"] else None,
                    promotion_code=_text(form, "promotion_code"),
                )
            elif action in ("settle", "fail"):
                await customer.settle(session_id, succeeded=action == "settle")
                target = here
            elif action == "expire":
                await customer.let_expire(session_id)
                target = here
            elif action == "cancel":
                target = customer.cancel_url(session_id)
            else:
                raise web.HTTPNotFound()
        except CheckoutRefused as refused:
            return _html(render(customer, session, str(refused)), 409)
        raise web.HTTPSeeOther(target)

    app.router.add_get(PREFIX + "/c/pay/{session_id}", page)
    app.router.add_post(PREFIX + "/c/pay/{session_id}/{action}", act)


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip()[:_FIELD_CHARS] if isinstance(value, str) else ""


def _shipping(form: Any) -> Shipping:
    return Shipping(
        name=_text(form, "name") or "Jenny Rosen",
        line1=_text(form, "line1") or "1 Test Street",
        city=_text(form, "city") or "Testville",
        postal_code=_text(form, "postal_code"),
        country=_text(form, "country").upper(),
    )
