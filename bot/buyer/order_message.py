"""The order's own message (the one that carried the Pay button) follows the order's state.

Once the Pay button is dead (the payment is being confirmed, failed, expired, was cancelled or
was taken but held for the merchant's check) or the order was refunded, an edit of that message
is owed through the outbox (`shop.outbox.owe_edit`), in the same transaction as the state
change. The worker renders the order's state *at send time*, so an edit applied twice, late,
or after a newer state changes nothing a second time and never brings a dead link back: the
message is always what `render` says about the order now, in the order's language.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot.buyer import keyboards, notices
from shop.i18n import Lang
from shop.outbox import CANCELLED_REASON
from storage.models import Order, OrderStatus


def render(
    lang: Lang, order: Order, delivered: notices.Delivered
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The order message for the order's current state: Pay while it can be paid, the receipt
    with the goods once paid (refunds noted), and otherwise what happened — with Buy again
    where the buyer may want another go."""
    status = order.status
    if order.payment_held:
        return notices.order_held(lang, order), None
    if status in (OrderStatus.PENDING, OrderStatus.AWAITING_PAYMENT) and order.checkout_url:
        return notices.pay_message(lang, order), keyboards.pay(lang, order)
    if status is OrderStatus.PROCESSING:
        return notices.order_processing(lang, order), None
    if status is OrderStatus.FAILED:
        return notices.order_failed(lang, order), keyboards.buy_again(lang, order)
    if status in (OrderStatus.EXPIRED, OrderStatus.PENDING, OrderStatus.AWAITING_PAYMENT):
        cancelled = order.failure_reason == CANCELLED_REASON
        expired = notices.order_expired(lang, order, cancelled=cancelled)
        return expired, keyboards.buy_again(lang, order)
    return notices.receipt(lang, order, delivered), None
