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
large limit per request. Only a few large bodies are received at once in each process, so many
uploads cannot fill the disk together, and no one can keep those few places from others:

- when they are all taken, a large body is turned away with 503 and `Retry-After` before its
  credential is even looked up (and so it is when too many look-ups run already, or one fails);
- each credential receives one large body at a time (429 for a second one);
- a place is held only while the body arrives, not while the app works on it, and the body
  must keep arriving: after a short grace, at an average rate of at least MIN_LARGE_BODY_RATE
  over the time spent waiting for it, or it is cut off with 408.

Only HTTP bodies are counted; the websocket that carries Reflex's events passes untouched.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from reflex import constants
from reflex.config import get_config
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vrm_dashboard.config import settings

log = logging.getLogger(__name__)

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
# Credential look-ups for large bodies at once per process (each a database read in a thread);
# past them a large body is turned away, so a flood of made-up credentials cannot take every
# worker thread and database connection.
MAX_CREDENTIAL_LOOKUPS = 4
RETRY_AFTER_SECONDS = 10
# A large body must keep arriving while it holds a place: after the grace (a connection getting
# going, a phone on a weak signal), at least this many bytes a second on average over the time
# spent waiting for it. 400 MB then takes at most about 1 h 50 min; a trickle is cut off early.
LARGE_BODY_GRACE_SECONDS = 10.0
MIN_LARGE_BODY_RATE = 64 * 1024
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


# The live credential (session cookie or API key) a request's headers carry, by a digest that
# tells credentials apart, or None. Headers by lower-case name, a repeated one by its first value.
KnownCaller = Callable[[Mapping[str, str]], Awaitable[str | None]]


def upload_limits(app: ASGIApp, known_caller: KnownCaller | None = None) -> ASGIApp:
    """The app behind the limits of our routes (an `rx.App(api_transformer=...)` step, with
    `known_caller` bound by the app). Without `known_caller` no large body is taken at all."""
    upload_path = get_config().prepend_backend_path(str(constants.Endpoint.UPLOAD))
    return BodyLimitMiddleware(app, route_limits(settings().max_upload_mb * MB, upload_path),
                               known_caller or _nobody)


async def _nobody(headers: Mapping[str, str]) -> str | None:
    return None


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
                 max_large_bodies: int = MAX_LARGE_BODIES, max_lookups: int = MAX_CREDENTIAL_LOOKUPS,
                 grace_seconds: float = LARGE_BODY_GRACE_SECONDS, min_rate: int = MIN_LARGE_BODY_RATE) -> None:
        self.app = app
        self.limits = limits
        self.known_caller = known_caller
        self.large_bodies = asyncio.Semaphore(max_large_bodies)
        self.lookups = asyncio.Semaphore(max_lookups)
        self.grace_seconds = grace_seconds
        self.min_rate = min_rate
        # The credentials (by digest) whose large body is arriving now.
        self.in_flight: set[str] = set()

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
        busy = "Too many uploads are in progress: please try again in a few seconds."
        if self.large_bodies.locked() or self.lookups.locked():
            await _refuse(send, busy, status=503, retry_after=RETRY_AFTER_SECONDS)
            return
        try:
            async with self.lookups:
                caller = await self.known_caller(Headers(scope=scope))
        except Exception:  # noqa: BLE001 - a failed look-up refuses this upload, not the next ones
            log.exception("The credential of a large upload could not be looked up")
            await _refuse(send, "The sender of this upload could not be checked: please try again in a few seconds.",
                          status=503, retry_after=RETRY_AFTER_SECONDS)
            return
        if caller is None:
            await _refuse(send, f"This request is too large: a body over {_size(self.limits.default)} is taken only "
                                "from a signed-in user or an API key.")
            return
        if caller in self.in_flight:
            await _refuse(send, "Another large upload with this sign-in or API key is still arriving: send one at "
                                "a time.", status=429, retry_after=RETRY_AFTER_SECONDS)
            return
        if self.large_bodies.locked():  # the last place went while the credential was looked up
            await _refuse(send, busy, status=503, retry_after=RETRY_AFTER_SECONDS)
            return
        await self.large_bodies.acquire()  # a free place: taken at once, nothing ran in between
        self.in_flight.add(caller)
        held = True

        def give_back() -> None:
            nonlocal held
            if held:
                held = False
                self.in_flight.discard(caller)
                self.large_bodies.release()

        try:
            await self._receive_within(scope, receive, send, limit, announced, arrived=give_back)
        finally:
            give_back()

    async def _receive_within(self, scope: Scope, receive: Receive, send: Send, limit: int,
                              announced: int | None, arrived: Callable[[], None] | None = None) -> None:
        """Run the app on the body, cut off past its limit. With `arrived` (a large body holding
        a place), the body must also keep arriving, and `arrived` is called once it stops
        arriving: whole, cut off, or its client gone."""
        path = scope["path"]
        if announced is not None:
            allowed = announced
            too_large = "This request sends more than its Content-Length announced."
        else:
            allowed = min(limit, self.limits.default)
            too_large = (f"This request is too large: a body that does not announce its size (Content-Length) may "
                         f"carry at most {_size(allowed)}"
                         + (f"; {path} accepts up to {_size(limit)} when the size is announced." if limit > allowed
                            else "."))
        too_slow = (f"This upload arrived too slowly (under {_size(self.min_rate)} a second): please try again "
                    "on a faster connection.")
        received = 0
        waited = 0.0
        arriving = arrived is not None
        let_go = arrived or (lambda: None)
        cut: tuple[int, str] | None = None  # the answer to a body the app never gets whole
        answered = False

        def stop(status: int, why: str) -> Message:
            nonlocal cut, arriving
            cut = (status, why)
            if arriving:
                arriving = False
                let_go()
            # The app never sees the bytes beyond the cut: to it the client has gone, which
            # makes the form parsers close (and delete) what they spooled so far.
            return {"type": "http.disconnect"}

        async def counted_receive() -> Message:
            nonlocal received, waited, arriving
            if cut is not None:
                return {"type": "http.disconnect"}
            if arriving:
                # The time the app spends between reads is not the client's: only waiting counts.
                loop = asyncio.get_running_loop()
                started = loop.time()
                message = await _within(receive(), self.grace_seconds + received / self.min_rate - waited)
                waited += loop.time() - started
                if message is None:
                    return stop(408, too_slow)
            else:
                message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > allowed:
                    return stop(413, too_large)
            if arriving and (message["type"] != "http.request" or not message.get("more_body", False)):
                arriving = False
                let_go()  # whole, or its client gone: the place is free while the app works on it
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal answered
            if cut is not None and not answered:
                return  # the app's answer to a body it never got whole gives way to the refusal below
            if message["type"] == "http.response.start":
                answered = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            # What the app makes of the cut-off body (a parse error, a 500) is moot: it is refused.
            if cut is None or answered:
                raise
        if cut is not None and not answered:
            await _refuse(send, cut[1], status=cut[0])


async def _within(awaitable: Awaitable[Message], seconds: float) -> Message | None:
    """What `awaitable` gives within `seconds`, or None (and it is cancelled) when it gives
    nothing by then. It runs as a task of its own, so the app's task is never cancelled."""
    task = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({task}, timeout=max(seconds, 0.0))
    except BaseException:
        task.cancel()
        raise
    if task in done:
        return task.result()
    task.cancel()
    return None


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
