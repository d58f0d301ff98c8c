"""Buyer chat handlers: one small async function per command or button."""

from __future__ import annotations

import logging
import math
import re

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update, User
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import keyboards, support, texts
from bot.admin_auth import is_admin
from bot.callbacks import decode
from bot.context import shop_of
from shop import outbox
from shop.checkout import (
    Buyer,
    CheckoutRefused,
    HoldingTooMany,
    ProductUnavailable,
    SlowDown,
    SoldOut,
    TooManyOpen,
    claim_pay_message,
    start_checkout,
)
from shop.context import Shop
from shop.gateways.telegram_sender import Priority, sending_as
from shop.ids import ID_PATTERN
from storage import orders, products, stock
from storage.models import Product, ProductKind

log = logging.getLogger(__name__)

CATALOG_PAGE_SIZE = 8
ORDERS_PAGE_SIZE = 5
# Buyer buttons: everything else (admin buttons) is left to the admin handlers.
BUYER_BUTTONS = re.compile(r"^(cat|cc|prod|qty|max|buy|ord|again|noop)(:|$)")
_PRODUCT_PAYLOAD = re.compile(rf"^p_({ID_PATTERN})$")


def _buyer(user: User, chat_id: int) -> Buyer:
    return Buyer(user_id=user.id, chat_id=chat_id, name=user.full_name)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Welcome + catalog button; `/start p_<id>` (a deep link) opens that product."""
    message = update.effective_message
    assert message is not None
    payload = context.args[0] if context.args else ""
    match = _PRODUCT_PAYLOAD.match(payload)
    if match:
        await send_product_card(shop_of(context), message, int(match.group(1)))
        return
    text = texts.welcome(context.bot.first_name)
    if is_admin(update, context):
        text += texts.admin_hint()
    await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboards.start_menu())


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """How buying works, in four steps, and how to reach the merchant."""
    assert update.effective_message is not None
    contact = texts.support_line(shop_of(context).settings.support_contact)
    await update.effective_message.reply_text(
        f"{texts.help_text()}\n\n{contact}", parse_mode=ParseMode.HTML
    )


async def catalog_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The first catalog page as a list of product buttons."""
    assert update.effective_message is not None
    text, markup = await _catalog_page(shop_of(context), 0)
    await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def orders_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The buyer's recent orders with their state, and Send again for paid ones."""
    assert update.effective_message is not None and update.effective_user is not None
    text, markup = await _orders_page(shop_of(context), update.effective_user.id, 0)
    await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def _catalog_page(
    shop: Shop, page: int, group: int | None = None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The catalog: categories first when there are several, else (or inside one) products.

    `group` is the id of a category's first product, which names the category in buttons."""
    groups = await products.catalog_groups(shop.db.reader)
    if not groups:
        return texts.catalog_empty(), None
    if group is None and len(groups) > 1:
        return _categories(groups)
    anchor = await products.get(shop.db.reader, group) if group is not None else None
    if group is not None and (anchor is None or not anchor.listed):
        # A stale or forged button: a hidden product must not reveal its category's name.
        return await _catalog_page(shop, 0) if len(groups) == 1 else _categories(groups)
    category = (anchor.category or "") if anchor else None
    total = await products.count_active(shop.db.reader, category=category)
    pages = max(math.ceil(total / CATALOG_PAGE_SIZE), 1)
    page = min(page, pages - 1)
    items = await products.list_active(
        shop.db.reader, offset=page * CATALOG_PAGE_SIZE, limit=CATALOG_PAGE_SIZE, category=category
    )
    header = texts.catalog_header(page, pages, category)
    return header, keyboards.catalog(items, page, pages, group=group if len(groups) > 1 else None)


def _categories(groups: list[tuple[str, int, int]]) -> tuple[str, InlineKeyboardMarkup]:
    return texts.categories_header(), keyboards.categories(groups)


async def _orders_page(
    shop: Shop, user_id: int, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    total = await orders.count_for_buyer(shop.db.reader, user_id)
    pages = max(math.ceil(total / ORDERS_PAGE_SIZE), 1)
    page = min(page, pages - 1)
    items = await orders.for_buyer(
        shop.db.reader, user_id, offset=page * ORDERS_PAGE_SIZE, limit=ORDERS_PAGE_SIZE
    )
    return texts.orders_list(items, page, pages), keyboards.orders(items, page, pages)


async def send_product_card(shop: Shop, message: Message, product_id: int) -> None:
    product = await products.get(shop.db.reader, product_id)
    if product is None or not product.buyable:
        await message.reply_text(texts.product_unavailable())
        return
    left = await _stock_left(shop, product)
    await reply_card(message, product, left, keyboards.product_card(product, 1, stock_left=left))


async def reply_card(
    message: Message, product: Product, stock_left: int | None, markup: InlineKeyboardMarkup
) -> None:
    """The product card: a photo with a caption when the product has one, else text."""
    if product.photo:
        await message.reply_photo(
            product.photo,
            caption=texts.product_card(product, limit=texts.MAX_CAPTION, stock_left=stock_left),
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
        )
    else:
        await message.reply_text(
            texts.product_card(product, limit=texts.MAX_TEXT, stock_left=stock_left),
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
        )


async def _stock_left(shop: Shop, product: Product) -> int | None:
    """Items left for a stock product; None for kinds without a count."""
    if product.kind is not ProductKind.DIGITAL_STOCK:
        return None
    return await stock.available(shop.db.reader, product.id)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every inline button of the buyer's flow; stale or forged data gets a polite answer."""
    query = update.callback_query
    assert query is not None and query.data is not None
    callback = decode(query.data)
    message = query.message
    if callback is None or not isinstance(message, Message):
        await query.answer(texts.unknown_button(), show_alert=True)
        return
    shop = shop_of(context)
    action, args = callback.action, callback.args
    if action in ("cat", "cc"):
        await query.answer()
        if action == "cat":
            text, markup = await _catalog_page(shop, args[0])
        else:
            text, markup = await _catalog_page(shop, args[1], group=args[0])
        await show_page(query, text, markup)
    elif action == "prod":
        await query.answer()
        await send_product_card(shop, message, args[0])
    elif action == "qty":
        await _change_quantity(shop, query, message, args[0], args[1])
    elif action == "max":
        await _at_most(shop, query, args[0])
    elif action == "buy":
        await _buy(shop, query, message, args[0], args[1])
    elif action == "ord":
        await query.answer()
        text, markup = await _orders_page(shop, query.from_user.id, args[0])
        await show_page(query, text, markup)
    elif action == "again":
        await _send_again(shop, query, args[0])
    else:
        await query.answer()


async def show_page(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Turn a menu message into the next page; a photo (or inaccessible) message gets a new
    message instead, since a caption cannot become a text."""
    message = query.message
    if not isinstance(message, Message) or message.text is None:
        await query.get_bot().send_message(
            query.from_user.id, text, parse_mode=ParseMode.HTML, reply_markup=markup
        )
        return
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise


async def _change_quantity(
    shop: Shop, query: CallbackQuery, message: Message, product_id: int, quantity: int
) -> None:
    product = await products.get(shop.db.reader, product_id)
    if product is None or not product.buyable:
        await query.answer(texts.product_unavailable(), show_alert=True)
        return
    await query.answer()
    left = await _stock_left(shop, product)
    try:
        await query.edit_message_reply_markup(
            keyboards.product_card(product, quantity, stock_left=left)
        )
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise


async def _at_most(shop: Shop, query: CallbackQuery, product_id: int) -> None:
    """+ at the largest quantity: the toast says why there is no more (stock or the cap)."""
    product = await products.get(shop.db.reader, product_id)
    if product is None or not product.active or product.archived:
        await query.answer(texts.product_unavailable(), show_alert=True)
        return
    left = await _stock_left(shop, product)
    await query.answer(texts.at_most(left))


async def _buy(
    shop: Shop, query: CallbackQuery, message: Message, product_id: int, quantity: int
) -> None:
    """Buy → the order message with Pay. A refusal is the tap's own answer (an alert, which
    costs no chat message); while Stripe is busy a "preparing…" message holds the place."""
    answered: list[bool] = []
    placeholder: list[Message] = []

    async def before_stripe() -> None:
        wait = shop.stripe.estimated_wait()
        answered.append(
            await _answer_tap(
                query,
                "Preparing your payment link…"
                if wait < 3
                else f"Lots of buyers right now — your payment link comes in about {wait:.0f} s.",
            )
        )
        if shop.stripe.throttled():
            placeholder.append(await message.reply_text(texts.preparing_link()))

    try:
        order = await start_checkout(
            shop, _buyer(query.from_user, message.chat.id), product_id, quantity, before_stripe
        )
    except CheckoutRefused as refusal:
        await _refuse(query, message, placeholder, _refusal_text(refusal), answered=bool(answered))
        return
    except Exception:
        if not answered:  # stop the spinner; on_error tells the buyer what happened
            await _answer_tap(query)
        raise
    if not answered:  # an open link was found again: no Stripe call, nothing announced yet
        await _answer_tap(query)
    text, markup = texts.pay_message(order), keyboards.pay(order)
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


async def _answer_tap(query: CallbackQuery, text: str | None = None, alert: bool = False) -> bool:
    """Answer the button's query (its spinner, or a toast/alert with `text`); False when it
    could not be answered any more (answered before a restart, or too old)."""
    try:
        await query.answer(text, show_alert=alert)
    except BadRequest as error:
        log.info("buy tap %s not answered: %s", query.id, error.message)
        return False
    return True


async def _refuse(
    query: CallbackQuery, message: Message, placeholder: list[Message], text: str, *, answered: bool
) -> None:
    """Say why there is no link: in the tap's own alert when it is still unanswered, else (only
    Stripe failed after the tap was answered) as a message, last in Telegram's queue."""
    if not answered and await _answer_tap(query, text, alert=True):
        return
    with sending_as(Priority.REFUSAL):
        await _say_or_edit(placeholder, message, text)


def _refusal_text(refusal: CheckoutRefused) -> str:
    if isinstance(refusal, SoldOut):
        return texts.sold_out(refusal.available)
    if isinstance(refusal, ProductUnavailable):
        return texts.product_unavailable()
    if isinstance(refusal, TooManyOpen):
        return texts.too_many_open()
    if isinstance(refusal, HoldingTooMany):
        return texts.holding_too_many(refusal.room)
    if isinstance(refusal, SlowDown):
        return texts.slow_down()
    return texts.checkout_failed()


async def _say_or_edit(placeholder: list[Message], message: Message, text: str) -> None:
    if placeholder:
        await placeholder[0].edit_text(text)
    else:
        await message.reply_text(text)


async def _send_again(shop: Shop, query: CallbackQuery, order_id: int) -> None:
    buyer = query.from_user.id
    if await outbox.send_again(shop.db, shop.wake_outbox, order_id, query.id, buyer=buyer) is None:
        await query.answer(texts.resend_unavailable(), show_alert=True)
        return
    await query.answer("Sending it again…")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log every handler error with its traceback; tell the user something went wrong."""
    log.error("handler error", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(
                update.effective_chat.id, "Sorry, something went wrong. Please try again."
            )
        except Exception:  # noqa: BLE001 - the error handler must not raise
            log.warning("could not tell the user about the error")


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("help", help_command))
    application.add_handler(CommandHandler("catalog", catalog_command))
    application.add_handler(CommandHandler("orders", orders_command))
    application.add_handler(CommandHandler("paysupport", support.paysupport_command))
    application.add_handler(CommandHandler("cancel", support.cancel_command))
    application.add_handler(CallbackQueryHandler(on_button, pattern=BUYER_BUTTONS))
    application.add_error_handler(on_error)


def register_fallbacks(application: Application) -> None:  # type: ignore[type-arg]
    """Last in line: unknown commands (including admin ones from non-admins), plain messages
    that no dialog took, and buttons."""
    application.add_handler(MessageHandler(filters.COMMAND, unknown_command))
    application.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE
            & filters.UpdateType.MESSAGE
            & ~filters.COMMAND
            & ~filters.StatusUpdate.ALL,
            support.plain_message,
        )
    )
    application.add_handler(CallbackQueryHandler(stale_button))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the buyer can't use: the same answer whether it exists for admins or not."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(texts.unknown_command())


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button nobody handles (old, forged, or an admin's seen by someone else); an admin
    hears it in admin words."""
    assert update.callback_query is not None
    answer = texts.admin_button_expired() if is_admin(update, context) else texts.unknown_button()
    await update.callback_query.answer(answer, show_alert=True)


def product_link(username: str, product: Product) -> str:
    """A deep link that opens a product's card: t.me/<bot>?start=p_<id> (≤ 64 chars, A-Za-z0-9_)."""
    return f"https://t.me/{username}?start=p_{product.id}"
