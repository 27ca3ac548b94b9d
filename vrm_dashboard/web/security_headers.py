"""The security headers of every response, put on by one ASGI middleware around the whole app
(the built pages, the API, `/_upload`; the websocket passes untouched).

Every response gets:
- `X-Content-Type-Options: nosniff`, so a browser never takes a file for another type;
- `Referrer-Policy: same-origin`: our URLs (invoice ids, link tokens) are not told to other
  sites. Not `no-referrer`: under it a browser sends `Origin: null` even with our own pages'
  POSTs, which the API's same-origin check (`web.same_origin`) must be able to read;
- `Strict-Transport-Security` when the request came over TLS (behind a proxy that ends TLS,
  the proxy sends it);
- a `Content-Security-Policy`:
  - the app's own policy: scripts only from our origin, frames only from our origin, never
    framed itself (`frame-ancestors 'none'`), no plugins, no foreign forms or <base>;
  - on the widget routes, which partner sites frame, a policy without scripts that any site
    may frame (`frame-ancestors *`);
  - a policy a route set itself is kept: the sandbox of a document (`web.downloads`) or the
    print view's own.

The built pages (Reflex's prerendered HTML) carry a few inline scripts: the theme switch,
React Router's hydration data and React's streaming helpers, different for each page. Their
SHA-256 hashes are read from the page as it is sent and named in its policy, so exactly those
scripts run and no other inline script would. Only pages from the build are read this way,
never an API or upload response, whose content is not ours. Reflex's bundles need no `eval`
for what the app uses (`rx.call_script` from the backend would: we send none).
"""
from __future__ import annotations

import gzip
import logging
import re
import zlib
from collections.abc import Callable, Iterable

import anyio
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vrm_dashboard.web.downloads import SECURITY_POLICY, script_hash

log = logging.getLogger(__name__)

# api/widget.py's pages, which a partner site puts in an iframe.
WIDGET_PREFIX = "/api/v1/widget/"
# Paths the build's pages never have: the API and Reflex's own endpoints (/_event, /_upload ...).
_NOT_BUILT_PAGES = ("/api/", "/_", "/ping")
WIDGET_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; "
                 "form-action 'none'; frame-ancestors *")
HSTS = "max-age=31536000"
# A built page is a few tens of KB; one larger than this is sent without its inline scripts.
_MOST_PAGE_BYTES = 2 * 1024 * 1024
_INLINE_SCRIPT = re.compile(rb"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_HAS_SRC = re.compile(rb"\ssrc\s*=", re.IGNORECASE)
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
# What a build's page may come compressed with (Reflex precompresses gzip by default).
_DECODERS: dict[str, Callable[[bytes], bytes]] = {
    "": lambda body: body, "identity": lambda body: body, "gzip": gzip.decompress,
    "deflate": zlib.decompress,
}


def app_policy(host: str | None, script_hashes: Iterable[str] = ()) -> str:
    """The policy of the app's pages and API answers.

    `connect-src` names the websocket of the page's own host besides 'self': Reflex's events go
    over it, and older browsers do not count ws:/wss: as 'self'."""
    sockets = f" ws://{host} wss://{host}" if host and _HOST.match(host) else ""
    scripts = "".join(f" {h}" for h in script_hashes)
    return ("default-src 'self'; "
            f"script-src 'self'{scripts}; "
            # Emotion (Radix, Reflex) writes <style> elements and style attributes at run time.
            "style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; font-src 'self' data:; "
            f"connect-src 'self'{sockets}; "
            "frame-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
            "frame-ancestors 'none'")


def inline_script_hashes(page: bytes) -> list[str]:
    """The CSP hash of every inline <script> of a (UTF-8) page, in order, each once. The browser
    hashes a script's text as parsed, where every CR LF or lone CR has become LF."""
    found: dict[str, None] = {}
    for attributes, body in _INLINE_SCRIPT.findall(page):
        if not _HAS_SRC.search(attributes):
            found[script_hash(body.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))] = None
    return list(found)


def _decoded(body: bytes, encoding: str) -> bytes | None:
    decode = _DECODERS.get(encoding.strip().lower())
    if decode is None:
        return None
    try:
        return decode(body)
    except (OSError, EOFError, zlib.error):
        return None


def _is_html(headers: Headers) -> bool:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower() == "text/html"


class SecurityHeadersMiddleware:
    """Puts the security headers on every HTTP response (see the module's docstring)."""

    def __init__(self, app: ASGIApp, framed_prefixes: tuple[str, ...] = (WIDGET_PREFIX,)) -> None:
        self.app = app
        self.framed_prefixes = framed_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        over_tls = scope.get("scheme") == "https"
        framed = path.startswith(self.framed_prefixes)
        built_page = not path.startswith(_NOT_BUILT_PAGES)
        host = Headers(scope=scope).get("host")
        held: Message | None = None  # a built page's start, until its body is read
        pending: list[Message] = []
        pending_bytes = 0

        async def release(page: bytes | None) -> None:
            nonlocal held
            assert held is not None
            headers = MutableHeaders(scope=held)
            page = _decoded(page, headers.get("content-encoding", "")) if page is not None else None
            if page is None:
                log.warning("%s: page sent without its inline scripts (could not read it)", path)
            headers[SECURITY_POLICY] = app_policy(host, inline_script_hashes(page or b""))
            start, held = held, None
            await send(start)
            for message in pending:
                await send(message)
            pending.clear()

        async def send_with_headers(message: Message) -> None:
            nonlocal held, pending_bytes
            kind = message["type"]
            if kind == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                if over_tls:
                    headers["Strict-Transport-Security"] = HSTS
                if framed:
                    headers[SECURITY_POLICY] = WIDGET_POLICY
                elif SECURITY_POLICY in headers:
                    pass  # the route's own: a sandboxed document, or a page of ours with its own script
                elif built_page and message.get("status") == 304:
                    pass  # the browser keeps the policy it stored with the page (and its hashes)
                elif built_page and _is_html(headers):
                    held = message
                    return
                else:
                    headers[SECURITY_POLICY] = app_policy(host)
                await send(message)
                return
            if held is None:
                await send(message)
                return
            pending.append(message)
            if kind == "http.response.body":
                pending_bytes += len(message.get("body", b""))
                if message.get("more_body", False):
                    if pending_bytes > _MOST_PAGE_BYTES:
                        await release(None)
                    return
                await release(b"".join(m.get("body", b"") for m in pending))
            elif kind == "http.response.pathsend":
                # Granian hands the file to the socket itself; read it here to hash its scripts.
                file = anyio.Path(message["path"])
                small = (await file.stat()).st_size <= _MOST_PAGE_BYTES
                await release(await file.read_bytes() if small else None)
            else:
                await release(None)

        await self.app(scope, receive, send_with_headers)


def security_headers(app: ASGIApp) -> ASGIApp:
    """The app behind the security headers (an `rx.App(api_transformer=...)` step)."""
    return SecurityHeadersMiddleware(app)
