"""What every route needs: a unit-of-work session and the authenticated actor."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from http.cookies import CookieError, SimpleCookie

from fastapi import Cookie, Depends, Header, Request
from sqlmodel import Session

from vrm_dashboard.config import settings
from vrm_dashboard.db.engine import session_scope
from vrm_dashboard.services.identity.api_keys import actor_for_api_key
from vrm_dashboard.services.identity.auth import actor_for_token
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import NotAuthenticated, PermissionDenied
from vrm_dashboard.web.same_origin import from_own_origin, own_origins


def db_session() -> Iterator[Session]:
    with session_scope() as session:
        yield session


def current_actor(
    request: Request,
    authorization: str | None = Header(default=None, description="Bearer <API key>"),
    x_api_key: str | None = Header(default=None),
    vrm_session: str | None = Cookie(default=None, include_in_schema=False),
    session: Session = Depends(db_session),
) -> Actor:
    presented = x_api_key
    if authorization and authorization.lower().startswith("bearer "):
        presented = authorization[7:].strip()
    if presented:
        actor = actor_for_api_key(session, presented)
    else:
        # A signed-in browser (downloads, document views) is known by its session cookie, which
        # page script can read (Reflex sets it): a change it asks for must come from our pages.
        if vrm_session and not from_own_origin(request.method, request.headers,
                                               own_origins(settings().public_url, str(request.base_url))):
            raise PermissionDenied("Refused: a signed-in browser may change something only from this app's own pages")
        actor = actor_for_token(session, vrm_session)
    if actor is None:
        raise NotAuthenticated("A valid API key is required (Authorization: Bearer <key>)")
    return actor


def presents_live_credential(headers: Mapping[str, str]) -> bool:
    """Whether a request's headers (lower-case names) carry a live API key or session cookie,
    as `current_actor` would take them: the HTTP edge takes large bodies only from such callers."""
    authorization = headers.get("authorization", "")
    presented = headers.get("x-api-key") or (
        authorization[7:].strip() if authorization.lower().startswith("bearer ") else "")
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except CookieError:
        cookie = SimpleCookie()
    browser_token = cookie["vrm_session"].value if "vrm_session" in cookie else ""
    if not presented and not browser_token:
        return False
    with session_scope() as session:
        if presented:
            return actor_for_api_key(session, presented) is not None
        return actor_for_token(session, browser_token) is not None
