"""The buyer's "Cancel and go back" on Checkout: close the session and release its stock now.

Stripe sends no event when a buyer leaves Checkout, so without this the items stayed reserved
for the link's whole life. The cancel link carries a secret derived for its order
(`stripe_gateway.cancel_token`), so only the buyer who was sent to Checkout can cancel; the
session is expired through Stripe first, so a session paid meanwhile is never ended here.
"""

from __future__ import annotations

import hmac
import logging
import re

import stripe

from shop import payments
from shop.context import Shop
from shop.gateways.stripe_gateway import cancel_token
from storage import orders
from storage.models import OPEN_STATES, Order

log = logging.getLogger(__name__)

_ORDER_ID = re.compile(r"[0-9]{1,18}")


async def cancel_checkout(shop: Shop, order_text: str, token: str) -> Order | None:
    """Cancel the order the link names if the link's token is its own. Returns the order as it
    stands then — its `page_state` is "cancelled", or what it is when it could no longer be
    cancelled (paid, processing, expired…) — or None (no such order, a wrong token)."""
    order = await _order_of_link(shop, order_text, token)
    if order is None:
        return None
    if order.status in OPEN_STATES and order.checkout_session_id is not None:
        order = await _close_once(shop, order, order.checkout_session_id)
    return order


async def _order_of_link(shop: Shop, order_text: str, token: str) -> Order | None:
    """The order, when the token is the one its cancel link was made with (constant time)."""
    if not _ORDER_ID.fullmatch(order_text):
        return None
    order = await orders.get(shop.db.reader, int(order_text))
    if order is None:
        return None
    expected = cancel_token(shop.checkout_settings.cancel_key, order.ref)
    if not hmac.compare_digest(token.encode("utf-8", "replace"), expected.encode()):
        log.warning("cancel page: wrong token for order %s", order.id)
        return None
    return order


async def _close_once(shop: Shop, order: Order, session_id: str) -> Order:
    """One expire call however many times the link is opened at once; the order after it."""
    await shop.session_lookups.run(f"cancel:{session_id}", lambda: _close(shop, order))
    after = await orders.get(shop.db.reader, order.id)
    assert after is not None
    return after


async def _close(shop: Shop, order: Order) -> None:
    """Expire the session at Stripe, then end the order here. Stripe refuses a session that is
    no longer open; then the session as Stripe has it decides (paid, processing, expired)."""
    assert order.checkout_session_id is not None
    try:
        session = await shop.stripe.expire_checkout_session(order.checkout_session_id)
    except stripe.InvalidRequestError:
        try:
            session = await shop.stripe.retrieve_checkout_session(order.checkout_session_id)
        except stripe.StripeError as error:
            log.warning("cancel page: could not retrieve session: %s", type(error).__name__)
            return
        await payments.apply_session_snapshot(shop, session.to_dict())
        return
    except stripe.StripeError as error:
        log.warning("cancel page: could not expire session: %s", type(error).__name__)
        return
    if session.status == "expired":
        await payments.apply_cancelled(shop, order.id)
        log.info("order %s cancelled by the buyer; its stock is released", order.id)
