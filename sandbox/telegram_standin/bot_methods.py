"""Bot API methods about the bot itself: getMe, getUpdates (long polling), webhooks and commands."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlsplit

from sandbox.telegram_standin.params import _int_param
from sandbox.telegram_standin.protocol import (
    _DEFAULT_EXCLUDED_UPDATES,
    JSON,
    POLL_CONFLICT,
    WEBHOOK_CONFLICT,
    ApiError,
    bad_request,
)
from sandbox.telegram_standin.records import FakeUpload
from sandbox.telegram_standin.users import TelegramUsers


class TelegramBotMethods(TelegramUsers):
    """Bot API methods about the bot itself."""

    async def _m_getMe(self, params: JSON) -> JSON:
        return {
            **self._bot_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _m_logOut(self, params: JSON) -> bool:
        return True

    async def _m_close(self, params: JSON) -> bool:
        return True

    async def _m_getUpdates(self, params: JSON) -> list[JSON]:
        """Long polling: confirm below offset, then wait up to ``timeout`` for updates."""
        if self.webhook is not None:
            raise ApiError(409, WEBHOOK_CONFLICT)
        offset = _int_param(params, "offset", 0)
        limit = min(max(_int_param(params, "limit", 100), 1), 100)
        timeout = max(_int_param(params, "timeout", 0), 0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed] or None
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older poll still waiting is terminated, like on Telegram
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if generation != self._poll_generation:
                self.poll_conflicts += 1
                raise ApiError(409, POLL_CONFLICT)
            self._updates = [u for u in self._updates if self._wanted(u)]
            remaining = deadline - asyncio.get_running_loop().time()
            if self._updates or remaining <= 0 or self._closing:
                return self._updates[:limit]
            await self._wait_change(remaining)

    def _wanted(self, update: JSON) -> bool:
        kind = next(key for key in update if key != "update_id")
        if self._allowed_updates is None:
            return kind not in _DEFAULT_EXCLUDED_UPDATES
        return kind in self._allowed_updates

    async def _m_setWebhook(self, params: JSON) -> bool:
        url = str(params.get("url") or "")
        if not url:
            self.webhook = None
            return True
        parts = urlsplit(url)
        try:
            port = parts.port or 443
        except ValueError:
            raise bad_request("bad webhook: Wrong port number specified in the URL") from None
        if parts.scheme.lower() != "https" or not parts.hostname:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if port not in (80, 88, 443, 8443):
            raise bad_request(
                "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
            )
        secret = params.get("secret_token")
        if secret is not None:
            if not isinstance(secret, str) or not 1 <= len(secret) <= 256:
                raise bad_request("secret token must be 1-256 characters long")
            if not re.fullmatch(r"[A-Za-z0-9_-]+", secret):
                raise bad_request("secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        if allowed is not None and not (
            isinstance(allowed, list) and all(isinstance(kind, str) for kind in allowed)
        ):
            raise bad_request("can't parse allowed_updates JSON object")
        max_connections = _int_param(params, "max_connections", 40)
        if not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {
            "url": url,
            "secret_token": secret,
            "allowed_updates": allowed,
            "max_connections": max_connections,
            "ip_address": params.get("ip_address"),
            "has_custom_certificate": isinstance(params.get("certificate"), FakeUpload),
        }
        return True

    async def _m_deleteWebhook(self, params: JSON) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _m_getWebhookInfo(self, params: JSON) -> JSON:
        hook = self.webhook or {}
        info: JSON = {
            "url": hook.get("url", ""),
            "has_custom_certificate": bool(hook.get("has_custom_certificate")),
            "pending_update_count": len(self._updates),
        }
        if hook:
            info["max_connections"] = hook["max_connections"]
            for key in ("allowed_updates", "ip_address"):
                if hook.get(key) is not None:
                    info[key] = hook[key]
        return info

    def _scope_key(self, params: JSON) -> str:
        """Canonical key for a (scope, language_code) pair: "default", "chat:42", "default/ru"."""
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
            raise bad_request("can't parse BotCommandScope JSON object")
        kind = scope["type"]
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            key = kind
        elif kind in ("chat", "chat_administrators", "chat_member"):
            chat_id = self._chat({"chat_id": scope.get("chat_id")})
            key = f"{kind}:{chat_id}"
            if kind == "chat_member":
                key += f":{_int_param(scope, 'user_id')}"
        else:
            raise bad_request(f"unsupported bot command scope type {kind!r}")
        language = params.get("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", str(language)):
            raise bad_request("invalid language code specified")
        return f"{key}/{language}" if language else key

    async def _m_setMyCommands(self, params: JSON) -> bool:
        commands = params.get("commands", [])
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        stored: list[dict[str, str]] = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand: BotCommand must be an Object")
            for key in ("command", "description"):
                if not isinstance(command.get(key), str):
                    raise bad_request(f"can't parse BotCommand: Can't find field \"{key}\"")
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]):
                raise bad_request("BOT_COMMAND_INVALID")
            if not command["description"].strip():
                raise bad_request("command description must be non-empty")
            if len(command["description"]) > 256:
                raise bad_request("command description is too long")
            stored.append({"command": command["command"], "description": command["description"]})
        key = self._scope_key(params)
        if stored:
            self.commands[key] = stored
        else:
            self.commands.pop(key, None)
        return True

    async def _m_deleteMyCommands(self, params: JSON) -> bool:
        self.commands.pop(self._scope_key(params), None)
        return True

    async def _m_getMyCommands(self, params: JSON) -> list[dict[str, str]]:
        return list(self.commands.get(self._scope_key(params), []))

    def commands_shown(self, user_id: int) -> list[dict[str, str]]:
        """The command menu the user's app shows in their private chat with the bot: the first
        list set, in Telegram's order (the chat's scope, all private chats, the default; each
        first in the two-letter language of the user's app, then for any language)."""
        language = re.split(r"[-_]", self.language_of(user_id))[0].lower()
        for scope in (f"chat:{user_id}", "all_private_chats", "default"):
            for key in (f"{scope}/{language}", scope):
                if key in self.commands:
                    return list(self.commands[key])
        return []
