"""Every admin handler, one per command or button pattern (the patterns come from
`bot.callbacks`), each re-checking the admin. bot/app.py adds them ahead of the buyer's, so an
admin's command reaches them first; anyone else's falls through to the buyer's answers.

Two conversations come first, because while one is open it must see the admin's next message
before anything else: the product dialog (/addproduct, Edit and /stock — one at a time, a new
one replacing the old and saying so) and the tracking question of Mark shipped.
"""

from __future__ import annotations

import warnings
from typing import Any

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import callbacks as cb
from bot.admin import (
    dialog,
    orders,
    product_edit,
    products,
    refunds,
    sales,
    shipping,
    stock,
    translations,
    wizard,
    wizard_pay,
)
from bot.admin.auth import Handler, admin_filter, admin_only
from bot.admin.dialog import within
from bot.admin.product_edit import Edit
from bot.admin.stock import StockUpload
from bot.admin.translations import Translating
from bot.admin.wizard import Step
from bot.admin.wizard_draft import Draft
from bot.callbacks import Button
from bot.context import ShopContext

Handlers = list[BaseHandler[Update, ShopContext, Any]]
States = dict[object, Handlers]
TEXT = filters.TEXT & ~filters.COMMAND


def routes(admin_ids: frozenset[int]) -> Handlers:
    admin = admin_filter(admin_ids)
    return [
        _product_dialog(admin),
        _tracking_question(admin),
        CommandHandler("products", products.products_command, filters=admin),
        CommandHandler("orders", admin_only(orders.orders_command), filters=admin),
        CommandHandler("ship", admin_only(shipping.ship_command), filters=admin),
        CommandHandler("refund", admin_only(refunds.refund_command), filters=admin),
        CommandHandler("sales", admin_only(sales.sales_command), filters=admin),
        _tap(cb.PRODUCTS_PAGE, products.open_list),
        _tap(cb.PRODUCT_CARD, products.open_card),
        _tap(cb.PRODUCT_VISIBLE, products.set_visible),
        _tap(cb.PRODUCT_UP, products.move_up),
        _tap(cb.PRODUCT_DOWN, products.move_down),
        _tap(cb.PRODUCT_DELETE, products.ask_delete),
        _tap(cb.PRODUCT_DELETE_YES, products.delete),
        _tap(cb.EDIT_MENU, product_edit.choose_field),
        _tap(cb.ORDERS_PAGE, orders.open_list),
        _tap(cb.ORDER_DETAIL, orders.open_detail),
        _tap(cb.ORDER_RESEND, orders.resend),
        _tap(cb.SHIP_DELIVERED, shipping.delivered),
        _tap(cb.REFUND, refunds.refund_button),
        _tap(cb.REFUND_YES, refunds.confirm),
        _tap(cb.REFUND_NO, refunds.cancel),
        _tap(cb.SALES_OVERVIEW, sales.overview),
        _tap(cb.SALES_WINDOW, sales.window),
        _tap(cb.TRANSLATIONS, translations.open_overview),
        _tap(cb.TRANSLATION_LANGUAGE, translations.open_language),
        _tap(cb.TRANSLATION_REMOVE, translations.remove),
    ]


def _tap(button: Button, handler: Handler) -> CallbackQueryHandler[ShopContext, object]:
    """The one handler of an admin button, for admins only (checked on every tap)."""
    return CallbackQueryHandler(admin_only(handler), pattern=button.pattern)


def _product_dialog(admin: filters.BaseFilter) -> ConversationHandler[ShopContext]:
    """/addproduct, Edit and /stock in one ConversationHandler with re-entry allowed, so an
    admin is in at most one of them and no two dialogs compete for the same typed message."""
    states: States = {
        **_wizard_steps(),
        product_edit.EDITING: [
            MessageHandler(TEXT, within(Edit, product_edit.edit_text)),
            MessageHandler(filters.PHOTO, within(Edit, product_edit.edit_photo)),
            CommandHandler("skip", within(Edit, product_edit.edit_clear)),
            _tap(cb.EDIT_CATEGORY, within(Edit, product_edit.chose_category)),
            _tap(cb.EDIT_NO_CATEGORY, within(Edit, product_edit.chose_no_category)),
            _tap(cb.EDIT_RAIL, within(Edit, product_edit.chose_rail)),
        ],
        stock.UPLOADING: [
            MessageHandler(TEXT, within(StockUpload, stock.stock_text)),
            MessageHandler(filters.Document.ALL, within(StockUpload, stock.stock_file)),
        ],
        translations.TYPING: [
            MessageHandler(TEXT, within(Translating, translations.got_text)),
            CommandHandler("skip", within(Translating, translations.skip_text)),
        ],
        ConversationHandler.TIMEOUT: [TypeHandler(Update, dialog.timed_out)],
    }
    with warnings.catch_warnings():
        # Deliberate: the dialog is per admin and chat, and its buttons belong to it whichever
        # message carries them, so per_message=False is right despite PTB's reminder.
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                CommandHandler("addproduct", wizard.start, filters=admin),
                CommandHandler("stock", stock.stock_command, filters=admin),
                _tap(cb.EDIT_FIELD, product_edit.edit_start),
                _tap(cb.STOCK_PRODUCT, stock.stock_chosen),
                _tap(cb.TRANSLATION_EDIT, translations.ask_text),
            ],
            states=states,
            fallbacks=[
                CommandHandler("cancel", dialog.cancel),
                CommandHandler("skip", dialog.cannot_skip),
                MessageHandler(~filters.COMMAND, dialog.off_script),
            ],
            allow_reentry=True,
            conversation_timeout=dialog.DIALOG_TIMEOUT,
            name="admin_products",
        )


def _wizard_steps() -> States:
    """/addproduct's steps; each runs only while its draft is open (`within`)."""

    def on(kind: filters.BaseFilter, step: Handler) -> MessageHandler[ShopContext, object]:
        return MessageHandler(kind, within(Draft, step))

    def skip(step: Handler) -> CommandHandler[ShopContext, object]:
        return CommandHandler("skip", within(Draft, step))

    def tap(button: Button, step: Handler) -> CallbackQueryHandler[ShopContext, object]:
        return _tap(button, within(Draft, step))

    no_command = ~filters.COMMAND
    return {
        Step.TITLE: [on(TEXT, wizard.got_title)],
        Step.DESCRIPTION: [on(TEXT, wizard.got_description), skip(wizard.skip_description)],
        Step.PHOTO: [
            on(filters.PHOTO, wizard.got_photo),
            skip(wizard.skip_photo),
            on(no_command, wizard.photo_expected),
        ],
        Step.KIND: [
            tap(cb.WIZARD_KIND, wizard.chose_kind),
            on(no_command, wizard.buttons_expected),
        ],
        Step.RAIL: [
            tap(cb.WIZARD_RAIL, wizard_pay.chose_rail),
            on(no_command, wizard.buttons_expected),
        ],
        Step.PRICE: [on(TEXT, wizard_pay.got_price)],
        Step.STARS: [on(TEXT, wizard_pay.got_stars)],
        Step.DELIVERY: [on(TEXT, wizard.got_delivery), skip(wizard.skip_delivery)],
        Step.ITEMS: [
            on(TEXT, wizard.got_items),
            on(filters.Document.ALL, wizard.got_items_file),
            skip(wizard.skip_items),
        ],
        Step.COUNTRIES: [on(TEXT, wizard.got_countries), skip(wizard.skip_countries)],
        Step.CATEGORY: [
            tap(cb.WIZARD_CATEGORY, wizard.chose_category),
            tap(cb.WIZARD_NO_CATEGORY, wizard.chose_no_category),
            on(TEXT, wizard.typed_category),
        ],
        Step.CONFIRM: [
            tap(cb.WIZARD_SAVE, wizard.save),
            tap(cb.WIZARD_SAVE_HIDDEN, wizard.save_hidden),
            tap(cb.WIZARD_DISCARD, wizard.discard),
            tap(cb.WIZARD_PREVIEW, wizard.preview_tapped),
            on(no_command, wizard.buttons_expected),
        ],
    }


def _tracking_question(admin: filters.BaseFilter) -> ConversationHandler[ShopContext]:
    """Mark shipped / Add tracking → the tracking number (or No tracking / Cancel / /cancel).

    Kept per chat and user rather than per message on purpose: the answer is a text message,
    which has no message of its own to attach to, so PTB's per_message hint does not apply.
    No tracking and Cancel are entry points too, so a tap on an older prompt is answered the
    same way whether a question is open or not. A forgotten question lapses after ten minutes
    instead of swallowing later text."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                _tap(cb.SHIP, shipping.ask_to_ship),
                _tap(cb.SHIP_TRACKING, shipping.ask_new_tracking),
                _tap(cb.SHIP_NO_TRACKING, shipping.no_tracking),
                _tap(cb.SHIP_CANCEL, shipping.cancel_button),
            ],
            states={
                shipping.TRACKING: [
                    MessageHandler(admin & TEXT, admin_only(shipping.receive_tracking)),
                ],
                ConversationHandler.TIMEOUT: [TypeHandler(Update, shipping.question_lapsed)],
            },
            fallbacks=[
                CommandHandler("cancel", admin_only(shipping.cancel_command), filters=admin)
            ],
            allow_reentry=True,
            conversation_timeout=shipping.TRACKING_TIMEOUT_SECONDS,
            name="admin_tracking",
        )
