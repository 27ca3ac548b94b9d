"""Request bodies too large for their route are refused with 413 before the app stores them.

Reflex's `/_upload` spools a whole multipart body to disk before any handler runs (the
browser's `rx.upload(max_size=...)` binds no one else), and FastAPI does the same for the
API's file routes before its dependencies know who is asking. So the limit sits in front of
both, at the ASGI edge, with one table of limits per route:

- a body whose `Content-Length` passes its route's limit is refused before a byte is read;
- the bytes actually streamed are counted, and the request stops with 413 as soon as they pass
  what is allowed: the route's limit, or less if the body announced less (a lying
  `Content-Length`). A body that announces no size (chunked) is held to the small default:
  browsers and HTTP clients announce the size of every upload, and an unannounced body would
  otherwise fill the disk up to the large limit before it could be refused.

Only HTTP bodies are counted; the websocket that carries Reflex's events passes untouched.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from reflex import constants
from reflex.config import get_config
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vrm_dashboard.config import settings

MB = 1024 * 1024
# An ordinary request (JSON, a form) is small.
DEFAULT_LIMIT = 1 * MB
# A multipart body carries boundaries and part headers besides the files' own bytes.
FORM_FRAMING = 64 * 1024
# POST /api/v1/activity: JSON rows, parsed by FastAPI before the caller is known, at about 25
# times their size in memory; 8 MB (tens of thousands of rows) keeps an anonymous body near 200 MB.
# Larger batches go as a file (/activity/imports) or in several calls.
ACTIVITY_ROWS_LIMIT = 8 * MB
# One activity file: as large as the import reads (services/platform/tabular_files.py).
ACTIVITY_FILE_LIMIT = 200 * MB
# The API's prefix (api/app.py), written out: the HTTP edge imports no route or service code.
API = "/api/v1"


@dataclass(frozen=True)
class BodyLimits:
    """The most bytes a request body may carry, by exact path; any other path gets `default`."""

    by_path: Mapping[str, int] = field(default_factory=dict)
    default: int = DEFAULT_LIMIT

    def for_path(self, path: str) -> int:
        return self.by_path.get(path.rstrip("/") or "/", self.default)


def route_limits(upload_bytes: int, upload_path: str = "/_upload") -> BodyLimits:
    """The table: what each route that receives files or many rows may take in one request.

    `upload_bytes` is what one upload may carry, all its files together; `upload_path` is where
    Reflex receives the screens' uploads (every screen's, so the largest they accept)."""
    return BodyLimits({
        upload_path: upload_bytes + FORM_FRAMING,
        f"{API}/invoices/intake": upload_bytes + FORM_FRAMING,
        f"{API}/activity/imports": ACTIVITY_FILE_LIMIT + FORM_FRAMING,
        f"{API}/activity": ACTIVITY_ROWS_LIMIT,
    })


def upload_limits(app: ASGIApp) -> ASGIApp:
    """The app behind the limits of our routes (an `rx.App(api_transformer=...)` step)."""
    upload_path = get_config().prepend_backend_path(str(constants.Endpoint.UPLOAD))
    return BodyLimitMiddleware(app, route_limits(settings().max_upload_mb * MB, upload_path))


def _size(n: int) -> str:
    if n >= MB:
        return f"{n / MB:,.0f} MB"
    return f"{n / 1024:,.0f} KB" if n >= 1024 else f"{n} bytes"


def _announced_length(scope: Scope) -> int | None:
    """The body's declared size; None when it declares none, or nothing one can trust."""
    values = {value for name, value in scope.get("headers", []) if name.lower() == b"content-length"}
    if len(values) != 1:
        return None
    raw = values.pop().strip()
    return int(raw) if raw.isdigit() else None


class BodyLimitMiddleware:
    """Answers 413 for a request body beyond its route's limit (see the module's docstring)."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        limit = self.limits.for_path(path)
        announced = _announced_length(scope)
        if announced is not None and announced > limit:
            # Refused before the app runs: not a byte of the body is read.
            await _refuse(send, f"This request is too large: {path} accepts at most {_size(limit)}.")
            return
        if announced is not None:
            allowed = announced
            why = "This request sends more than its Content-Length announced."
        else:
            allowed = min(limit, self.limits.default)
            why = (f"This request is too large: a body that does not announce its size (Content-Length) may "
                   f"carry at most {_size(allowed)}"
                   + (f"; {path} accepts up to {_size(limit)} when the size is announced." if limit > allowed else "."))
        received = 0
        overflowed = answered = False

        async def counted_receive() -> Message:
            nonlocal received, overflowed
            if overflowed:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > allowed:
                    # The app never sees the bytes beyond the limit: to it the client has gone,
                    # which makes the form parsers close (and delete) what they spooled so far.
                    overflowed = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal answered
            if overflowed and not answered:
                return  # the app's answer to a body it never got whole gives way to the 413 below
            if message["type"] == "http.response.start":
                answered = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            # What the app makes of the cut-off body (a parse error, a 500) is moot: it is refused.
            if not overflowed or answered:
                raise
        if overflowed and not answered:
            await _refuse(send, why)


async def _refuse(send: Send, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        # The rest of the body is never read, so the connection cannot carry another request.
        (b"connection", b"close"),
    ]})
    await send({"type": "http.response.body", "body": body})
