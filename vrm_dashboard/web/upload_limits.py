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

A body larger than an ordinary request (the small default) is taken only from a known caller,
one that presents a live session cookie or API key: every route that takes files needs a
signed-in user or a key anyway, and without this check anyone could make the server spool the
large limit per request. And only a few large bodies are taken at once in each process; more
wait outside with 503 and `Retry-After`, so many slow uploads cannot fill the disk together.

Only HTTP bodies are counted; the websocket that carries Reflex's events passes untouched.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
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
# Large bodies received at once per process; a few uploads at a time is plenty for a finance team.
MAX_LARGE_BODIES = 4
RETRY_AFTER_SECONDS = 10
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


# Whether a request's headers carry a live credential (session cookie or API key). Called off
# the event loop: it may look the credential up in the database.
KnownCaller = Callable[[Mapping[str, str]], bool]


def upload_limits(app: ASGIApp, known_caller: KnownCaller | None = None) -> ASGIApp:
    """The app behind the limits of our routes (an `rx.App(api_transformer=...)` step, with
    `known_caller` bound by the app). Without `known_caller` no large body is taken at all."""
    upload_path = get_config().prepend_backend_path(str(constants.Endpoint.UPLOAD))
    return BodyLimitMiddleware(app, route_limits(settings().max_upload_mb * MB, upload_path),
                               known_caller or (lambda headers: False))


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

    def __init__(self, app: ASGIApp, limits: BodyLimits, known_caller: KnownCaller,
                 max_large_bodies: int = MAX_LARGE_BODIES) -> None:
        self.app = app
        self.limits = limits
        self.known_caller = known_caller
        self.large_bodies = asyncio.Semaphore(max_large_bodies)

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
        if announced is None or announced <= self.limits.default:
            await self._receive_within(scope, receive, send, limit, announced)
            return
        headers = _headers(scope)
        if not await asyncio.to_thread(self.known_caller, headers):
            await _refuse(send, f"This request is too large: a body over {_size(self.limits.default)} is taken only "
                                "from a signed-in user or an API key.")
            return
        if self.large_bodies.locked():
            await _refuse(send, "Too many uploads are in progress: please try again in a few seconds.",
                          status=503, retry_after=RETRY_AFTER_SECONDS)
            return
        async with self.large_bodies:
            await self._receive_within(scope, receive, send, limit, announced)

    async def _receive_within(self, scope: Scope, receive: Receive, send: Send, limit: int,
                              announced: int | None) -> None:
        path = scope["path"]
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


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers by lower-case name (a repeated header: its last value)."""
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", [])}


async def _refuse(send: Send, detail: str, status: int = 413, retry_after: int | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        # The rest of the body is never read, so the connection cannot carry another request.
        (b"connection", b"close"),
    ]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
