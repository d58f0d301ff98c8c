"""The updates Telegram sends about a Stars payment, handed to shop/stars.py.

They are registered in a group of their own ahead of every other handler (bot/app.py) and stop
the update there: a `successful_payment` message is otherwise a plain message that an open
dialog (/paysupport's question, an admin's wizard) or the buyer's plain-message answer would
take for their own — and the payment would never be recorded.

- pre_checkout_query: answered within Telegram's 10 seconds from the database alone; a
  refusal in the payer's language.
- successful_payment: recorded once by its charge id (a re-fetched update changes nothing);
  the goods follow through the outbox, as for Stripe.
- refunded_payment: the service message after a refund (ours, made by /refund, already
  booked); nothing to say to the buyer.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    MessageHandler,
    PreCheckoutQueryHandler,
    filters,
)

from bot.context import ShopContext
from shop.i18n import Lang
from shop.stars import answer_pre_checkout, record_successful_payment

log = logging.getLogger(__name__)


async def pre_checkout(update: Update, context: ShopContext) -> None:
    """ok only while the order can still be paid; otherwise the reason the buyer is shown."""
    query = update.pre_checkout_query
    assert query is not None
    try:
        answer = await answer_pre_checkout(
            context.shop,
            context.lang,
            query.invoice_payload,
            query.currency,
            query.total_amount,
            query.from_user.id,
        )
        ok, error_message = answer.ok, answer.error_message
    except Exception:  # the buyer must hear no, not wait out Telegram's 10 seconds
        log.exception("pre-checkout query %s could not be checked", query.id)
        ok, error_message = False, not_now(context.lang)
    await query.answer(ok=ok, error_message=error_message)
    raise ApplicationHandlerStop


def not_now(lang: Lang) -> str:
    """The one refusal not decided by shop/stars.py: our database did not answer in time."""
    return lang.t(
        "Sorry, the shop could not check this order just now. Nothing was charged: try again."
    )


async def successful_payment(update: Update, context: ShopContext) -> None:
    """Record the payment (once per charge id); the worker delivers what it owes."""
    message = update.effective_message
    assert message is not None and message.successful_payment is not None
    paid = message.successful_payment
    await record_successful_payment(
        context.shop,
        paid.invoice_payload,
        paid.currency,
        paid.total_amount,
        paid.telegram_payment_charge_id,
    )
    raise ApplicationHandlerStop


async def refunded_payment(update: Update, context: ShopContext) -> None:
    """A refund's service message: acknowledged silently (no "unknown command" answer)."""
    raise ApplicationHandlerStop


def payment_routes() -> list[BaseHandler[Update, ShopContext, Any]]:
    return [
        PreCheckoutQueryHandler(pre_checkout),
        MessageHandler(filters.SUCCESSFUL_PAYMENT, successful_payment),
        MessageHandler(filters.StatusUpdate.REFUNDED_PAYMENT, refunded_payment),
    ]
