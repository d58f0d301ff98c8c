"""Bot API methods about messages: send, edit, delete, callback answers, chat actions and files."""

from __future__ import annotations

import time

from sandbox.telegram_standin.bot_methods import TelegramBotMethods
from sandbox.telegram_standin.entities import (
    parse_html,
    utf16_len,
)
from sandbox.telegram_standin.markup import (
    _inline,
    _set_inline_markup,
    check_reply_markup,
)
from sandbox.telegram_standin.params import _int_param, _suffix
from sandbox.telegram_standin.protocol import (
    _CHAT_ACTIONS,
    JSON,
    MAX_CALLBACK_ANSWER_UTF16,
    MAX_CAPTION_UTF16,
    MAX_DOWNLOAD_BYTES,
    MAX_TEXT_UTF16,
    NOT_MODIFIED,
    QUERY_INVALID,
    ApiError,
    bad_request,
)
from sandbox.telegram_standin.records import FakeMessage, FakeUpload


class TelegramMessageMethods(TelegramBotMethods):
    """Bot API methods about messages."""

    def _formatted(
        self, params: JSON, key: str, entities_key: str, limit: int, *, required: bool
    ) -> tuple[str, list[JSON]]:
        """Apply parse_mode to text/caption and enforce the length limit after parsing."""
        raw = params.get(key)
        what = "message text" if key == "text" else "message caption"
        if raw is None or raw == "":
            if required:
                raise bad_request(f"{what} is empty")
            return "", []
        raw = str(raw)
        mode = params.get("parse_mode") or ""
        if not mode:
            given = params.get(entities_key)
            plain, entities = raw, given if isinstance(given, list) else []
        elif str(mode).lower() == "html":
            try:
                plain, entities = parse_html(raw)
            except ValueError as error:
                raise bad_request(f"can't parse entities: {error}") from None
        else:
            raise bad_request(f"unsupported parse_mode {mode!r} (FakeTelegram implements HTML)")
        if required and not plain.strip():
            raise bad_request(f"{what} is empty")
        if utf16_len(plain) > limit:
            raise bad_request(f"{what.replace('message text', 'message')} is too long")
        return plain, entities

    def _file(self, params: JSON, key: str, kind: str) -> str:
        """Resolve a photo/document argument (upload, URL or file_id) to a file_id."""
        value = params.get(key)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if value is None or value == "":
            raise bad_request(f"there is no {kind} in the request")
        if isinstance(value, str) and not value.lower().startswith(("http://", "https://")):
            known = self._files.get(value)
            if known is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            if known["kind"] != kind:
                raise bad_request("type of file mismatch")
            return value
        if isinstance(value, FakeUpload) and not value.data:
            raise bad_request("file must be non-empty")
        number = next(self._file_ids)
        file_id = f"{'AgAC' if kind == 'photo' else 'BQAC'}fake{number:06d}"
        meta: JSON = {"file_id": file_id, "file_unique_id": f"AQADfake{number:06d}"}
        if isinstance(value, FakeUpload):
            meta["file_size"] = len(value.data)
        if kind == "photo":
            meta.update(width=800, height=600)
        else:
            name = value.filename if isinstance(value, FakeUpload) else value.rsplit("/", 1)[-1]
            meta["file_name"] = name or "document"
            if isinstance(value, FakeUpload):
                meta["mime_type"] = value.content_type
        self._files[file_id] = {"kind": kind, "json": meta}
        if isinstance(value, str):
            self._files[file_id]["url"] = value  # never fetched; kept so a viewer can show it
        return file_id

    async def _m_sendMessage(self, params: JSON) -> JSON:
        chat_id = self._chat(params)
        text, entities = self._formatted(params, "text", "entities", MAX_TEXT_UTF16, required=True)
        markup = check_reply_markup(params.get("reply_markup"))
        self._check_reply_to(chat_id, params)
        return self._store(
            FakeMessage(
                message_id=self._next_message_id(chat_id),
                chat_id=chat_id,
                text=text,
                html=str(params["text"]),
                parse_mode=params.get("parse_mode") or None,
                reply_markup=markup,
                entities=entities,
                date=int(time.time()),
            )
        )

    async def _send_media(self, params: JSON, kind: str) -> JSON:
        chat_id = self._chat(params)
        file_id = self._file(params, kind, kind)
        caption, entities = self._formatted(
            params, "caption", "caption_entities", MAX_CAPTION_UTF16, required=False
        )
        markup = check_reply_markup(params.get("reply_markup"))
        self._check_reply_to(chat_id, params)
        return self._store(
            FakeMessage(
                message_id=self._next_message_id(chat_id),
                chat_id=chat_id,
                caption=caption or None,
                caption_html=str(params["caption"]) if caption else None,
                photo=file_id if kind == "photo" else None,
                document=file_id if kind == "document" else None,
                parse_mode=params.get("parse_mode") or None,
                reply_markup=markup,
                caption_entities=entities,
                date=int(time.time()),
            )
        )

    async def _m_sendPhoto(self, params: JSON) -> JSON:
        return await self._send_media(params, "photo")

    async def _m_sendDocument(self, params: JSON) -> JSON:
        return await self._send_media(params, "document")

    async def _m_editMessageText(self, params: JSON) -> JSON:
        message = self._editable(params)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        text, entities = self._formatted(params, "text", "entities", MAX_TEXT_UTF16, required=True)
        # Omitting reply_markup removes the inline keyboard, exactly as on Telegram.
        markup = check_reply_markup(params.get("reply_markup"), inline_only=True)
        if (text, entities, markup) == (
            message.text,
            message.entities,
            _inline(message.reply_markup),
        ):
            raise ApiError(400, NOT_MODIFIED)
        message.text, message.html, message.entities = text, str(params["text"]), entities
        message.parse_mode = params.get("parse_mode") or None
        _set_inline_markup(message, markup)
        return self._edited(message)

    async def _m_editMessageCaption(self, params: JSON) -> JSON:
        message = self._editable(params)
        if message.text is not None or message.invoice is not None:
            raise bad_request("there is no caption in the message to edit")
        caption, entities = self._formatted(
            params, "caption", "caption_entities", MAX_CAPTION_UTF16, required=False
        )
        markup = check_reply_markup(params.get("reply_markup"), inline_only=True)
        current = (message.caption or "", message.caption_entities, _inline(message.reply_markup))
        if (caption, entities, markup) == current:
            raise ApiError(400, NOT_MODIFIED)
        message.caption = caption or None
        message.caption_html = str(params["caption"]) if caption else None
        message.caption_entities = entities
        message.parse_mode = params.get("parse_mode") or None
        _set_inline_markup(message, markup)
        return self._edited(message)

    async def _m_editMessageReplyMarkup(self, params: JSON) -> JSON:
        message = self._editable(params)
        invoice = message.invoice is not None  # its keyboard must keep the pay button first
        markup = check_reply_markup(params.get("reply_markup"), inline_only=True, invoice=invoice)
        if markup == _inline(message.reply_markup):
            raise ApiError(400, NOT_MODIFIED)
        _set_inline_markup(message, markup)
        return self._edited(message)

    async def _m_deleteMessage(self, params: JSON) -> bool:
        chat_id = self._chat(params)
        message_id = _int_param(params, "message_id")
        message = self._find_message(chat_id, message_id)
        if message is not None and not message.deleted:
            message.deleted = True
            self._notify()
            return True
        if message_id in self._user_messages.get(chat_id, set()):
            self._user_messages[chat_id].discard(message_id)  # bots may delete incoming DMs
            return True
        raise bad_request("message to delete not found")

    async def _m_answerCallbackQuery(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        tapped = self._pending_queries.get(query_id)
        if tapped is None or time.monotonic() - tapped > self.callback_answer_seconds:
            self._pending_queries.pop(query_id, None)
            raise ApiError(400, QUERY_INVALID)
        text = params.get("text")
        if isinstance(text, str) and utf16_len(text) > MAX_CALLBACK_ANSWER_UTF16:
            raise bad_request("MESSAGE_TOO_LONG")
        del self._pending_queries[query_id]
        self.answered_callbacks.append(
            {
                "callback_query_id": query_id,
                "text": text,
                "show_alert": bool(params.get("show_alert")),
                "url": params.get("url"),
                "cache_time": params.get("cache_time"),
            }
        )
        self._notify()
        return True

    async def _m_sendChatAction(self, params: JSON) -> bool:
        self._chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    async def _m_getFile(self, params: JSON) -> JSON:
        """Telegram answers a file_path under /file/bot<token>/ for files of up to 20 MB."""
        file_id = str(params.get("file_id") or "")
        if not file_id:
            raise bad_request("file_id is empty")
        known = self._files.get(file_id)
        if known is None:
            raise bad_request("invalid file_id")
        data = known.get("data")
        if data is None:  # sent by the bot from a URL: the fake never fetched its bytes
            raise bad_request("file is temporarily unavailable")
        if len(data) > MAX_DOWNLOAD_BYTES:
            raise bad_request("file is too big")
        meta = known["json"]
        folder = "photos" if known["kind"] == "photo" else "documents"
        suffix = ".jpg" if known["kind"] == "photo" else _suffix(meta.get("file_name", ""))
        path = f"{folder}/file_{meta['file_unique_id']}{suffix}"
        known["path"] = path
        return {
            "file_id": file_id,
            "file_unique_id": meta["file_unique_id"],
            "file_size": len(data),
            "file_path": path,
        }
