"""Simulated users (user_sends, user_taps, uploads, blocking, paying invoices) and what tests
inspect or await."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Awaitable, Callable

from sandbox.telegram_standin.entities import (
    utf16_len,
)
from sandbox.telegram_standin.protocol import (
    _CANONICAL,
    JSON,
)
from sandbox.telegram_standin.records import FakeCall, FakeInvoice, FakeMessage, FakePayment
from sandbox.telegram_standin.state import TelegramState


class TelegramUsers(TelegramState):
    """Simulated users."""

    def user_sends(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str = "Buyer",
        language_code: str | None = None,
        queue: bool = True,
    ) -> JSON:
        """A private message from a user; the user thereby starts (and unblocks) the bot.

        Commands get bot_command entities like real clients produce. With ``queue=False`` the
        update is only built, for tests that POST it to the bot's webhook themselves.
        ``language_code`` is the app's language for this message (and the taps after it);
        None: the one `set_language` gave the user, else "en".
        """
        extra: JSON = {"text": text}
        entities = [
            {
                "type": "bot_command",
                "offset": utf16_len(text[: m.start()]),
                "length": utf16_len(m.group()),
            }
            for m in re.finditer(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?", text)
        ]
        if entities:
            extra["entities"] = entities
        return self._user_message(user_id, extra, first_name, queue, language_code)

    def user_taps(
        self,
        user_id: int,
        message: FakeMessage,
        callback_data: str,
        *,
        queue: bool = True,
        check_keyboard: bool = True,
    ) -> JSON:
        """A callback query from tapping a button on the message's *current* keyboard.

        Tapping a button that is not there (any more), or on a message in someone else's chat,
        is a bug in the test or the bot, so it raises AssertionError instead of producing an
        update no real client could send. ``check_keyboard=False`` skips those checks to model
        a forged query from a modified client: the bot must not trust callback_data blindly.
        """
        current = self._find_message(message.chat_id, message.message_id)
        if current is None:
            raise AssertionError(f"the bot never sent message {message.message_id}")
        datas = [b.get("callback_data") for b in current.buttons()]
        if check_keyboard:
            if current.deleted:
                raise AssertionError(f"message {current.message_id} was deleted")
            if current.chat_id != user_id:
                raise AssertionError(f"user {user_id} cannot see chat {current.chat_id}")
            if callback_data not in datas:
                raise AssertionError(
                    f"no button with callback_data {callback_data!r} on message "
                    f"{current.message_id}; its buttons carry {datas}"
                )
        user = self._users.get(user_id) or self._register(
            user_id, "Buyer", self.language_of(user_id)
        )
        query_id = str(next(self._query_ids))
        self._pending_queries[query_id] = time.monotonic()
        query: JSON = {
            "id": query_id,
            "from": user,
            "message": self._message_json(current),
            "chat_instance": str(-(10**18) - current.chat_id),
            "data": callback_data,
        }
        return self._make_update("callback_query", query, queue)

    def user_sends_photo(
        self,
        user_id: int,
        *,
        caption: str | None = None,
        sizes: tuple[tuple[int, int], ...] = ((90, 68), (320, 240), (1280, 960)),
        first_name: str = "Buyer",
        queue: bool = True,
        data: bytes | None = None,
    ) -> JSON:
        """A photo from a user, as Telegram delivers it: one PhotoSize per size, smallest
        first, each with its own file_id that the bot may send back or download (getFile).
        With `data` (a real image) every size serves those bytes; else a stub JPEG each."""
        photo = []
        for width, height in sizes:
            content = data or b"\xff\xd8\xff" + f"fake jpeg {width}x{height}".encode()
            file_id = self._register_user_file("photo", content, {"width": width, "height": height})
            photo.append(self._files[file_id]["json"])
        extra: JSON = {"photo": photo}
        if caption:
            extra["caption"] = caption
        return self._user_message(user_id, extra, first_name, queue)

    def user_sends_document(
        self,
        user_id: int,
        file_name: str,
        content: bytes,
        *,
        mime_type: str = "text/plain",
        caption: str | None = None,
        first_name: str = "Buyer",
        queue: bool = True,
    ) -> JSON:
        """A file from a user (e.g. a .txt upload); getFile and the download URL serve
        ``content`` back byte for byte."""
        meta = {"file_name": file_name, "mime_type": mime_type}
        file_id = self._register_user_file("document", content, meta)
        extra: JSON = {"document": self._files[file_id]["json"]}
        if caption:
            extra["caption"] = caption
        return self._user_message(user_id, extra, first_name, queue)

    def _register_user_file(self, kind: str, data: bytes, meta: JSON) -> str:
        number = next(self._file_ids)
        file_id = f"{'AgAC' if kind == 'photo' else 'BQAC'}user{number:06d}"
        info: JSON = {
            "file_id": file_id,
            "file_unique_id": f"AQADuser{number:06d}",
            "file_size": len(data),
            **meta,
        }
        self._files[file_id] = {"kind": kind, "json": info, "data": data}
        return file_id

    def _user_message(
        self,
        user_id: int,
        extra: JSON,
        first_name: str,
        queue: bool,
        language_code: str | None = None,
    ) -> JSON:
        """A message from a user with `extra` fields (text, photo, document, ...), from an app
        in `language_code` (None: the user's own, see `set_language`)."""
        if language_code is None:
            language_code = self.language_of(user_id)
        user = self._register(user_id, first_name, language_code)
        self._blocked.discard(user_id)  # writing to a blocked bot requires unblocking it
        message_id = self._next_message_id(user_id)
        self._user_messages.setdefault(user_id, set()).add(message_id)
        message: JSON = {
            "message_id": message_id,
            "from": user,
            "chat": self._chat_json(user_id),
            "date": int(time.time()),
            **extra,
        }
        return self._make_update("message", message, queue)

    async def pay_invoice(
        self,
        user_id: int,
        message: FakeMessage,
        *,
        deliver: Callable[[JSON], Awaitable[object]] | None = None,
    ) -> FakePayment:
        """The user taps Pay on an invoice and confirms Telegram's payment sheet.

        Telegram asks the bot first (a pre_checkout_query update) and waits up to
        ``pre_checkout_timeout`` seconds (10, as on Telegram) for answerPreCheckoutQuery.
        ok: the Stars are taken, a Star transaction is recorded and the bot gets the buyer's
        successful_payment message. ok=False: the buyer is shown the bot's error_message and
        pays nothing. No answer in time: the payment fails. Every try lands in ``payments``.
        Paying what no app lets one pay (a message that is no invoice, a deleted or already
        paid one, someone else's chat) raises AssertionError, like tapping a missing button.
        With ``deliver`` (e.g. a POST to the bot's webhook) the pre_checkout_query and
        successful_payment updates go through it instead of the getUpdates queue.
        """
        invoice = self._payable_invoice(user_id, message)
        query_id = str(next(self._query_ids))
        waiter: asyncio.Future[tuple[bool, str | None]] = asyncio.get_running_loop().create_future()
        self._checkouts[query_id] = waiter
        invoice.in_checkout = True
        query: JSON = {
            "id": query_id,
            "from": self._users[user_id],
            "currency": invoice.currency,
            "total_amount": invoice.total_amount,
            "invoice_payload": invoice.payload,
        }
        update = self._make_update("pre_checkout_query", query, deliver is None)
        answer: tuple[bool, str | None] | None = None
        try:
            answer = await asyncio.wait_for(
                _answer(waiter, update, deliver), self.pre_checkout_timeout
            )
        except TimeoutError:
            pass  # Telegram cancels the payment; a late answer is QUERY_ID_INVALID
        finally:
            self._checkouts.pop(query_id, None)
            invoice.in_checkout = False
        outcome = "timeout" if answer is None else "paid" if answer[0] else "refused"
        payment = FakePayment(user_id, invoice, query_id, outcome)
        if answer is not None:
            payment.error_message = answer[1]
        if outcome == "paid":
            self._take_stars(payment, queue=deliver is None)
        self.payments.append(payment)
        self._notify()
        if deliver is not None and payment.update is not None:
            await deliver(payment.update)
        return payment

    def _payable_invoice(self, user_id: int, message: FakeMessage) -> FakeInvoice:
        current = self._find_message(message.chat_id, message.message_id)
        if current is None or current.invoice is None:
            raise AssertionError(f"message {message.message_id} is no invoice the bot sent")
        if current.deleted:
            raise AssertionError(f"invoice message {current.message_id} was deleted")
        if current.chat_id != user_id:
            raise AssertionError(f"user {user_id} cannot see chat {current.chat_id}")
        invoice = current.invoice
        if invoice.charge_id is not None:
            raise AssertionError(
                f"invoice {current.message_id} was paid already ({invoice.charge_id}); "
                "an invoice is paid once"
            )
        if invoice.in_checkout:
            raise AssertionError(f"invoice {current.message_id} is being paid right now")
        return invoice

    def _take_stars(self, payment: FakePayment, *, queue: bool) -> None:
        """The payment went through: charge ids (Telegram's opaque, unique one and a provider
        one whose Stars format the docs do not give), the Star transaction, the update."""
        invoice, user = payment.invoice, self._users[payment.user_id]
        charge_id = "stxfake" + secrets.token_urlsafe(24)
        provider_charge_id = f"{payment.user_id}_{next(self._charge_numbers)}"
        partner: JSON = {
            "type": "user",
            "transaction_type": "invoice_payment",
            "user": user,
            "invoice_payload": invoice.payload,
        }
        invoice.charge_id = payment.charge_id = charge_id
        self._charges[charge_id] = {
            "user_id": payment.user_id,
            "amount": invoice.total_amount,
            "payload": invoice.payload,
            "provider_payment_charge_id": provider_charge_id,
            "partner": partner,
            "refunded": False,
        }
        now = int(time.time())
        self._star_transactions.append(
            {"id": charge_id, "amount": invoice.total_amount, "date": now, "source": partner}
        )
        paid: JSON = {
            "currency": invoice.currency,
            "total_amount": invoice.total_amount,
            "invoice_payload": invoice.payload,
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": provider_charge_id,
        }
        extra: JSON = {"successful_payment": paid}
        payment.update = self._user_message(
            payment.user_id, extra, user["first_name"], queue, user["language_code"]
        )

    def block(self, user_id: int) -> None:
        """The user blocked the bot: every request targeting their chat answers 403."""
        self._blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self._blocked.discard(user_id)

    def messages(self, chat_id: int) -> list[FakeMessage]:
        """The bot's messages in the chat, oldest first, deleted ones included (deleted=True)."""
        return list(self._messages.get(chat_id, []))

    async def wait_for(
        self,
        chat_id: int,
        predicate: Callable[[FakeMessage], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the test-facing API, like wait_for's
    ) -> FakeMessage:
        """The first of the bot's messages in the chat matching ``predicate``, waiting for it."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for message in self._messages.get(chat_id, []):
                if predicate(message):
                    return message
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                seen = [
                    (m.message_id, m.text or m.caption, m.deleted) for m in self.messages(chat_id)
                ]
                raise AssertionError(
                    f"no message in chat {chat_id} matched within {timeout}s; messages: {seen}"
                )
            await self._wait_change(remaining)

    def file_data(self, file_id: str) -> bytes | None:
        """The bytes of a file a user sent (None for the bot's own uploads and URLs)."""
        data = self._files.get(file_id, {}).get("data")
        return data if isinstance(data, bytes) else None

    def file_url(self, file_id: str) -> str | None:
        """The URL the bot sent a file from (None for uploads and users' files), so a viewer
        such as the sandbox page can show a photo the fake itself never downloads."""
        url = self._files.get(file_id, {}).get("url")
        return url if isinstance(url, str) else None

    @property
    def change_count(self) -> int:
        """How many changes so far: a live view notes it *before* reading the chats and passes
        it as `since=`, so a change made while it was busy elsewhere still wakes it."""
        return self._change_count

    async def wait_for_change(
        self,
        timeout: float,  # noqa: ASYNC109 - a plain bound on the wait, like asyncio.wait_for's
        since: int | None = None,
    ) -> None:
        """Return at the next change (a message sent, edited or deleted, an update queued, a
        callback answered), at once if one came after `since`, or after ``timeout`` seconds:
        live views wait here, not in a loop."""
        if since is not None and since != self._change_count:
            return
        await self._wait_change(timeout)

    def calls_of(self, method: str) -> list[FakeCall]:
        canonical = _CANONICAL.get(method.lower(), method)
        return [call for call in self.calls if call.method == canonical]


async def _answer(
    waiter: asyncio.Future[tuple[bool, str | None]],
    update: JSON,
    deliver: Callable[[JSON], Awaitable[object]] | None,
) -> tuple[bool, str | None]:
    """The bot's answer to a pre-checkout query, after handing it the query if it is not
    polling; both within the one deadline."""
    if deliver is not None:
        await deliver(update)
    return await waiter
