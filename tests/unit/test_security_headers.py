"""web.security_headers over a small app: every response carries the security headers, the
built pages allow exactly their own inline scripts, the widget alone may be framed by anyone,
and a document keeps its sandbox."""
from __future__ import annotations

import base64
import gzip
import hashlib
import re
from concurrent.futures import ThreadPoolExecutor

import anyio
import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from vrm_dashboard.web.downloads import DOCUMENT_POLICY, file_headers
from vrm_dashboard.web.security_headers import SecurityHeadersMiddleware, security_headers

THEME = "document.documentElement.classList.add('dark')"
HYDRATE = "window.__reactRouterContext = {\"basename\":\"/\"};\r\nwindow.ready = 1"
PAGE = (f'<!DOCTYPE html><html><head><script src="/assets/entry.js" type="module"></script>'
        f"<script>{THEME}</script></head><body><script type=\"module\" async=\"\">{HYDRATE}</script>"
        "</body></html>").encode()


def _run(*args: object) -> object:
    """anyio.run on a thread of its own: another test of the session may have left this thread
    marked as running asyncio (sniffio), which anyio.run refuses."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, *args).result()


def _sha(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def _csp(response) -> dict[str, str]:
    return {part.split()[0]: part.strip() for part in response.headers["content-security-policy"].split(";") if part.strip()}


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = Starlette(routes=[
        Route("/api/v1/vendors", lambda _: JSONResponse({"items": []})),
        Route("/api/v1/widget/abc", lambda _: HTMLResponse("<h1>Balances</h1>", headers={
            "Content-Security-Policy": "frame-ancestors *"})),
        Route("/api/v1/invoices/1/original", lambda _: Response(
            b"<x/>", media_type="text/plain", headers=file_headers("a.xml", inline=True))),
        # Not a page of the build: its inline script must never be blessed.
        Route("/api/v1/echo", lambda _: HTMLResponse("<script>alert(document.cookie)</script>")),
        Route("/login", lambda _: HTMLResponse(PAGE)),
        Route("/invoices", lambda _: Response(gzip.compress(PAGE), media_type="text/html",
                                              headers={"Content-Encoding": "gzip"})),
        Route("/cached", lambda _: Response(status_code=304)),
    ])
    return TestClient(security_headers(app))


def test_every_response_says_nosniff_and_keeps_its_referrer_to_our_origin(client):
    for path in ("/api/v1/vendors", "/api/v1/widget/abc", "/api/v1/invoices/1/original", "/login", "/nowhere"):
        response = client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] == "same-origin", path
        assert "strict-transport-security" not in response.headers, path


def test_hsts_only_over_tls(client):
    tls = TestClient(client.app, base_url="https://vrm.example")
    assert tls.get("/api/v1/vendors").headers["strict-transport-security"].startswith("max-age=")


def test_the_app_policy_allows_only_our_own_scripts_and_is_never_framed(client):
    policy = _csp(client.get("/api/v1/vendors"))
    assert policy["script-src"] == "script-src 'self'"
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert policy["object-src"] == "object-src 'none'"
    assert "ws://testserver" in policy["connect-src"]  # Reflex's event websocket, same host
    assert "unsafe-eval" not in client.get("/login").headers["content-security-policy"]


def test_only_the_widget_may_be_framed_by_another_site_and_it_runs_no_script(client):
    policy = _csp(client.get("/api/v1/widget/abc"))
    assert policy["frame-ancestors"] == "frame-ancestors *"
    assert policy["default-src"] == "default-src 'none'" and "script-src" not in policy


def test_a_document_keeps_its_sandbox(client):
    response = client.get("/api/v1/invoices/1/original")
    assert response.headers["content-security-policy"] == DOCUMENT_POLICY


def test_a_built_page_allows_exactly_its_own_inline_scripts(client):
    for path in ("/login", "/invoices"):  # plain and gzip-compressed, as Reflex serves the build
        response = client.get(path)
        assert response.content == PAGE  # the page itself is untouched
        hashes = re.findall(r"'sha256-[^']+'", _csp(response)["script-src"])
        # The browser hashes a script's parsed text, in which CR LF is LF.
        assert hashes == [_sha(THEME), _sha(HYDRATE.replace("\r\n", "\n"))], path


def test_an_inline_script_outside_the_build_is_not_allowed(client):
    assert _csp(client.get("/api/v1/echo"))["script-src"] == "script-src 'self'"


def test_a_revalidated_page_keeps_the_policy_the_browser_stored_with_it(client):
    # A 304 has no body to hash; a policy without the hashes would replace the stored one.
    assert "content-security-policy" not in client.get("/cached").headers


def test_a_page_the_server_sends_from_its_file_is_hashed_too(tmp_path):
    """Granian sends a file itself (ASGI pathsend): the page is read from the file."""
    page = tmp_path / "login.html"
    page.write_bytes(PAGE)
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/login", "headers": [(b"host", b"vrm.example")],
             "scheme": "http", "query_string": b"", "extensions": {"http.response.pathsend": {}},
             "asgi": {"version": "3.0", "spec_version": "2.4"}}
    _run(SecurityHeadersMiddleware(FileResponse(page, media_type="text/html")), scope, receive, send)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.pathsend"]
    policy = dict(sent[0]["headers"])[b"content-security-policy"].decode()
    assert _sha(THEME) in policy and "ws://vrm.example" in policy


def test_the_websocket_passes_untouched():
    seen: list[str] = []

    async def app(scope, receive, send) -> None:
        seen.append(scope["type"])

    _run(SecurityHeadersMiddleware(app), {"type": "websocket", "path": "/_event"}, None, None)
    assert seen == ["websocket"]
