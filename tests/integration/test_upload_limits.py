"""Uploads are refused before anything is stored: a body beyond its route's limit gets 413 at the
ASGI edge, in front of Reflex's /_upload and the API, and every upload handler checks the
permission before it reads a file."""
import asyncio
import contextvars
import functools
import os
import resource
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import starlette.datastructures
from fastapi import FastAPI
from fastapi.testclient import TestClient
from reflex._upload import upload as reflex_upload_route
from reflex_base.event import resolve_upload_handler_param
from reflex_base.utils.exceptions import UploadTypeError, UploadValueError
from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp

import vrm_dashboard.vrm_dashboard as main  # registers every state; its api_transformer is how the app is served
from tests.helpers import (
    SYSTEM,
    call_handler,
    make_user,
    signed_in_token,
    ui_state,
    vendor_input,
)
from vrm_dashboard.api import dependencies
from vrm_dashboard.api.app import build_api
from vrm_dashboard.api.dependencies import live_credential
from vrm_dashboard.db.models import ApiKey, utcnow
from vrm_dashboard.domain.vendor_rules import ActivityStatus
from vrm_dashboard.services.identity import auth
from vrm_dashboard.services.identity.api_keys import create_api_key
from vrm_dashboard.services.vendors import records as vendor_service
from vrm_dashboard.ui.states.directory import PortalState
from vrm_dashboard.ui.states.session import SessionState
from vrm_dashboard.web.upload_limits import BodyLimitMiddleware, BodyLimits, route_limits, upload_limits

MB = 1024 * 1024
GIB = 1024 * MB
# A server still reading this far into a 1 GiB body has no limit; the test stops it there
# rather than let it spool the whole gigabyte.
GIVE_UP_AT = 64 * MB
INVOICE_INTAKE = "/api/v1/invoices/intake"
BOUNDARY = "vrm-test-boundary"
# The token and handler Reflex's browser code sends with every upload.
REFLEX_UPLOAD_HEADERS = {
    "reflex-client-token": "test-client",
    "reflex-event-handler": "reflex___state____state.vrm_dashboard___ui___states___session____session_state."
                            "vrm_dashboard___ui___states___intake____intake_state.upload_invoices",
}


def _run(coroutine: Any) -> Any:
    """Run a coroutine to completion, also when another event loop runs in this thread
    (Playwright's, when the browser tests ran first), in this thread's context (Reflex finds its
    registered handlers there)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(contextvars.copy_context().run, asyncio.run, coroutine).result()


def _backend() -> ASGIApp:
    """The backend as rx.App assembles it (reflex/app.py, App.__call__): Reflex's own routes, here
    its real upload route, then each api_transformer step in turn: a Starlette app mounts what
    came before, a function wraps it. The steps are the ones vrm_dashboard.py gives (with a fresh
    API, so this test's mount never touches the app's own)."""
    asgi: ASGIApp = Starlette(routes=[Route("/_upload", reflex_upload_route(None), methods=["POST"])])
    for step in (build_api(), functools.partial(upload_limits, known_caller=live_credential)):
        if isinstance(step, Starlette):
            step.mount("", asgi)
            asgi = step
        else:
            asgi = step(asgi)
    return asgi


def _temp_bytes_held() -> int:
    """Bytes in the temp-dir files this process holds open. Starlette spools an upload into
    unnamed temp files, which no directory lists and other processes' work cannot disturb."""
    temp_dir, total = tempfile.gettempdir(), 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith(temp_dir):
                total += os.fstat(int(fd)).st_size
        except OSError:  # closed in the meantime
            continue
    return total


class HugeUpload:
    """A 1 GiB multipart upload made on the fly, 1 MB at a time: what the server pulled of it, and
    how much temp disk this process took meanwhile."""

    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"huge.pdf\"\r\n"
            "Content-Type: application/pdf\r\n\r\n%PDF-1.7\n").encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    size = len(head) + GIB + len(tail)

    def __init__(self) -> None:
        self.pulled = 0
        self.temp_growth = 0
        self._temp_before = _temp_bytes_held()

    async def body(self) -> AsyncIterator[bytes]:
        chunk = b"0" * MB  # the same bytes every time: the test itself holds one chunk
        for part in (self.head, *([chunk] * (GIB // MB)), self.tail):
            self.temp_growth = max(self.temp_growth, _temp_bytes_held() - self._temp_before)
            if self.pulled > GIVE_UP_AT:
                raise AssertionError(f"the server read {self.pulled // MB} MB of a refused upload")
            self.pulled += len(part)
            yield part


async def _post(app: ASGIApp, path: str, content: Any, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://vrm.test") as client:
        return await client.post(path, content=content, headers=headers)


@pytest.mark.parametrize("announced", ["its size", "no size", "a smaller size"])
@pytest.mark.parametrize("path", ["/_upload", INVOICE_INTAKE])
def test_a_gigabyte_upload_is_refused_before_it_is_stored(path, announced):
    app = _backend()
    upload = HugeUpload()
    headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}", **REFLEX_UPLOAD_HEADERS}
    if announced == "its size":
        headers["content-length"] = str(upload.size)
    elif announced == "a smaller size":  # a lying Content-Length
        headers["content-length"] = str(100 * 1024)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    try:
        response = _run(_post(app, path, upload.body(), headers))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before

    assert response.status_code == 413, response.text
    assert "too large" in response.json()["detail"] or "more than its Content-Length" in response.json()["detail"]
    if announced == "its size":
        assert upload.pulled == 0  # refused on its Content-Length, before a byte was read
    else:
        assert upload.pulled <= 2 * MB + len(HugeUpload.head)  # stopped as soon as it passed the limit
    assert upload.temp_growth <= 2 * MB, f"{upload.temp_growth / MB:.1f} MB spooled to disk"
    assert peak <= 8 * MB, f"{peak / MB:.1f} MB of memory at the peak"
    assert rss_growth <= 16 * MB, f"the process grew by {rss_growth / MB:.1f} MB"

    # A small upload still reaches the route, which answers for itself: Reflex wants a known
    # event handler, the API an API key.
    small = _run(_post(app, path, HugeUpload.head + HugeUpload.tail,
                       {"content-type": f"multipart/form-data; boundary={BOUNDARY}",
                        "reflex-client-token": "test-client", "reflex-event-handler": "no.such_handler"}))
    assert small.status_code == (400 if path == "/_upload" else 401), small.text


def _activity_rows(count: int) -> bytes:
    return b'{"source": "api", "rows": [' + b",".join([b'{"vendor": "ACME-1", "activity_type": "clicks", '
                                                      b'"date": "2026-10-01", "quantity": "1"}'] * count) + b"]}"


def test_other_routes_take_small_bodies_and_the_activity_rows_route_its_own(db):
    # The table names routes the API has (it writes the API's paths out).
    assert set(route_limits(400 * MB).by_path) - {"/_upload"} <= set(build_api().openapi()["paths"])
    app = _backend()
    rows = _activity_rows(30_000)
    assert len(rows) > 2 * MB
    with Session(db) as session:
        key = create_api_key(session, SYSTEM, "tests", user_id=make_user(session, "admin").user_id)
        session.commit()
    json_headers = {"content-type": "application/json", "x-api-key": key}
    vendors = _run(_post(app, "/api/v1/vendors", rows, json_headers))
    assert vendors.status_code == 413 and "at most 1 MB" in vendors.json()["detail"]
    activity = _run(_post(app, "/api/v1/activity", rows, json_headers))
    assert activity.status_code != 413, activity.text  # past the limits, to the route itself


def test_a_large_body_is_taken_only_from_a_caller_with_a_live_credential(db):
    app = _backend()
    rows = _activity_rows(30_000)
    with Session(db) as session:
        admin = make_user(session, "admin")
        key = create_api_key(session, SYSTEM, "tests", user_id=admin.user_id)
        session.commit()
    browser = signed_in_token(db, "finance_manager", email="browser@test.example")
    json_headers = {"content-type": "application/json"}
    for credential in ({}, {"x-api-key": "vrm_forged.key"}, {"authorization": "Bearer nonsense"},
                       {"cookie": "vrm_session=not-a-session"}):
        refused = _run(_post(app, "/api/v1/activity", rows, {**json_headers, **credential}))
        assert refused.status_code == 413 and "signed-in user or an API key" in refused.json()["detail"], credential
    # A small body from anyone still reaches the route, which asks for the key itself.
    assert _run(_post(app, "/api/v1/activity", _activity_rows(1), json_headers)).status_code == 401
    assert _run(_post(app, "/api/v1/activity", rows, {**json_headers, "authorization": f"Bearer {key}"})
                ).status_code != 413
    taken = _run(_post(app, INVOICE_INTAKE, HugeUpload.head + b"0" * (2 * MB) + HugeUpload.tail,
                       {"content-type": f"multipart/form-data; boundary={BOUNDARY}", "origin": "http://vrm.test",
                        "cookie": f"theme=dark; vrm_session={browser}"}))
    assert taken.status_code != 413, taken.text


class Sender:
    """One request sent straight to an ASGI app, its body chunk by chunk: it stalls before chunk
    `stall_at` until `resume` is set, and once the body is sent it waits, as an open connection
    does. What the app answered is kept."""

    def __init__(self, chunks: list[bytes], headers: dict[str, str], stall_at: int | None = None) -> None:
        self.chunks, self.stall_at = chunks, stall_at
        self.headers = [(b"content-length", str(sum(map(len, chunks))).encode()),
                        *((name.encode(), value.encode()) for name, value in headers.items())]
        self.resume = asyncio.Event()
        self.sent = 0
        self.status = 0
        self.retry_after: str | None = None
        self.body = b""

    async def receive(self) -> dict:
        if self.sent == self.stall_at:
            await self.resume.wait()
        if self.sent == len(self.chunks):
            await asyncio.Event().wait()
        self.sent += 1
        return {"type": "http.request", "body": self.chunks[self.sent - 1], "more_body": self.sent < len(self.chunks)}

    async def send(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.retry_after = dict(message["headers"]).get(b"retry-after")
        else:
            self.body += message.get("body", b"")

    async def to(self, app: ASGIApp, path: str = "/upload") -> int:
        scope = {"type": "http", "method": "POST", "path": path, "headers": self.headers}
        # A middleware that never lets go of a body fails the test instead of hanging it.
        await asyncio.wait_for(app(scope, self.receive, self.send), timeout=15)
        return self.status


async def _by_api_key(headers: Any) -> str | None:
    """A stand-in for the credential look-up: the X-API-Key header is the credential."""
    return headers.get("x-api-key")


class ReadingApp:
    """An upload route: reads the whole body, then works on it (until `done` is set, when the
    test holds it) and answers 204. A body cut off finds it gone, and it answers nothing."""

    def __init__(self, hold: bool = False, pause_between_reads: float = 0.0) -> None:
        self.done = asyncio.Event()
        if not hold:
            self.done.set()
        self.pause = pause_between_reads
        self.got_whole: list[int] = []
        self.has_body = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            size += len(message.get("body", b""))
            if not message.get("more_body"):
                break
            await asyncio.sleep(self.pause)
        self.got_whole.append(size)
        self.has_body.set()
        await self.done.wait()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def _soon(condition: Any) -> None:
    """Wait until `condition()` holds; fail the test when it does not within seconds."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("waited in vain")


def _play(scenario: Any) -> None:
    """Run a scenario of concurrent requests; one that hangs fails the test instead."""
    _run(asyncio.wait_for(scenario(), timeout=30))


def _large(key: str, stall_at: int | None = None) -> Sender:
    return Sender([b"x" * MB, b"x" * MB], {"x-api-key": key}, stall_at=stall_at)


def _edge(app: ASGIApp, known: Any = _by_api_key, **options: Any) -> BodyLimitMiddleware:
    return BodyLimitMiddleware(app, BodyLimits({"/upload": 8 * MB}), known, **options)


def test_only_a_few_large_bodies_are_received_at_once():
    async def scenario() -> None:
        app = ReadingApp()
        refused = _large("a")
        assert await refused.to(_edge(app, max_large_bodies=0)) == 503 and refused.retry_after
        assert not app.got_whole
        assert await _large("a").to(_edge(app)) == 204 and app.got_whole == [2 * MB]

    _play(scenario)


def test_a_large_body_holds_its_place_while_it_arrives_not_while_the_app_works_on_it():
    async def scenario() -> None:
        app = ReadingApp(hold=True)
        edge = _edge(app, max_large_bodies=1)
        first = asyncio.create_task(_large("a").to(edge))
        await app.has_body.wait()
        # The first upload is whole and the app still works on it: the one place is free again.
        second = asyncio.create_task(_large("b").to(edge))
        await _soon(lambda: len(app.got_whole) == 2 or second.done())
        app.done.set()
        assert await second == 204 and await first == 204

    _play(scenario)


def test_a_large_body_that_stops_arriving_is_cut_off_and_gives_its_place_back():
    async def scenario() -> None:
        app = ReadingApp()
        edge = _edge(app, max_large_bodies=1, grace_seconds=0.2, min_rate=MB)
        stalled = _large("a", stall_at=1)  # 1 MB arrives, then nothing
        started = asyncio.get_running_loop().time()
        assert await stalled.to(edge) == 408 and b"too slowly" in stalled.body
        # Waited no longer than the grace and the time 1 MB may take at the minimum rate.
        assert asyncio.get_running_loop().time() - started < 3
        assert not app.got_whole
        assert await _large("a").to(edge) == 204  # the place, and the credential, are free again

    _play(scenario)


def test_only_the_time_spent_waiting_for_the_client_counts_against_a_large_body():
    async def scenario() -> None:
        # The app takes longer between its reads than the whole grace: not the client's fault.
        app = ReadingApp(pause_between_reads=0.5)
        chunks = [b"x" * (256 * 1024)] * 8
        sender = Sender(chunks, {"x-api-key": "a"})
        assert await sender.to(_edge(app, grace_seconds=0.2, min_rate=MB)) == 204 and app.got_whole == [2 * MB]

    _play(scenario)


def test_each_credential_sends_one_large_body_at_a_time():
    async def scenario() -> None:
        app = ReadingApp()
        edge = _edge(app)
        slow = _large("a", stall_at=1)
        first = asyncio.create_task(slow.to(edge))
        await _soon(lambda: slow.sent == 1)
        again = _large("a")
        assert await again.to(edge) == 429 and again.retry_after and b"one at a time" in again.body
        assert await _large("b").to(edge) == 204  # another caller is not held up
        slow.resume.set()
        assert await first == 204
        assert await _large("a").to(edge) == 204  # once its body is in, the same caller may send the next

    _play(scenario)


def test_a_large_body_is_looked_up_only_when_a_place_is_free_and_a_failed_look_up_refuses_it_alone():
    looked_up: list[str] = []

    async def recorded(headers: Any) -> str | None:
        looked_up.append(headers.get("x-api-key"))
        return headers.get("x-api-key")

    async def failing(headers: Any) -> str | None:
        raise RuntimeError("database is locked")

    async def scenario() -> None:
        app = ReadingApp()
        # All places taken: refused before the database is asked.
        assert await _large("a").to(_edge(app, recorded, max_large_bodies=0)) == 503 and looked_up == []
        failed = _large("a")
        assert await failed.to(_edge(app, failing)) == 503 and failed.retry_after and not app.got_whole
        # Look-ups are bounded too: while one hangs, another large body is turned away unasked.
        stuck = asyncio.Event()

        async def hanging(headers: Any) -> str | None:
            looked_up.append("hanging")
            await stuck.wait()
            return "a"

        edge = _edge(app, hanging, max_lookups=1)
        first = asyncio.create_task(_large("a").to(edge))
        await _soon(lambda: looked_up)
        assert await _large("b").to(edge) == 503 and looked_up == ["hanging"]
        stuck.set()
        assert await first == 204

    _play(scenario)


async def _live(headers: list[tuple[str, str]]) -> str | None:
    return await live_credential(starlette.datastructures.Headers(
        raw=[(name.encode(), value.encode()) for name, value in headers]))


def test_the_credential_of_a_large_body_is_read_as_the_api_reads_it_and_only_read(db, monkeypatch):
    with Session(db) as session:
        admin = make_user(session, "admin")
        key = create_api_key(session, SYSTEM, "tests", user_id=admin.user_id)
        revoked = create_api_key(session, SYSTEM, "revoked", user_id=admin.user_id)
        session.exec(select(ApiKey).where(ApiKey.prefix == revoked.split("_")[1])).one().revoked_at = utcnow()
        session.commit()
    token = signed_in_token(db, "finance_manager", email="browser@test.example")
    ended = signed_in_token(db, "viewer", email="ended@test.example")
    with Session(db) as session:
        auth.sign_out(session, ended)
        session.commit()

    def live(*headers: tuple[str, str]) -> str | None:
        return _run(_live(list(headers)))

    assert live(("x-api-key", key)) and live(("authorization", f"Bearer {key}"))
    # A cookie Python's SimpleCookie cannot parse does not hide the session cookie after it.
    assert live(("cookie", f'pref={{"a":1}}; vrm_session={token}'))
    # As current_actor takes them: a repeated header by its first value, a Bearer key first.
    assert live(("x-api-key", key), ("x-api-key", "junk")) and not live(("x-api-key", "junk"), ("x-api-key", key))
    assert not live(("authorization", "Bearer vrm_junk"), ("x-api-key", key))
    assert not live(("x-api-key", revoked)) and not live(("cookie", f"vrm_session={ended}"))
    # Two credentials are told apart; the same one is known again.
    assert live(("x-api-key", key)) == live(("authorization", f"Bearer {key}")) != live(
        ("cookie", f"vrm_session={token}"))

    # What cannot be a credential is not looked up.
    looked_up: list[Any] = []
    monkeypatch.setattr(dependencies, "_is_live", lambda credential: looked_up.append(credential) or True)
    for junk in (("x-api-key", "vrm_forged.key"), ("authorization", "Bearer nonsense"),
                 ("cookie", "vrm_session=not-a-session"), ("x-api-key", key + "x")):
        assert not live(junk)
    assert looked_up == []
    monkeypatch.undo()

    # The look-up writes nothing (a key's last use is the API's to note), so a writer holding
    # SQLite's write lock does not hold it up.
    with db.begin():  # on SQLite, a unit of work takes the write lock as it begins (db/engine.py)
        started = time.monotonic()
        assert live(("x-api-key", key)) and live(("cookie", f"vrm_session={token}"))
        assert time.monotonic() - started < 5
    with Session(db) as session:
        assert session.exec(select(ApiKey).where(ApiKey.name == "tests")).one().last_used_at is None


def test_the_app_serves_the_api_and_reflex_behind_the_limits():
    steps = main.app.api_transformer
    assert isinstance(steps, Sequence)
    limits = next(i for i, step in enumerate(steps)
                  if isinstance(step, functools.partial) and step.func is upload_limits)
    assert steps[limits].keywords["known_caller"] is live_credential
    # After the API is mounted over Reflex's routes, so it wraps both.
    assert any(isinstance(step, FastAPI) for step in steps[:limits])


class RecordingUpload:
    """An uploaded file that notes every read."""

    def __init__(self, name: str) -> None:
        self.name = self.filename = name
        self.content_type = "application/pdf"
        self.reads = 0

    async def read(self, size: int = -1) -> bytes:
        self.reads += 1
        return b"%PDF-1.7\n"


def _upload_handlers() -> list[tuple[type[SessionState], str]]:
    """Every event handler that receives files (list[rx.UploadFile]), on every page state."""
    found, pending = set(), [SessionState]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        for name, handler in cls.event_handlers.items():
            try:
                resolve_upload_handler_param(handler)
            except (UploadTypeError, UploadValueError):
                continue
            found.add((cls, name))
    return sorted(found, key=lambda h: (h[0].__name__, h[1]))


UPLOAD_HANDLERS = _upload_handlers()
KNOWN_UPLOAD_HANDLERS = {
    "BrandingState.save", "IntakeState.upload_activity", "IntakeState.upload_invoices", "IntakeState.upload_vendors",
    "PortalState.upload_invoices", "ReconciliationState.upload_rates", "ReconciliationState.upload_statements",
    "VendorProfileState.upload_documents",
}

# Found by their signature, so a new upload handler is checked too; at least today's must be found.
assert {f"{cls.__name__}.{name}" for cls, name in UPLOAD_HANDLERS} >= KNOWN_UPLOAD_HANDLERS


def _shown(state: Any) -> str:
    return repr({name: getattr(state, name) for name in state.base_vars})


@pytest.mark.parametrize("who", ["viewer", "signed out"])
@pytest.mark.parametrize("handler", UPLOAD_HANDLERS, ids=lambda h: f"{h[0].__name__}.{h[1]}")
def test_an_upload_handler_refuses_before_it_reads_a_file(db, handler, who):
    cls, name = handler
    state = ui_state(cls, signed_in_token(db, "viewer") if who == "viewer" else "not-a-session")
    files = [RecordingUpload("invoice.pdf"), RecordingUpload("rows.csv")]
    call_handler(cls, state, name, files)
    assert [f.reads for f in files] == [0, 0]
    assert ("does not allow" if who == "viewer" else "session has ended") in _shown(state)


def _noted_api_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, the name of every uploaded file the API reads (Starlette's upload objects)."""
    reads: list[str] = []
    original = starlette.datastructures.UploadFile.read

    async def noted(upload: starlette.datastructures.UploadFile, size: int = -1) -> bytes:
        reads.append(upload.filename or "")
        return await original(upload, size)

    monkeypatch.setattr(starlette.datastructures.UploadFile, "read", noted)
    return reads


def _vendor_in_onboarding(db: Any) -> tuple[str, str]:
    """A vendor's login whose profile is not approved yet: its session token and API key."""
    with Session(db) as session:
        finance = make_user(session, "finance_manager")
        vendor = vendor_service.create_vendor(session, finance, vendor_input())
        vendor.activity_status = ActivityStatus.ONBOARDING.value
        me = make_user(session, "vendor", email="ap@acme.example", vendor_id=vendor.id)
        token = auth.sign_in(session, "ap@acme.example", "correct-horse-battery").token
        key = create_api_key(session, SYSTEM, "tests", user_id=me.user_id)
        session.commit()
    return token, key


def test_a_vendor_not_yet_approved_sends_no_invoice_file_that_is_read(db, monkeypatch):
    token, key = _vendor_in_onboarding(db)
    state = ui_state(PortalState, token)
    files = [RecordingUpload("invoice.pdf")]
    call_handler(PortalState, state, "upload_invoices", files)
    assert files[0].reads == 0 and "not approved" in state.upload_results[0]
    reads = _noted_api_reads(monkeypatch)
    refused = TestClient(build_api()).post(INVOICE_INTAKE, headers={"Authorization": f"Bearer {key}"},
                                           files=[("files", ("invoice.pdf", b"%PDF-1.7\n", "application/pdf"))])
    assert refused.status_code == 403 and "not approved" in refused.json()["detail"]
    assert reads == []


@pytest.mark.parametrize("route, field", [(INVOICE_INTAKE, "files"), ("/api/v1/activity/imports", "file")])
def test_an_api_upload_route_refuses_before_it_reads_the_file(db, monkeypatch, route, field):
    with Session(db) as session:
        keys = {role: create_api_key(session, SYSTEM, "tests", user_id=make_user(session, role).user_id)
                for role in ("viewer", "finance_manager")}
        session.commit()
    client = TestClient(build_api())
    upload = [(field, ("rows.csv", b"vendor,activity_type,date,quantity\n", "text/csv"))]
    reads = _noted_api_reads(monkeypatch)
    refused = client.post(route, files=upload, headers={"Authorization": f"Bearer {keys['viewer']}"})
    assert refused.status_code == 403 and "does not allow" in refused.json()["detail"]
    assert reads == []
    # The same upload by an importer is read: the recorder does see reads.
    client.post(route, files=upload, headers={"Authorization": f"Bearer {keys['finance_manager']}"})
    assert reads == ["rows.csv"]


class SizedUpload:
    """An uploaded file of `length` bytes (made up as they are read) that states `stated` as its
    size, or nothing; each read's requested size is noted."""

    def __init__(self, name: str, length: int, stated: int | None) -> None:
        self.name = self.filename = name
        self.content_type = "application/pdf"
        self.length, self.size = length, stated
        self.reads: list[int] = []

    async def read(self, size: int = -1) -> bytes:
        self.reads.append(size)
        return b"%" * (self.length if size < 0 else min(size, self.length))


class FileUpload(SizedUpload):
    """An uploaded file with real content, stating no size."""

    def __init__(self, name: str, content: bytes) -> None:
        super().__init__(name, len(content), None)
        self.content = content

    async def read(self, size: int = -1) -> bytes:
        self.reads.append(size)
        return self.content if size < 0 else self.content[:size]


def _small_file_handlers() -> list[tuple[str, str, str, int, str]]:
    """(handler, who may use it, file, its limit, what the user is told of a larger file)."""
    from vrm_dashboard.services.distribution.branding import MAX_LOGO_BYTES
    from vrm_dashboard.services.vendors.onboarding import MAX_DOCUMENT_BYTES
    from vrm_dashboard.ui.states.reconciliation import MAX_RATE_FILE_BYTES, MAX_STATEMENT_BYTES

    return [
        ("BrandingState.save", "admin", "logo.png", MAX_LOGO_BYTES, "The logo may be at most 1 MB"),
        ("ReconciliationState.upload_statements", "finance_manager", "camt.xml", MAX_STATEMENT_BYTES,
         "camt.xml: refused, the file is larger than 20 MB"),
        ("ReconciliationState.upload_rates", "finance_manager", "rates.csv", MAX_RATE_FILE_BYTES,
         "rates.csv: refused, the file is larger than 10 MB"),
        ("VendorProfileState.upload_documents", "vendor", "passport.pdf", MAX_DOCUMENT_BYTES,
         "Please correct: passport.pdf is larger than 10 MB"),
    ]


@pytest.mark.parametrize("stated", [True, False], ids=["its size stated", "no size stated"])
@pytest.mark.parametrize("handler, who, name, limit, told", _small_file_handlers(), ids=lambda v: str(v)[:40])
def test_an_oversized_logo_statement_rate_file_or_document_is_refused_unread(db, handler, who, name, limit,
                                                                           told, stated):
    from vrm_dashboard.db.models import ExchangeRate, StoredDocument
    from vrm_dashboard.ui.states.branding import BrandingState
    from vrm_dashboard.ui.states.reconciliation import ReconciliationState
    from vrm_dashboard.ui.states.vendor_profile import VendorProfileState

    cls_name, method = handler.split(".")
    cls = {"BrandingState": BrandingState, "ReconciliationState": ReconciliationState,
           "VendorProfileState": VendorProfileState}[cls_name]
    token = _vendor_in_onboarding(db)[0] if who == "vendor" else signed_in_token(db, who)
    state = ui_state(cls, token)
    upload = SizedUpload(name, length=3 * limit, stated=3 * limit if stated else None)
    call_handler(cls, state, method, [upload])
    # A size stated past the limit is refused before a byte is read; without one, no more is read
    # than shows the file is too large.
    assert upload.reads == ([] if stated else [limit + 1])
    assert told in _shown(state)
    with Session(db) as session:
        assert session.exec(select(StoredDocument)).all() == []
        assert session.exec(select(ExchangeRate)).all() == []


def test_a_rate_file_too_large_is_refused_alone_and_the_next_is_stored(db):
    from vrm_dashboard.db.models import ExchangeRate
    from vrm_dashboard.ui.states.reconciliation import MAX_RATE_FILE_BYTES, ReconciliationState

    state = ui_state(ReconciliationState, signed_in_token(db, "finance_manager"))
    good = b"date,currency,rate\n2026-11-30,USD,1.25\n"
    files = [SizedUpload("huge.csv", 2 * MAX_RATE_FILE_BYTES, None), FileUpload("good.csv", good)]
    call_handler(ReconciliationState, state, "upload_rates", files)
    assert state.messages == ["huge.csv: refused, the file is larger than 10 MB", "good.csv: 1 exchange rates stored"]
    with Session(db) as session:
        assert [r.currency for r in session.exec(select(ExchangeRate)).all()] == ["USD"]
