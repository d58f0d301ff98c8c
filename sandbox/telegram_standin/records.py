"""What the stand-in keeps per call, message and upload, for tests to inspect."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sandbox.telegram_standin.protocol import (
    JSON,
)


@dataclass
class FakeUpload:
    """A file that arrived as a multipart part rather than as a file_id/URL string."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class FakeCall:
    """One request as the fake understood it, for assertions about what the bot asked for.

    ``status`` is the HTTP status answered; 499 means the client hung up before the answer
    (e.g. PTB cancelling its long poll on shutdown).
    """

    method: str
    params: JSON
    status: int
    response: JSON


@dataclass
class HeldCall:
    """A call the stand-in keeps waiting (`FakeTelegram.hold_next`): `arrived` is set when it
    reaches Telegram, and it goes on once the test sets `released`."""

    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class FakeInvoice:
    """An invoice the bot sent (sendInvoice): what the buyer sees and pays, and whether they did.

    ``charge_id`` is set by the one payment an invoice can take; ``in_checkout`` while a buyer's
    pre-checkout query awaits the bot's answer.
    """

    chat_id: int
    message_id: int
    title: str
    description: str
    payload: str
    currency: str
    total_amount: int
    start_parameter: str = ""
    photo_url: str | None = None
    charge_id: str | None = None
    in_checkout: bool = False

    def json(self) -> JSON:
        """The Bot API's Invoice object, as in Message.invoice."""
        return {
            "title": self.title,
            "description": self.description,
            "start_parameter": self.start_parameter,
            "currency": self.currency,
            "total_amount": self.total_amount,
        }

    @property
    def pay_text(self) -> str:
        """The default button Telegram's apps draw on a Stars invoice sent without a keyboard."""
        return f"Pay \u2b50\ufe0f{self.total_amount}"


@dataclass
class FakePayment:
    """One try of a simulated buyer to pay an invoice, as the buyer lived it.

    ``outcome`` is "paid", "refused" (the bot answered ok=False; ``error_message`` is what the
    buyer was shown) or "timeout" (no answer within the pre-checkout deadline: no payment).
    """

    user_id: int
    invoice: FakeInvoice
    query_id: str
    outcome: str
    error_message: str | None = None
    charge_id: str | None = None
    update: JSON | None = None  # the successful_payment update, when paid


@dataclass
class FakeMessage:
    """The current state of one message the bot sent; mutated in place by edits and deletes."""

    message_id: int
    chat_id: int
    text: str | None = None  # plain text after entity parsing (None for media messages)
    html: str | None = None  # the text exactly as the bot sent it
    caption: str | None = None  # plain caption after entity parsing
    caption_html: str | None = None
    photo: str | None = None  # file_id
    document: str | None = None  # file_id
    parse_mode: str | None = None
    reply_markup: JSON | None = None
    edits: int = 0
    deleted: bool = False
    entities: list[JSON] = field(default_factory=list)
    caption_entities: list[JSON] = field(default_factory=list)
    date: int = 0
    edit_date: int | None = None
    invoice: FakeInvoice | None = None

    def buttons(self) -> list[JSON]:
        """The inline keyboard flattened row by row ([] for no or a non-inline keyboard)."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]

    def button(self, text_contains: str) -> JSON:
        """The first inline button whose text contains ``text_contains``.

        An exact-case match wins; otherwise the match is case-insensitive, so tests need not
        care whether the bot writes "Catalog" or "catalog". No match is an AssertionError.
        """
        buttons = self.buttons()
        found = [b for b in buttons if text_contains in b.get("text", "")] or [
            b for b in buttons if text_contains.casefold() in b.get("text", "").casefold()
        ]
        if found:
            return found[0]
        texts = [b.get("text") for b in buttons]
        raise AssertionError(
            f"no button containing {text_contains!r} on message {self.message_id}: {texts}"
        )
