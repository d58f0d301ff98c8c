"""Reply markup as strictly as Telegram checks it: inline buttons, their actions, callback data and
URLs.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sandbox.telegram_standin.protocol import (
    _BUTTON_ACTIONS,
    BAD_BUTTON,
    BUTTON_TYPE_INVALID,
    JSON,
    MAX_CALLBACK_DATA_BYTES,
    MAX_INLINE_BUTTONS,
    ApiError,
    bad_request,
)
from sandbox.telegram_standin.records import FakeMessage


def _valid_button_url(url: object) -> bool:
    if not isinstance(url, str) or not url or any(c.isspace() for c in url):
        return False
    parts = urlsplit(url)
    return parts.scheme.lower() in ("http", "https", "tg") and bool(parts.netloc)


def _check_button(button: object) -> None:
    """Validate one InlineKeyboardButton the way the Bot API does before it reaches users."""
    if not isinstance(button, dict):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    text = button.get("text")
    if not isinstance(text, str):
        raise ApiError(400, BAD_BUTTON + 'Field "text" must be of type String')
    if not text.strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = [name for name in _BUTTON_ACTIONS if name in button]
    if not actions:
        raise ApiError(400, BAD_BUTTON + "Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise ApiError(400, BAD_BUTTON + f"exactly one of the optional fields, got {actions}")
    kind = actions[0]
    value = button[kind]
    if kind == "callback_data":
        if not isinstance(value, str):
            raise ApiError(400, BAD_BUTTON + 'Field "callback_data" must be of type String')
        if not 1 <= len(value.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    elif kind == "url" and not _valid_button_url(value):
        raise bad_request("BUTTON_URL_INVALID")
    elif kind in ("web_app", "login_url"):
        url = value.get("url") if isinstance(value, dict) else None
        if not _valid_button_url(url) or (kind == "web_app" and not str(url).startswith("https:")):
            raise bad_request("BUTTON_URL_INVALID")


def check_reply_markup(
    markup: object, *, inline_only: bool = False, invoice: bool = False
) -> JSON | None:
    """Validate a reply_markup; inline keyboards deeply, reply keyboards only by shape.

    ``invoice`` marks an invoice's keyboard, the one place a pay button may be (and must be
    first): "This type of button must always be the first button in the first row and can only
    be used in invoice messages" (Bot API, InlineKeyboardButton.pay).
    """
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        for row in rows:
            for button in row:
                _check_button(button)
        if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
            raise bad_request("reply markup is too long")
        _check_pay_buttons(rows, invoice=invoice)
        return markup
    if inline_only:
        raise bad_request("inline keyboard expected")
    if any(key in markup for key in ("keyboard", "remove_keyboard", "force_reply")):
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def _check_pay_buttons(rows: list[list[JSON]], *, invoice: bool) -> None:
    pays = [(r, c) for r, row in enumerate(rows) for c, button in enumerate(row) if "pay" in button]
    first_is_pay = bool(rows) and bool(rows[0]) and "pay" in rows[0][0]
    if pays and (not invoice or pays != [(0, 0)]):
        raise ApiError(400, BUTTON_TYPE_INVALID)
    if invoice and any(rows) and not first_is_pay:
        raise ApiError(400, BUTTON_TYPE_INVALID)


def _inline(markup: JSON | None) -> JSON | None:
    return markup if markup is not None and "inline_keyboard" in markup else None


def _set_inline_markup(message: FakeMessage, markup: JSON | None) -> None:
    """Edits replace the inline keyboard; a reply keyboard is not part of the message."""
    if markup is not None or _inline(message.reply_markup) is not None:
        message.reply_markup = markup
