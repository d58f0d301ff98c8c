"""⭐ Buy for N Stars on a card (and the cart's ⭐ Pay): the order committed by
`shop.stars.start_stars_checkout`, then its invoice sent as a reply in the chat, which becomes
the order's own message.

A refusal (sold out, holding too many, not sold for Stars, slow down…) is the tap's own alert,
worded as for a Stripe Buy (bot/buyer/checkout.py). A second tap finds the same open order; its
invoice is not sent again while it is still in the chat (a short reply points at it), and is
sent again, taking its place, when the buyer deleted it — else the order could not be paid
until it expired, its stock held all that time. The invoice speaks the order's language
(shop/stars.py), the rest the buyer's.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, LabeledPrice, Message, ReplyParameters, Update
from telegram.error import BadRequest

from bot import callbacks as cb
from bot.buyer import texts
from bot.buyer.checkout import answer_tap, buyer_of, card_tap, refusal_text
from bot.context import ShopContext
from shop.checkout import CheckoutRefused, Wanted
from shop.context import Shop
from shop.gateways.telegram_sender import Priority, sending_as
from shop.i18n import Lang
from shop.stars import StarsInvoice, claim_invoice_message, start_stars_checkout

log = logging.getLogger(__name__)


async def buy_with_stars(update: Update, context: ShopContext) -> None:
    """⭐ Buy for N Stars on a product card: the invoice in the chat, or why not."""
    if (tap := await card_tap(update, cb.STARS_BUY, context.lang)) is not None:
        await stars_check_out(context.shop, context.lang, *tap)


async def stars_check_out(
    shop: Shop,
    lang: Lang,
    query: CallbackQuery,
    message: Message,
    wanted: list[Wanted],
    *,
    from_cart: bool = False,
) -> None:
    """A tap that asks to pay in Stars: the order's invoice as a reply, or the refusal in the
    tap's own alert (a cart's refusal names its lines)."""
    buyer = buyer_of(lang, query.from_user, message.chat.id)
    try:
        checkout = await start_stars_checkout(shop, buyer, wanted, from_cart=from_cart)
    except CheckoutRefused as refusal:
        text = refusal_text(lang, refusal, name_the_line=from_cart)
        if not await answer_tap(query, text, alert=True):
            with sending_as(Priority.REFUSAL):
                await message.reply_text(text)
        return
    except Exception:
        await answer_tap(query)  # stop the spinner; on_error tells the buyer what happened
        raise
    await answer_tap(query)
    order = checkout.order
    if order.message_id is not None and await _point_at(lang, message, order.message_id):
        return
    with sending_as(Priority.GOODS):
        sent = await _send_invoice(message, checkout.invoice)
    await claim_invoice_message(shop, order.id, sent.message_id, replacing=order.message_id)


async def _send_invoice(message: Message, invoice: StarsInvoice) -> Message:
    """sendInvoice in XTR with the empty provider token, one price (the order's total), the
    order's reference as the payload; no keyboard, so Telegram draws its own Pay ⭐N button."""
    return await message.get_bot().send_invoice(
        chat_id=message.chat.id,
        title=invoice.title,
        description=invoice.description,
        payload=invoice.payload,
        provider_token=invoice.provider_token,
        currency=invoice.currency,
        prices=[LabeledPrice(price.label, price.amount) for price in invoice.prices],
        photo_url=invoice.photo_url,
    )


async def _point_at(lang: Lang, message: Message, invoice_message_id: int) -> bool:
    """Reply to the order's invoice with a pointer to it; False when that invoice is gone from
    the chat (Telegram refuses a reply to a deleted message), so a new one is sent instead."""
    try:
        with sending_as(Priority.GOODS):
            await message.get_bot().send_message(
                message.chat.id,
                texts.stars_invoice_above(lang),
                reply_parameters=ReplyParameters(
                    invoice_message_id, allow_sending_without_reply=False
                ),
            )
    except BadRequest as error:
        if "replied not found" not in error.message.lower():
            raise
        log.info("invoice message %s is gone: sending the invoice again", invoice_message_id)
        return False
    return True
