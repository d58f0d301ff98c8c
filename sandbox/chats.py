"""The personas' conversations with the bot, as the sandbox page shows and plays them.

The bot's messages are read from the Telegram stand-in (their current state: edits applied,
deletions marked); what a persona typed is kept here, since Telegram never hands a bot's
conversation partner's messages back. Typing and tapping go through the stand-in's
`user_sends` / `user_taps`, so the bot receives them by getUpdates like production.

Invoices show as Telegram's apps draw them (photo, title, description, the total, a Pay button),
and `pay` plays Telegram's payment sheet through the stand-in's `pay_invoice`: the bot gets the
pre-checkout query and, when it says ok, the buyer's successful_payment message. The service
messages Telegram posts in the chat (a payment made, a payment refunded) show as such.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sandbox.fake_telegram import (
    MAX_TEXT_UTF16,
    FakeInvoice,
    FakeMessage,
    FakePayment,
    FakeTelegram,
    utf16_len,
)
from sandbox.personas import PERSONAS, Persona, persona
from shop.money import format_money

JSON = dict[str, Any]

MAX_PHOTO_BYTES = 180 * 1024  # the page shrinks photos to fit; the shop's server takes 256 KiB
MAX_CAPTION_UTF16 = 1024
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")  # JPEG, PNG


def file_path(file_id: str) -> str:
    """Where the page fetches a file a persona sent (see `Chats.file`)."""
    return f"/sandbox/api/files/{file_id}"


class ChatRefused(Exception):
    """The persona cannot do that (an empty or too long text, a button that is gone)."""


@dataclass(frozen=True)
class Item:
    """One thing the page shows, with a version that changes whenever its view does."""

    key: str
    version: object
    view: JSON


class Chats:
    def __init__(self, telegram: FakeTelegram) -> None:
        self._telegram = telegram
        self._typed: dict[int, list[JSON]] = {p.user_id: [] for p in PERSONAS}
        self._query_chats: dict[str, int] = {}

    def register_personas(self) -> None:
        """Every persona has started the bot once before, as a real admin must for the bot to
        set their commands and message them; their chats still open empty on the page."""
        for someone in PERSONAS:
            self._telegram.user_sends(
                someone.user_id, "/start", first_name=someone.name, queue=False
            )

    def send(self, user_id: int, text: str) -> None:
        someone = _persona(user_id)
        if not text.strip():
            raise ChatRefused("Type something first.")
        if utf16_len(text) > MAX_TEXT_UTF16:
            raise ChatRefused(f"Telegram messages hold at most {MAX_TEXT_UTF16} characters.")
        update = self._telegram.user_sends(user_id, text, first_name=someone.name)
        message = update["message"]
        self._typed[user_id].append(
            {
                "message_id": message["message_id"],
                "text": text,
                "entities": message.get("entities", []),
                "date": message["date"],
            }
        )

    def send_photo(
        self, user_id: int, data: bytes, size: tuple[int, int], caption: str = ""
    ) -> None:
        """The persona sends a photo (JPEG or PNG) with an optional caption, as from a phone:
        Telegram hands the bot one PhotoSize per size, the largest last."""
        someone = _persona(user_id)
        if not data.startswith(IMAGE_MAGIC):
            raise ChatRefused("Send a JPEG or PNG photo.")
        if len(data) > MAX_PHOTO_BYTES:
            raise ChatRefused(f"Photos here hold at most {MAX_PHOTO_BYTES // 1024} KB.")
        if utf16_len(caption) > MAX_CAPTION_UTF16:
            raise ChatRefused(f"Captions hold at most {MAX_CAPTION_UTF16} characters.")
        width, height = size
        if not (0 < width <= 10_000 and 0 < height <= 10_000):
            raise ChatRefused("That photo's size makes no sense.")
        thumb = max(width, height) / 90
        sizes = ((max(1, round(width / thumb)), max(1, round(height / thumb))), (width, height))
        update = self._telegram.user_sends_photo(
            user_id, caption=caption or None, sizes=sizes, first_name=someone.name, data=data
        )
        message = update["message"]
        self._typed[user_id].append(
            {
                "message_id": message["message_id"],
                "text": caption,
                "entities": message.get("caption_entities", []),
                "photo": file_path(message["photo"][-1]["file_id"]),
                "date": message["date"],
            }
        )

    def file(self, file_id: str) -> bytes | None:
        """A photo a persona sent, for the page to show (the bot may send it back by id)."""
        data = self._telegram.file_data(file_id)
        return data if data is not None and data.startswith(IMAGE_MAGIC) else None

    def tap(self, user_id: int, message_id: int, callback_data: str) -> None:
        _persona(user_id)
        message = next(
            (m for m in self._telegram.messages(user_id) if m.message_id == message_id), None
        )
        if message is None:
            raise ChatRefused("That message is not in this chat.")
        try:
            update = self._telegram.user_taps(user_id, message, callback_data)
        except AssertionError as error:  # the button is not on the message (any more)
            raise ChatRefused("That button is not there any more.") from error
        self._query_chats[update["callback_query"]["id"]] = user_id

    async def pay(self, user_id: int, message_id: int) -> FakePayment:
        """The persona taps Pay on an invoice and confirms Telegram's payment sheet; returns
        how it went (paid, refused with the bot's error_message, or no answer in time). Up to
        the stand-in's pre-checkout deadline (10 s, as on Telegram) passes before it returns."""
        _persona(user_id)
        message = self._message(user_id, message_id)
        invoice = message.invoice
        if invoice is None:
            raise ChatRefused("That message is no invoice.")
        if invoice.charge_id is not None:
            raise ChatRefused("This invoice is paid already.")
        if invoice.in_checkout:
            raise ChatRefused("This invoice is being paid right now.")
        try:
            payment = await self._telegram.pay_invoice(user_id, message)
        except AssertionError as error:  # deleted, or paid meanwhile by another tap
            raise ChatRefused("This invoice cannot be paid any more.") from error
        if payment.update is not None:
            paid = payment.update["message"]
            self._typed[user_id].append(
                {
                    "message_id": paid["message_id"],
                    "service": f"You paid {_stars(invoice.total_amount)} to "
                    f"{self._telegram.bot_name} for {invoice.title}",
                    "date": paid["date"],
                }
            )
        return payment

    def _message(self, user_id: int, message_id: int) -> FakeMessage:
        message = next(
            (m for m in self._telegram.messages(user_id) if m.message_id == message_id), None
        )
        if message is None or message.deleted:
            raise ChatRefused("That message is not in this chat.")
        return message

    def items(self) -> Iterator[Item]:
        """Every message of every persona's chat, then the answers to their button taps."""
        for someone in PERSONAS:
            for message in self._telegram.messages(someone.user_id):
                paid = message.invoice.charge_id if message.invoice is not None else None
                yield Item(
                    f"m{message.chat_id}:{message.message_id}",
                    (message.edits, message.deleted, paid),
                    self._bot_message(message),
                )
            for typed in self._typed[someone.user_id]:
                yield Item(
                    f"m{someone.user_id}:{typed['message_id']}",
                    0,
                    {
                        "type": "message",
                        "chat_id": someone.user_id,
                        "from": "service" if "service" in typed else "user",
                        **typed,
                    },
                )
        yield from self._service_items()
        for number, answer in enumerate(self._telegram.answered_callbacks):
            chat_id = self._query_chats.get(str(answer["callback_query_id"]))
            if chat_id is not None:
                yield Item(
                    f"a{number}",
                    0,
                    {
                        "type": "answer",
                        "chat_id": chat_id,
                        "text": answer["text"] or "",
                        "alert": answer["show_alert"],
                    },
                )

    def _service_items(self) -> Iterator[Item]:
        """Telegram's own notes in the chats: a refund of Stars, named by what was bought."""
        titles = {p.charge_id: p.invoice.title for p in self._telegram.payments if p.charge_id}
        for service in self._telegram.service_messages:
            refunded = service.get("refunded_payment")
            chat_id = service["chat"]["id"]
            if refunded is None or chat_id not in self._typed:
                continue
            what = titles.get(refunded["telegram_payment_charge_id"])
            text = f"{self._telegram.bot_name} refunded {_stars(refunded['total_amount'])}"
            yield Item(
                f"m{chat_id}:{service['message_id']}",
                0,
                {
                    "type": "message",
                    "chat_id": chat_id,
                    "from": "service",
                    "message_id": service["message_id"],
                    "service": text + (f" for {what}" if what else ""),
                    "date": service["date"],
                },
            )

    def _bot_message(self, message: FakeMessage) -> JSON:
        photo = None
        if message.photo is not None:
            photo = self._telegram.file_url(message.photo) or ""  # "" = a photo we cannot show
            if not photo and self.file(message.photo) is not None:
                photo = file_path(message.photo)  # a persona's photo, sent back by file_id
        rows = (message.reply_markup or {}).get("inline_keyboard", [])
        invoice = None
        if message.invoice is not None:
            invoice = _invoice_view(message.invoice)
            if not rows:  # Telegram's apps draw the pay button themselves
                rows = [[{"text": message.invoice.pay_text, "pay": True}]]
        return {
            "type": "message",
            "chat_id": message.chat_id,
            "message_id": message.message_id,
            "from": "bot",
            "text": message.text if message.text is not None else (message.caption or ""),
            "entities": message.entities if message.text is not None else message.caption_entities,
            "photo": photo,
            "document": message.document is not None,
            "invoice": invoice,
            "buttons": [[_button(b) for b in row] for row in rows],
            "date": message.date,
            "edited": message.edits > 0,
            "deleted": message.deleted,
        }


def _stars(amount: int) -> str:
    return format_money(amount, "xtr")


def _invoice_view(invoice: FakeInvoice) -> JSON:
    """What an invoice message shows: its photo (an address the bot gave), title, description
    and total, and whether it was paid (Telegram then stops offering to pay it)."""
    return {
        "title": invoice.title,
        "description": invoice.description,
        "photo": invoice.photo_url,
        "total": _stars(invoice.total_amount),  # the stand-in takes Stars invoices only
        "paid": invoice.charge_id is not None,
    }


def _button(button: JSON) -> JSON:
    if button.get("pay"):
        return {"text": button["text"], "pay": True}
    if "callback_data" in button:
        return {"text": button["text"], "data": button["callback_data"]}
    if "url" in button:
        return {"text": button["text"], "url": button["url"]}
    return {"text": button["text"]}  # kinds the sandbox cannot play (web apps, logins, …)


def _persona(user_id: int) -> Persona:
    try:
        return persona(user_id)
    except ValueError as error:
        raise ChatRefused(str(error)) from error
