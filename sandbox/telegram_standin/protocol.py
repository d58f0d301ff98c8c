"""What the Bot API's wire protocol looks like: its methods, limits and error texts, and how a
request's parameters are decoded (PTB sends JSON-encoded values in form fields).
"""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]

MAX_TEXT_UTF16 = 4096
MAX_CAPTION_UTF16 = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100
MAX_CALLBACK_ANSWER_UTF16 = 200
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile refuses bigger files

# fmt: off
METHODS = (
    "getMe", "logOut", "close", "getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo",
    "setMyCommands", "deleteMyCommands", "getMyCommands", "sendMessage", "sendPhoto",
    "sendDocument", "editMessageText", "editMessageCaption", "editMessageReplyMarkup",
    "deleteMessage", "answerCallbackQuery", "sendChatAction", "getFile", "sendInvoice",
    "answerPreCheckoutQuery", "getStarTransactions", "refundStarPayment",
)
_CANONICAL = {name.lower(): name for name in METHODS}
# Methods that produce or change a visible message, i.e. the ones flood control throttles.
RATE_LIMITED_METHODS = frozenset({
    "sendMessage", "sendPhoto", "sendDocument", "sendInvoice",
    "editMessageText", "editMessageCaption", "editMessageReplyMarkup",
})
# PTB (like any form-encoding client) sends non-string values as JSON-encoded strings; only
# parameters of these names are decoded, so a text of "123" or "[1]" stays a string.
_JSON_PARAMS = frozenset({
    "reply_markup", "allowed_updates", "commands", "scope", "entities", "caption_entities",
    "link_preview_options", "reply_parameters", "prices", "suggested_tip_amounts",
})
_INT_PARAMS = frozenset({
    "chat_id", "message_id", "offset", "limit", "timeout", "max_connections", "cache_time",
    "message_thread_id", "reply_to_message_id", "user_id", "max_tip_amount", "photo_size",
    "photo_width", "photo_height",
})
_BOOL_PARAMS = frozenset({
    "drop_pending_updates", "show_alert", "disable_notification", "protect_content",
    "allow_sending_without_reply", "disable_web_page_preview", "show_caption_above_media",
    "has_spoiler", "disable_content_type_detection", "ok", "need_name", "need_phone_number",
    "need_email", "need_shipping_address", "send_phone_number_to_provider",
    "send_email_to_provider", "is_flexible",
})
_BUTTON_ACTIONS = (
    "url", "callback_data", "switch_inline_query", "switch_inline_query_current_chat",
    "copy_text", "web_app", "login_url", "pay", "callback_game",
)
_CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note",
    "upload_video_note",
})
# fmt: on
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_FAILURE_DESCRIPTIONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

CHAT_NOT_FOUND = "Bad Request: chat not found"
BLOCKED = "Forbidden: bot was blocked by the user"
EDIT_NOT_FOUND = "Bad Request: message to edit not found"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
BAD_BUTTON = "Bad Request: can't parse inline keyboard button: "
# MTProto's "The type of one or more of the buttons you provided is invalid": a pay button outside
# an invoice, or an invoice whose custom keyboard does not start with one.
BUTTON_TYPE_INVALID = "Bad Request: BUTTON_TYPE_INVALID"


class ApiError(Exception):
    """A Bot API error answer; raised anywhere inside a handler, turned into the JSON reply."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")
