"""What every route needs: a unit-of-work session and the authenticated actor."""
from __future__ import annotations

from typing import Iterator

from fastapi import Cookie, Depends, Header
from sqlmodel import Session

from vrm_dashboard.db.engine import session_scope
from vrm_dashboard.services.identity.api_keys import actor_for_api_key
from vrm_dashboard.services.identity.auth import actor_for_token
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import NotAuthenticated


def db_session() -> Iterator[Session]:
    with session_scope() as session:
        yield session


def current_actor(
    authorization: str | None = Header(default=None, description="Bearer <API key>"),
    x_api_key: str | None = Header(default=None),
    vrm_session: str | None = Cookie(default=None, include_in_schema=False),
    session: Session = Depends(db_session),
) -> Actor:
    presented = x_api_key
    if authorization and authorization.lower().startswith("bearer "):
        presented = authorization[7:].strip()
    # A signed-in browser (downloads, document views) is known by its session cookie.
    actor = actor_for_api_key(session, presented) if presented else actor_for_token(session, vrm_session)
    if actor is None:
        raise NotAuthenticated("A valid API key is required (Authorization: Bearer <key>)")
    return actor
