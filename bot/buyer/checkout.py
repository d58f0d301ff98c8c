"""Buy → the order message with its Pay button: the chat side of `shop.checkout`.

A refusal (sold out, too many open links, slow down…) is the tap's own answer, an alert that
costs no chat message; while Stripe is busy a "preparing…" message holds the place. Everything
is said in the buyer's language, and the order keeps it: its Checkout page, receipt and notices
speak it too.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import CallbackQuery, Message, Update, User
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot import callbacks as cb
from bot.buyer import keyboards, notices, texts
from bot.context import ShopContext
from bot.shared import tapped
from bot.texts import unknown_button
from shop.checkout import (
    Buyer,
    CheckoutRefused,
    HoldingTooMany,
    MixedCurrencies,
    NoCommonCountry,
    NotOnRail,
    ProductUnavailable,
    SlowDown,
    SoldOut,
    TooManyOpen,
    TotalTooLarge,
    Wanted,
    claim_pay_message,
    start_checkout,
)
from shop.context import Shop
from shop.gateways.telegram_sender import Priority, sending_as
from shop.i18n import Lang

log = logging.getLogger(__name__)


def buyer_of(lang: Lang, user: User, chat_id: int) -> Buyer:
    """Who is buying, as the use-cases need them (Stripe's and Stars' checkouts alike), in
    the language they shop in (the order keeps it)."""
    return Buyer(user_id=user.id, chat_id=chat_id, name=user.full_name, language=lang.code)


async def card_tap(
    update: Update, button: cb.Button, lang: Lang
) -> tuple[CallbackQuery, Message, list[Wanted]] | None:
    """A product card's Buy tap (by card or with Stars): the query, its message and the one
    line it asks for (product × quantity); None when there is nothing to do (answered)."""
    if (tap := await tapped(update, button)) is None:
        return None
    query, data = tap
    if not isinstance(query.message, Message):
        await query.answer(unknown_button(lang), show_alert=True)
        return None
    return query, query.message, [Wanted(data.id(0), data.id(1))]


async def buy(update: Update, context: ShopContext) -> None:
    """Buy on a product card: the order message with Pay, or why not."""
    if (tap := await card_tap(update, cb.BUY, context.lang)) is not None:
        await check_out(context.shop, context.lang, *tap)


async def check_out(
    shop: Shop,
    lang: Lang,
    query: CallbackQuery,
    message: Message,
    wanted: list[Wanted],
    *,
    from_cart: bool = False,
) -> None:
    """A tap that asks for a payment link (Buy now on a card, Checkout in the cart): the order
    message with Pay, or why not, in the tap's own answer."""
    answered: list[bool] = []
    preparing: list[asyncio.Task[Message]] = []

    async def before_stripe() -> None:
        answered.append(await answer_tap(query, _waiting(lang, shop.stripe.estimated_wait())))
        if shop.stripe.throttled():
            preparing.append(asyncio.create_task(_preparing(lang, message)))

    try:
        buyer = buyer_of(lang, query.from_user, message.chat.id)
        order = await start_checkout(
            shop, buyer, wanted, from_cart=from_cart, before_stripe=before_stripe
        )
    except CheckoutRefused as refusal:
        text = refusal_text(lang, refusal, name_the_line=from_cart)
        placeholder = await _placeholder(preparing)
        await _refuse(query, message, placeholder, text, answered=bool(answered))
        return
    except Exception:
        for task in preparing:
            task.cancel()
        if not answered:  # stop the spinner; on_error tells the buyer what happened
            await answer_tap(query)
        raise
    if not answered:  # an open link was found again: no Stripe call, nothing announced yet
        await answer_tap(query)
    placeholder = await _placeholder(preparing)
    text, markup = notices.pay_message(lang, order), keyboards.pay(lang, order)
    with sending_as(Priority.GOODS):
        if placeholder:
            sent = await placeholder[0].edit_text(
                text, parse_mode=ParseMode.HTML, reply_markup=markup
            )
            message_id = sent.message_id if isinstance(sent, Message) else placeholder[0].message_id
        else:
            sent = await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
            message_id = sent.message_id
    await claim_pay_message(shop.db, order.id, message_id)


async def _preparing(lang: Lang, message: Message) -> Message:
    """The "preparing your link…" message while Stripe itself refuses now and then: sent
    beside the session's creation, never before it. Awaited first, a placeholder queued behind other
    buyers' links held every creation for a Telegram slot, so one 429 from Stripe halved the
    sessions made for the next 10 s (`make bench` scenario 8). It goes as a link would (the
    link is edited into it)."""
    with sending_as(Priority.GOODS):
        return await message.reply_text(texts.preparing_link(lang))


async def _placeholder(preparing: list[asyncio.Task[Message]]) -> list[Message]:
    """The "preparing…" message once sent, to be edited into the link or the refusal; none
    when there was no need for one, or it could not be sent (the link then comes as a new
    message)."""
    if not preparing:
        return []
    try:
        return [await preparing[0]]
    except TelegramError as error:
        log.warning("the 'preparing your link' message was not sent: %s", error)
        return []


def _waiting(lang: Lang, wait: float) -> str:
    """The tap's toast while Stripe makes the link: how long, when it takes a while."""
    if wait < 3:
        return lang.t("Preparing your payment link…")
    return lang.nt(
        "Lots of buyers right now — your payment link comes in about {n} s.",
        "Lots of buyers right now — your payment link comes in about {n} s.",
        round(wait),
    )


async def answer_tap(query: CallbackQuery, text: str | None = None, alert: bool = False) -> bool:
    """Answer the button's query (its spinner, or a toast/alert with `text`); False when
    Telegram no longer takes an answer to it (too old, or answered before a restart:
    bot/shop_bot.py), so what the answer would have said must go another way."""
    return await query.answer(text, show_alert=alert)


async def _refuse(
    query: CallbackQuery, message: Message, placeholder: list[Message], text: str, *, answered: bool
) -> None:
    """Say why there is no link: in the tap's own alert when it is still unanswered, else (only
    Stripe failed after the tap was answered) as a message, last in Telegram's queue."""
    if not answered and await answer_tap(query, text, alert=True):
        return
    with sending_as(Priority.REFUSAL):
        await _say_or_edit(placeholder, message, text)


def refusal_text(lang: Lang, refusal: CheckoutRefused, *, name_the_line: bool) -> str:
    """Why there is no link, in the buyer's words; a cart's refusal names the line (a card's
    Buy is about the product on screen)."""
    if isinstance(refusal, SoldOut):
        return texts.sold_out(lang, refusal.available, refusal.title if name_the_line else "")
    if isinstance(refusal, NotOnRail):
        if name_the_line:
            return texts.not_on_rail(lang, refusal.rail, refusal.titles)
        return texts.rail_changed(lang, refusal.rail)
    if isinstance(refusal, MixedCurrencies):
        return texts.mixed_currencies(lang, refusal.by_currency)
    if isinstance(refusal, HoldingTooMany):
        return texts.holding_too_many(lang, refusal.room, refusal.title if name_the_line else "")
    if isinstance(refusal, TotalTooLarge):
        return texts.total_too_large(lang)
    if isinstance(refusal, NoCommonCountry):
        return texts.no_common_country(lang)
    if isinstance(refusal, ProductUnavailable):
        return texts.product_unavailable(lang)
    if isinstance(refusal, TooManyOpen):
        return texts.too_many_open(lang)
    if isinstance(refusal, SlowDown):
        return texts.slow_down(lang)
    return texts.checkout_failed(lang)


async def _say_or_edit(placeholder: list[Message], message: Message, text: str) -> None:
    if placeholder:
        await placeholder[0].edit_text(text)
    else:
        await message.reply_text(text)
