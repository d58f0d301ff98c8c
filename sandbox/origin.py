"""A cross-site request check for the sandbox's state-changing routes.

Any web page could otherwise make a visitor's browser post to localhost; browsers send `Origin`
on POSTs, so a POST whose Origin names another host is refused. (The pages use the
`same-origin` referrer policy: under `no-referrer` browsers send `Origin: null` even for the
page's own posts.)
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web


def same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:  # not a browser's cross-site request (curl, same-origin GET-ish)
        return True
    return urlsplit(origin).netloc == request.host
