"""Bot API methods of payments in Telegram Stars: sendInvoice, answerPreCheckoutQuery,
getStarTransactions and refundStarPayment, as strict as Telegram (the buyer's side, paying an
invoice, is `users.TelegramUsers.pay_invoice`).

What each rule rests on, strongest first: the Bot API docs (sendInvoice: "Pass an empty string for
payments in Telegram Stars", prices "Must contain exactly one item for payments in Telegram
Stars", title 1-32 characters, description 1-255, payload 1-128 bytes, max_tip_amount "Not
supported for payments in Telegram Stars"; getStarTransactions "in chronological order"); the Bot
API server's source (tdlib/telegram-bot-api, Client.cpp: the parameter errors, the clamping of
getStarTransactions' offset and limit, the refunded_payment message a bot gets after its own
refund); TDLib's ("Total price must be positive"). Which error Telegram answers where those are
silent is marked on each constant below.
"""

from __future__ import annotations

import re
import time

from sandbox.telegram_standin.markup import check_reply_markup
from sandbox.telegram_standin.message_methods import TelegramMessageMethods
from sandbox.telegram_standin.params import _int_param
from sandbox.telegram_standin.protocol import (
    JSON,
    QUERY_INVALID,
    ApiError,
    bad_request,
)
from sandbox.telegram_standin.records import FakeInvoice, FakeMessage

STARS = "XTR"
MAX_TITLE_CHARS = 32
MAX_DESCRIPTION_CHARS = 255
MAX_PAYLOAD_BYTES = 128
# MTProto's "The specified Telegram Star invoice is invalid", seen from the Bot API for Stars
# invoices with tips (go-telegram-bot-api#751) or the need_*/send_*_to_provider flags; used too
# for more than one price, which the docs forbid without naming the error.
STARS_INVOICE_INVALID = "Bad Request: STARS_INVOICE_INVALID"
# MTProto's "The specified payment provider is invalid" (documented for invoices). The stand-in
# has no payment provider connected, so any provider token, and any currency but XTR, gets it.
PAYMENT_PROVIDER_INVALID = "Bad Request: PAYMENT_PROVIDER_INVALID"
# MTProto's "The specified invoice payload is invalid" (documented for invoices); that it is the
# answer to a payload over 128 bytes is our reading.
INVOICE_PAYLOAD_INVALID = "Bad Request: INVOICE_PAYLOAD_INVALID"
# Not documented: plausible answers to a title or description over its limit.
TITLE_TOO_LONG = "Bad Request: invoice title must be 1-32 characters long"
DESCRIPTION_TOO_LONG = "Bad Request: invoice description must be 1-255 characters long"
TOTAL_NOT_POSITIVE = "Bad Request: Total price must be positive"  # TDLib's own check
CHARGE_ALREADY_REFUNDED = "Bad Request: CHARGE_ALREADY_REFUNDED"  # tdlib/telegram-bot-api#690
CHARGE_NOT_FOUND = "Bad Request: CHARGE_NOT_FOUND"  # not documented: a plausible answer
# Flags the docs call "Ignored for payments in Telegram Stars" but that Telegram answers with
# STARS_INVOICE_INVALID (seen in a live test suite); is_flexible implies need_shipping_address.
_STARS_REFUSED_FLAGS = (
    "need_name",
    "need_phone_number",
    "need_email",
    "need_shipping_address",
    "send_phone_number_to_provider",
    "send_email_to_provider",
    "is_flexible",
)


def _required(params: JSON, name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise bad_request(f'Parameter "{name}" is required')
    return str(value)


def _price_error(reason: str) -> ApiError:
    return bad_request(f"Can't parse labeled price: {reason}")


def _labeled_price(price: object) -> int:
    """One LabeledPrice's amount, read as the Bot API server reads it (a whole number)."""
    if not isinstance(price, dict):
        raise _price_error("LabeledPrice must be an Object")
    label = price.get("label")
    if label is None:
        raise _price_error('Can\'t find field "label"')
    if isinstance(label, bool) or not isinstance(label, str | int | float):
        raise _price_error('Field "label" must be of type String')
    if str(label) == "":
        raise _price_error("LabeledPrice label must be non-empty")
    amount = price.get("amount")
    if amount is None:
        raise _price_error('Can\'t find field "amount"')
    if isinstance(amount, bool) or not isinstance(amount, str | int | float):
        raise _price_error('Field "amount" must be a Number')
    if isinstance(amount, float) or not re.fullmatch(r"-?\d{1,18}", str(amount)):
        raise _price_error('Field "amount" must be a valid Number')
    return int(amount)


def _prices(params: JSON) -> list[int]:
    raw = params.get("prices")
    if raw is None or raw == "":
        raise bad_request('Parameter "prices" is required')
    if not isinstance(raw, list):
        raise bad_request("Expected an Array of labeled prices")
    amounts = [_labeled_price(price) for price in raw]
    if not amounts:
        raise bad_request("There must be at least one price")
    return amounts


def _check_tips(params: JSON) -> None:
    max_tip = params.get("max_tip_amount")
    if max_tip not in (None, "") and not isinstance(max_tip, int):
        raise bad_request('Can\'t parse "max_tip_amount" as Number')


def _check_stars(params: JSON, amounts: list[int]) -> None:
    """The rules of an invoice in Telegram Stars, the only kind the stand-in can be paid in."""
    if params.get("currency") != STARS or params.get("provider_token"):
        raise ApiError(400, PAYMENT_PROVIDER_INVALID)
    if len(amounts) != 1:
        raise ApiError(400, STARS_INVOICE_INVALID)
    if params.get("max_tip_amount") not in (None, "", 0) or params.get("suggested_tip_amounts"):
        raise ApiError(400, STARS_INVOICE_INVALID)
    if any(params.get(flag) in (True, "1") for flag in _STARS_REFUSED_FLAGS):
        raise ApiError(400, STARS_INVOICE_INVALID)


def _check_texts(title: str, description: str, payload: str) -> None:
    if len(title) > MAX_TITLE_CHARS:
        raise ApiError(400, TITLE_TOO_LONG)
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise ApiError(400, DESCRIPTION_TOO_LONG)
    if len(payload.encode("utf-8")) > MAX_PAYLOAD_BYTES:
        raise ApiError(400, INVOICE_PAYLOAD_INVALID)


class TelegramPaymentMethods(TelegramMessageMethods):
    """Bot API methods of payments in Telegram Stars."""

    async def _m_sendInvoice(self, params: JSON) -> JSON:
        """An invoice message: Message.invoice, and the bot's keyboard if any (whose first
        button must then be the pay button); without one, apps draw "Pay ⭐️N" themselves."""
        title = _required(params, "title")
        description = _required(params, "description")
        payload = _required(params, "payload")
        currency = _required(params, "currency")
        amounts = _prices(params)
        _check_tips(params)
        chat_id = self._chat(params)
        if sum(amounts) <= 0:
            raise ApiError(400, TOTAL_NOT_POSITIVE)
        _check_texts(title, description, payload)
        _check_stars(params, amounts)
        markup = check_reply_markup(params.get("reply_markup"), inline_only=True, invoice=True)
        self._check_reply_to(chat_id, params)
        message_id = self._next_message_id(chat_id)
        invoice = FakeInvoice(
            chat_id=chat_id,
            message_id=message_id,
            title=title,
            description=description,
            payload=payload,
            currency=currency,
            total_amount=sum(amounts),
            start_parameter=str(params.get("start_parameter") or ""),
            photo_url=str(params["photo_url"]) if params.get("photo_url") else None,
        )
        self._invoices[(chat_id, message_id)] = invoice
        message = FakeMessage(
            message_id=message_id,
            chat_id=chat_id,
            reply_markup=markup,
            date=int(time.time()),
            invoice=invoice,
        )
        return self._store(message)

    async def _m_answerPreCheckoutQuery(self, params: JSON) -> bool:
        """Settle a buyer's pending checkout; a query answered, timed out or unknown is an error
        (the Bot API says "query is too old ... or query ID is invalid" for QUERY_ID_INVALID)."""
        ok = params.get("ok") in (True, "1")
        error_message = params.get("error_message")
        if not ok and not error_message:
            raise bad_request('Parameter "error_message" is required')
        waiter = self._checkouts.pop(str(params.get("pre_checkout_query_id") or ""), None)
        if waiter is None or waiter.done():
            raise ApiError(400, QUERY_INVALID)
        waiter.set_result((ok, None if ok else str(error_message)))
        self._notify()
        return True

    async def _m_getStarTransactions(self, params: JSON) -> JSON:
        """The bot's Star transactions oldest first; like the Bot API server, offset and limit
        are clamped (to >= 0 and to 1..100, default 100) rather than refused."""
        offset = max(_int_param(params, "offset", 0), 0)
        limit = min(max(_int_param(params, "limit", 100), 1), 100)
        return {"transactions": self._star_transactions[offset : offset + limit]}

    async def _m_refundStarPayment(self, params: JSON) -> bool:
        """Give a payment's Stars back, once: an outgoing transaction with the payment's id and
        the buyer as receiver, and the refunded_payment service message in the buyer's chat,
        which the bot receives as an update (the Bot API server does not skip it)."""
        user_id = params.get("user_id")
        if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
            raise bad_request("Invalid user_id specified")
        charge_id = _required(params, "telegram_payment_charge_id")
        charge = self._charges.get(charge_id)
        if charge is None or charge["user_id"] != user_id:
            raise ApiError(400, CHARGE_NOT_FOUND)
        if charge["refunded"]:
            raise ApiError(400, CHARGE_ALREADY_REFUNDED)
        charge["refunded"] = True
        now = int(time.time())
        refund: JSON = {"id": charge_id, "amount": charge["amount"], "date": now}
        self._star_transactions.append({**refund, "receiver": charge["partner"]})
        refunded = {
            "currency": STARS,
            "total_amount": charge["amount"],
            "invoice_payload": charge["payload"],
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": charge["provider_payment_charge_id"],
        }
        service: JSON = {
            "message_id": self._next_message_id(user_id),
            "from": self._bot_json(),
            "chat": self._chat_json(user_id),
            "date": now,
            "refunded_payment": refunded,
        }
        self.service_messages.append(service)
        self._make_update("message", service, True)
        return True
