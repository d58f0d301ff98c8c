"""A request's parameters as the Bot API reads them: form fields or multipart parts, with
JSON-encoded values decoded only for the parameters that take them (PTB sends them so)."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from sandbox.telegram_standin.protocol import (
    _BOOL_PARAMS,
    _INT_PARAMS,
    _JSON_PARAMS,
    JSON,
    bad_request,
)
from sandbox.telegram_standin.records import FakeUpload


def _decode_param(name: str, value: Any) -> Any:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return value
    if name in _JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None
    if name in _INT_PARAMS and re.fullmatch(r"-?\d+", value):
        return int(value)
    if name in _BOOL_PARAMS and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


async def _read_params(request: web.Request) -> JSON:
    """Merge query string and body (JSON, urlencoded or multipart) into one decoded dict."""
    raw: JSON = dict(request.query)
    if request.content_type == "application/json":
        body = await request.text()
        if body.strip():
            try:
                decoded = json.loads(body)
            except ValueError:
                raise bad_request("can't parse JSON encoded request body") from None
            if not isinstance(decoded, dict):
                raise bad_request("JSON encoded request body must be an Object")
            raw.update(decoded)
    elif request.can_read_body:
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                raw[key] = FakeUpload(value.filename, value.content_type, value.file.read())
            else:
                raw[key] = value
    return {key: _decode_param(key, value) for key, value in raw.items()}


def _suffix(file_name: str) -> str:
    """The extension Telegram keeps in a document's file_path ("" for none)."""
    match = re.search(r"\.[A-Za-z0-9]{1,8}$", file_name)
    return match.group().lower() if match else ""


def _int_param(params: JSON, name: str, default: int | None = None) -> int:
    value = params.get(name, default)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if value is None or value == "":
        raise bad_request(f"{name} is empty")
    raise bad_request(f"wrong parameter {name} in request")
