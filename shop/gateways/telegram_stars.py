"""Telegram Stars through python-telegram-bot: refunds, and the Star transactions that
reconciliation compares with our orders.

Bot API facts relied on (core.telegram.org/bots/api): `refundStarPayment(user_id,
telegram_payment_charge_id)` returns True; a `StarTransaction`'s `id` "coincides with
SuccessfulPayment.telegram_payment_charge_id for successful incoming payments from users" and
with the original transaction's id for a refund; an incoming payment's `source` is a
`TransactionPartnerUser` whose `transaction_type` is 'invoice_payment' and whose
`invoice_payload` is the payload we put on the invoice (for us, the order's `ref`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from telegram import Bot, StarTransaction, TransactionPartnerUser
from telegram.error import BadRequest

# What Telegram answers when the charge was refunded before (by us, earlier; the Bot API
# documents no error list, this is the error seen in practice, tdlib/telegram-bot-api#690).
ALREADY_REFUNDED = "CHARGE_ALREADY_REFUNDED"
INVOICE_PAYMENT = "invoice_payment"
# getStarTransactions' largest `limit`; its `offset` skips that many of the oldest transactions
# ("in chronological order"), so an offset stays valid while the ledger grows.
LEDGER_PAGE = 100


@dataclass(frozen=True)
class StarPayment:
    """A Stars payment as Telegram's ledger shows it: its charge id, the Stars paid, who paid
    and the invoice payload they paid."""

    charge_id: str
    amount: int
    user_id: int
    invoice_payload: str


async def refund_star_payment(bot: Bot, user_id: int, charge_id: str) -> bool:
    """Give a Stars payment back (Stars refunds are whole payments). True when refunded now,
    False when Telegram says it was refunded already — either way the Stars are back with the
    buyer, so the caller's bookkeeping is the same; any other refusal raises."""
    try:
        await bot.refund_star_payment(user_id=user_id, telegram_payment_charge_id=charge_id)
    except BadRequest as error:
        if ALREADY_REFUNDED in error.message.upper():
            return False
        raise
    return True


async def star_transactions_page(bot: Bot, offset: int) -> Sequence[StarTransaction]:
    """Up to LEDGER_PAGE of the bot's Star transactions, oldest first, after the first
    `offset`."""
    found = await bot.get_star_transactions(offset=offset, limit=LEDGER_PAGE)
    return found.transactions


def star_payments(transactions: Sequence[StarTransaction]) -> list[StarPayment]:
    """The invoice payments among `transactions` that were not refunded: incoming from a user,
    with a payload, and whose id no outgoing transaction (a refund) in the same list repeats."""
    refunded = {t.id for t in transactions if t.receiver is not None}
    payments = []
    for transaction in transactions:
        source = transaction.source
        if not isinstance(source, TransactionPartnerUser) or transaction.id in refunded:
            continue
        if source.transaction_type != INVOICE_PAYMENT or not source.invoice_payload:
            continue
        payments.append(
            StarPayment(transaction.id, transaction.amount, source.user.id, source.invoice_payload)
        )
    return payments
