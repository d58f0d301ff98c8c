"""Who may talk to the sandbox: requests for its own address, posted from its own pages.

Two attacks to keep out, since the page lets anyone play the admin and read every chat:
- Cross-site requests: any web page could make a visitor's browser post to localhost. Browsers
  send `Origin` on POSTs, so a POST whose Origin is not the address it was sent to is refused.
  (The pages use the `same-origin` referrer policy: under `no-referrer` browsers send
  `Origin: null` even for the page's own posts.)
- DNS rebinding: a page at evil.example:8080 whose name is then re-pointed at 127.0.0.1 is, to
  the browser, same-origin with itself: its Origin matches its Host. So the Host header must
  name an address the sandbox really serves — loopback at its port, or the public address it
  was given with SANDBOX_ALLOW_PUBLIC=1 — on every request, reads included.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler

__all__ = ["Origins"]


class Origins:
    """The `host:port` values the sandbox answers to."""

    def __init__(self, port: int, *public_urls: str) -> None:
        loopback = (f"http://{host}:{port}" for host in ("127.0.0.1", "localhost", "[::1]"))
        self.hosts = frozenset(_netloc(url) for url in (*loopback, *public_urls))

    def serves(self, request: web.Request) -> bool:
        """The request was sent to one of our own addresses (not a rebound foreign name)."""
        return _host(request.host) in self.hosts

    def cross_site(self, request: web.Request) -> bool:
        """A browser sent this from another site's page."""
        origin = request.headers.get("Origin")
        if origin is None:  # not a browser's cross-site request (curl, a same-origin GET)
            return False
        return _netloc(origin) != _host(request.host)

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Every route of the sandbox's server (its pages, the shop's, the webhooks) answers
        only requests for its own addresses, and changes nothing for another site's page."""
        if not self.serves(request):
            raise web.HTTPMisdirectedRequest(
                text="This sandbox answers only at its own address: "
                + ", ".join(f"http://{host}" for host in sorted(self.hosts))
            )
        if request.method not in ("GET", "HEAD", "OPTIONS") and self.cross_site(request):
            raise web.HTTPForbidden(text="cross-site requests are refused")
        return await handler(request)


def _netloc(url: str) -> str:
    """`host:port` of a URL as browsers send it in Host (the default port left out)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    shown = f"[{host}]" if ":" in host else host
    default = {"http": 80, "https": 443}.get(parts.scheme)
    try:
        port = parts.port
    except ValueError:
        return ""
    return shown if port in (None, default) else f"{shown}:{port}"


def _host(header: str) -> str:
    return header.strip().lower()
