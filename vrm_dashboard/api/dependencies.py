"""What every route needs: a unit-of-work session and the authenticated actor."""
from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from fastapi import Cookie, Depends, Header, Request
from sqlmodel import Session
from starlette.requests import cookie_parser

from vrm_dashboard.config import settings
from vrm_dashboard.db.engine import session_scope
from vrm_dashboard.services.identity import api_keys, auth
from vrm_dashboard.services.identity.api_keys import actor_for_api_key
from vrm_dashboard.services.identity.auth import actor_for_token
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import NotAuthenticated, PermissionDenied
from vrm_dashboard.web.same_origin import from_own_origin, own_origins

SESSION_COOKIE = "vrm_session"


def db_session() -> Iterator[Session]:
    with session_scope() as session:
        yield session


@dataclass(frozen=True)
class Credential:
    """What a request presents to say who sends it: an API key, or else a session token."""

    value: str
    is_api_key: bool

    @property
    def digest(self) -> str:
        """The credential's name where it must be told apart from others but not be kept."""
        kind = "key" if self.is_api_key else "session"
        return hashlib.sha256(f"{kind}:{self.value}".encode("utf-8", "replace")).hexdigest()


def presented_credential(authorization: str | None, x_api_key: str | None,
                         session_cookie: str | None) -> Credential | None:
    """The credential a request presents, from its headers' first values (as Starlette reads
    them): a Bearer key before an X-API-Key, either before the session cookie."""
    presented = x_api_key
    if authorization and authorization.lower().startswith("bearer "):
        presented = authorization[7:].strip()
    if presented:
        return Credential(presented, is_api_key=True)
    return Credential(session_cookie, is_api_key=False) if session_cookie else None


def current_actor(
    request: Request,
    authorization: str | None = Header(default=None, description="Bearer <API key>"),
    x_api_key: str | None = Header(default=None),
    vrm_session: str | None = Cookie(default=None, include_in_schema=False),
    session: Session = Depends(db_session),
) -> Actor:
    credential = presented_credential(authorization, x_api_key, vrm_session)
    if credential is not None and credential.is_api_key:
        actor = actor_for_api_key(session, credential.value)
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


async def live_credential(headers: Mapping[str, str]) -> str | None:
    """The digest of the live API key or session token a request's headers carry (as
    `current_actor` would take them), or None: the HTTP edge takes large bodies only from such
    callers, one at a time for each credential. `headers` answers by lower-case name with a
    header's first value (Starlette's `Headers`).

    Anything a credential cannot look like is refused without a look-up; the look-up itself
    reads alone (no write lock on SQLite, no last-used time), off the event loop. A database
    error propagates: the edge answers it."""
    cookie = headers.get("cookie")
    credential = presented_credential(headers.get("authorization"), headers.get("x-api-key"),
                                      cookie_parser(cookie).get(SESSION_COOKIE) if cookie else None)
    if credential is None:
        return None
    if credential.is_api_key:
        if not api_keys.well_formed(credential.value):
            return None
    elif not auth.well_formed_token(credential.value):
        return None
    live = await asyncio.to_thread(_is_live, credential)
    return credential.digest if live else None


def _is_live(credential: Credential) -> bool:
    with session_scope(read_only=True) as session:
        if credential.is_api_key:
            return api_keys.is_live(session, credential.value)
        return auth.is_live_token(session, credential.value)
