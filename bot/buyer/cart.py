"""The buyer's cart in the chat: /cart, Add to cart on a product card, the cart view's
− / + / ✕ per line, Empty cart (asked first) and Checkout.

The cart lives in the database (shop/cart.py); this module only shows it. Every view is
reviewed against the shop first (`shop.cart.review`: a product hidden, a new price, fewer
left), so the cart the buyer sees is the one checkout charges, and what changed is said on it.
Every tap edits the cart's own message in place, in the buyer's language: the merchant's
titles too, where they translated them (shop/translations.py), in the view, toasts and alerts.
"""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode

from bot import callbacks as cb
from bot.buyer import cart_view, keyboards, texts
from bot.buyer.catalog import stock_left
from bot.buyer.checkout import check_out
from bot.buyer.receipt_fit import fits_one_receipt
from bot.buyer.stars import stars_check_out
from bot.context import ShopContext
from bot.shared import show_buttons, show_page, tapped
from bot.texts import unknown_button
from shop import cart, translations
from shop.cart import Cart, CartRefused, Changed
from shop.checkout import Wanted
from shop.context import Shop
from shop.i18n import Lang
from storage import carts, products, stock
from storage.models import Product, Rail

Page = tuple[str, InlineKeyboardMarkup]


async def _reviewed(shop: Shop, lang: Lang, user_id: int) -> tuple[list[Changed], Cart]:
    """The cart brought up to date with the shop, and what that changed, named in `lang`."""
    return await cart.reviewed(shop, user_id, language=lang.code)


async def _loaded(shop: Shop, lang: Lang, user_id: int) -> Cart:
    """The cart as it is, its lines named in `lang` where the merchant translated them."""
    return await cart.load(shop.db.reader, user_id, language=lang.code)


async def cart_page(shop: Shop, lang: Lang, user_id: int) -> Page:
    changes, current = await _reviewed(shop, lang, user_id)
    return cart_view.page(lang, current, changes), cart_view.keyboard(lang, current)


async def cart_command(update: Update, context: ShopContext) -> None:
    """/cart: the cart as a new message."""
    assert update.effective_message is not None and update.effective_user is not None
    text, markup = await cart_page(context.shop, context.lang, update.effective_user.id)
    await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def open_cart(update: Update, context: ShopContext) -> None:
    """Cart (N) under the catalog (in its place) or a card (a new message, the card stays);
    Keep my cart after Empty cart."""
    if (tap := await tapped(update, cb.CART_OPEN)) is None:
        return
    query, data = tap
    await query.answer()
    text, markup = await cart_page(context.shop, context.lang, query.from_user.id)
    if data.word(0) == cb.CART_NEW:
        await query.get_bot().send_message(
            query.from_user.id, text, parse_mode=ParseMode.HTML, reply_markup=markup
        )
    else:
        await show_page(query, text, markup)


async def add_to_cart(update: Update, context: ShopContext) -> None:
    """Add to cart on a card: a toast with what was added (an alert for a refusal), and the
    card's Cart (N) counts the new line."""
    if (tap := await tapped(update, cb.CART_ADD)) is None:
        return
    query, data = tap
    shop, lang, user_id = context.shop, context.lang, query.from_user.id
    product_id, quantity = data.id(0), data.id(1)
    had = await carts.quantity_of(shop.db.reader, user_id, product_id)
    product = await _product(shop, lang, product_id)
    try:
        now = await cart.add(shop, user_id, product_id, quantity)
    except CartRefused as refusal:
        title = product.title if product is not None else ""
        await query.answer(cart_view.refused(lang, refusal, title, had), show_alert=True)
        return
    assert product is not None  # add refuses a product that is gone
    lines = await carts.count(shop.db.reader, user_id)
    await query.answer(cart_view.added(lang, product.title, now - had, now, lines))
    left = await stock_left(shop, product)
    markup = keyboards.card_buttons(lang, product, quantity, stock_left=left, cart_lines=lines)
    await show_buttons(query, markup)


async def line_less(update: Update, context: ShopContext) -> None:
    """− on a line: one fewer (the last one takes the line out)."""
    await _step(update, context, cb.CART_LESS, -1)


async def line_more(update: Update, context: ShopContext) -> None:
    """+ on a line: one more, up to what one order takes and what is left."""
    await _step(update, context, cb.CART_MORE, +1)


async def _step(update: Update, context: ShopContext, button: cb.Button, delta: int) -> None:
    if (tap := await tapped(update, button)) is None:
        return
    query, data = tap
    shop, lang, user_id, product_id = context.shop, context.lang, query.from_user.id, data.id(0)
    had = await carts.quantity_of(shop.db.reader, user_id, product_id)
    now = await cart.change(shop, user_id, product_id, delta)
    changes, current = await _reviewed(shop, lang, user_id)
    item = next((i for i in current.items if i.product_id == product_id), None)
    toast = None
    if had and not now:
        toast = cart_view.removed(lang, await _title(shop, lang, product_id))
    elif had and delta > 0 and now == had:
        toast = texts.at_most(lang, item.left if item is not None else None)
    await query.answer(toast)
    await _show(lang, query, current, changes)


async def remove_line(update: Update, context: ShopContext) -> None:
    """✕ on a line: the line goes, whatever its quantity."""
    if (tap := await tapped(update, cb.CART_REMOVE)) is None:
        return
    query, data = tap
    shop, lang, user_id, product_id = context.shop, context.lang, query.from_user.id, data.id(0)
    had = await carts.quantity_of(shop.db.reader, user_id, product_id)
    await cart.remove(shop, user_id, product_id)
    toast = cart_view.removed(lang, await _title(shop, lang, product_id)) if had else None
    await query.answer(toast)
    changes, current = await _reviewed(shop, lang, user_id)
    await _show(lang, query, current, changes)


async def ask_empty(update: Update, context: ShopContext) -> None:
    """Empty cart: the cart's message asks first (Keep my cart brings the cart back)."""
    if (tap := await tapped(update, cb.CART_EMPTY)) is None:
        return
    query, _ = tap
    await query.answer()
    current = await _loaded(context.shop, context.lang, query.from_user.id)
    if not current.items:
        await _show(context.lang, query, current)
        return
    await show_page(query, *cart_view.empty_question(context.lang, current))


async def empty_cart(update: Update, context: ShopContext) -> None:
    """Yes, empty it: every line goes; the message says the cart is empty."""
    if (tap := await tapped(update, cb.CART_EMPTY_YES)) is None:
        return
    query, _ = tap
    await cart.empty(context.shop, query.from_user.id)
    await query.answer(cart_view.empty_now(context.lang))
    await _show(context.lang, query, await _loaded(context.shop, context.lang, query.from_user.id))


async def checkout(update: Update, context: ShopContext) -> None:
    """Checkout: the cart is reviewed first; what changed is shown on it and waits for a
    second tap, a cart mixing currencies or rails or too big for one receipt is refused, and
    otherwise the pay message comes as for Buy now."""
    if (ready := await _ready_to_pay(update, context, cb.CART_CHECKOUT, Rail.STRIPE)) is None:
        return
    query, message, current, wanted = ready
    lang = context.lang
    await check_out(context.shop, lang, query, message, wanted, from_cart=True)
    if cart_view.shows_changes(lang, message.text):  # the buyer has confirmed them now
        await _show(lang, query, current)


async def checkout_stars(update: Update, context: ShopContext) -> None:
    """⭐ Pay N Stars: the same review and refusals as Checkout, then one Stars invoice for
    the whole cart."""
    if (ready := await _ready_to_pay(update, context, cb.CART_STARS, Rail.STARS)) is None:
        return
    query, message, current, wanted = ready
    lang = context.lang
    await stars_check_out(context.shop, lang, query, message, wanted, from_cart=True)
    if cart_view.shows_changes(lang, message.text):
        await _show(lang, query, current)


async def _ready_to_pay(
    update: Update, context: ShopContext, button: cb.Button, rail: Rail
) -> tuple[CallbackQuery, Message, Cart, list[Wanted]] | None:
    """The reviewed cart to pay through `rail`, or None once the tap is answered with why not
    (what changed, shown on the cart; empty, mixed rails or currencies; too big)."""
    if (tap := await tapped(update, button)) is None:
        return None
    query, _ = tap
    shop, lang = context.shop, context.lang
    if not isinstance(query.message, Message):
        await query.answer(unknown_button(lang), show_alert=True)
        return None
    changes, current = await _reviewed(shop, lang, query.from_user.id)
    total = current.total if rail is Rail.STRIPE else current.stars_total
    if changes or total is None:
        alert = cart_view.cart_changed(lang) if changes else cart_view.cannot_pay(lang, current)
        await query.answer(alert, show_alert=True)
        await _show(lang, query, current, changes, checking_out=True)
        return None
    if not fits_one_receipt(await _receipt_lines(shop, current)):
        await query.answer(cart_view.too_big_for_one_receipt(lang), show_alert=True)
        return None
    wanted = [Wanted(item.product_id, item.quantity) for item in current.items]
    return query, query.message, current, wanted


async def _receipt_lines(shop: Shop, current: Cart) -> list[tuple[Product, int, int]]:
    """(product, quantity, longest item left) for each line, what `fits_one_receipt` weighs:
    the products as the buyer reads them, since the receipt carries the delivery texts in the
    order's language, which is the buyer's."""
    return [
        (item.product, item.quantity, await stock.longest_item(shop.db.reader, item.product_id))
        for item in current.items
        if item.product is not None
    ]


async def _show(
    lang: Lang,
    query: CallbackQuery,
    current: Cart,
    changes: list[Changed] | None = None,
    *,
    checking_out: bool = False,
) -> None:
    """The cart in place of the tapped message."""
    text = cart_view.page(lang, current, changes or [], checking_out=checking_out)
    await show_page(query, text, cart_view.keyboard(lang, current))


async def _product(shop: Shop, lang: Lang, product_id: int) -> Product | None:
    """The product as the buyer reads it (its texts in `lang` where translated); None if gone."""
    product = await products.get(shop.db.reader, product_id)
    if product is None:
        return None
    return await translations.localized_one(shop.db.reader, product, lang.code)


async def _title(shop: Shop, lang: Lang, product_id: int) -> str:
    """The product's title in `lang`; "" once it is gone (the toast then says "the product")."""
    product = await _product(shop, lang, product_id)
    return product.title if product is not None else ""
