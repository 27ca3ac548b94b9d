"""Signing in and out: sessions that expire, and a lock after repeated failures."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import overload

from sqlmodel import Session, select

from vrm_dashboard.config import settings
from vrm_dashboard.db.models import LoginSession, User, stored_id, utcnow
from vrm_dashboard.services.identity.passwords import DUMMY_HASH, verify_password
from vrm_dashboard.services.identity.users import find_by_email
from vrm_dashboard.services.platform import audit
from vrm_dashboard.services.platform.actors import Actor, load_actor
from vrm_dashboard.services.platform.errors import NotAuthenticated

BAD_CREDENTIALS = "E-mail or password is wrong"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@overload
def _aware(moment: datetime) -> datetime: ...


@overload
def _aware(moment: datetime | None) -> datetime | None: ...


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


@dataclass(frozen=True)
class SignIn:
    token: str
    actor: Actor
    expires_at: datetime


def sign_in(session: Session, email: str, password: str, now: datetime | None = None) -> SignIn:
    """Check the password and open a session; count failures and lock the account after too many."""
    now = now or utcnow()
    config = settings()
    user = find_by_email(session, email or "")
    if user is None:
        verify_password(password or "", DUMMY_HASH)
        raise NotAuthenticated(BAD_CREDENTIALS)
    locked_until = _aware(user.locked_until)
    if locked_until and locked_until > now:
        minutes = max(1, int((locked_until - now).total_seconds() // 60) + 1)
        raise NotAuthenticated(
            f"Too many failed sign-ins: this account is locked for {minutes} more minute(s)"
        )
    if not verify_password(password or "", user.password_hash):
        user.failed_logins += 1
        failing = Actor(user_id=user.id, email=user.email, full_name=user.full_name)
        if user.failed_logins >= config.lockout_attempts:
            user.locked_until = now + timedelta(minutes=config.lockout_minutes)
            user.failed_logins = 0
            audit.record(session, failing, "user.locked", "user", user.id,
                         after={"locked_until": user.locked_until})
        session.add(user)
        # The failure count must persist even though sign-in is refused.
        session.commit()
        raise NotAuthenticated(BAD_CREDENTIALS)
    if not user.is_active:
        raise NotAuthenticated("This account is deactivated")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=config.session_hours)
    session.add(LoginSession(token_hash=token_digest(token), user_id=stored_id(user), expires_at=expires))
    session.add(user)
    session.flush()
    actor = load_actor(session, stored_id(user))
    assert actor is not None
    audit.record(session, actor, "session.sign_in", "user", user.id)
    return SignIn(token=token, actor=actor, expires_at=expires)


def actor_for_token(session: Session, token: str | None, now: datetime | None = None) -> Actor | None:
    """The signed-in actor for a session token, or None when it is unknown, expired or revoked."""
    if not token:
        return None
    now = now or utcnow()
    login = session.exec(
        select(LoginSession).where(LoginSession.token_hash == token_digest(token))
    ).first()
    if login is None or login.revoked_at is not None or _aware(login.expires_at) <= now:
        return None
    return load_actor(session, login.user_id)


def sign_out(session: Session, token: str | None) -> None:
    if not token:
        return
    login = session.exec(
        select(LoginSession).where(LoginSession.token_hash == token_digest(token))
    ).first()
    if login is None or login.revoked_at is not None:
        return
    login.revoked_at = utcnow()
    session.add(login)
    user = session.get(User, login.user_id)
    if user is not None:
        actor = Actor(user_id=user.id, email=user.email, full_name=user.full_name)
        audit.record(session, actor, "session.sign_out", "user", user.id)
