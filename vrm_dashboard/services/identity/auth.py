"""Signing in and out: sessions that expire, a lock after repeated failures, and throttles per
client and per account."""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import overload

from sqlalchemy import update
from sqlmodel import Session, col, select

from vrm_dashboard.config import settings
from vrm_dashboard.db.models import LoginSession, User, stored_id, utcnow
from vrm_dashboard.services.identity.passwords import DUMMY_HASH, verify_password
from vrm_dashboard.services.identity.users import find_by_email
from vrm_dashboard.services.platform import audit, throttles
from vrm_dashboard.services.platform.actors import Actor, act_as, load_actor
from vrm_dashboard.services.platform.errors import NotAuthenticated

# The one answer to every refused sign-in: a wrong password, an unknown e-mail, a locked or
# deactivated account and a throttled client all read the same, so the form tells nobody which
# accounts exist.
BAD_CREDENTIALS = "Wrong e-mail or password, or the account cannot sign in now"
# Sign-in attempts counted in sliding windows, on top of the account lock after
# VRM_LOCKOUT_ATTEMPTS: per client address (one client guessing across many accounts), and
# per e-mail whether or not it has an account (many clients guessing one). A sign-in that
# succeeds is not counted against its client.
SIGN_IN_PER_CLIENT = throttles.Limit("sign_in_client", 30, timedelta(minutes=15))
SIGN_IN_PER_ACCOUNT = throttles.Limit("sign_in_account", 10, timedelta(hours=1))
MAX_EMAIL_LENGTH = 254


def token_digest(token: str) -> str:
    # "replace": a crafted token that is not valid text matches no session instead of raising.
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


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


def sign_in(session: Session, email: str, password: str, now: datetime | None = None,
            client: str = "") -> SignIn:
    """Check the password and open a session.

    `client` is the caller's network address ("" when there is none, as on the command line).
    Every attempt first takes a slot in the windows per client and per e-mail (whether or not
    it has an account), committed before the password is checked, so parallel attempts cannot
    all slip through a window before any is counted. An attempt whose window is full is refused
    without a password check: its speed tells only that the window is full, which it is per key
    whether or not the account exists, and a flood of such attempts costs no hashing. Every
    other refusal costs one password-hash check (the account's, or a dummy one). All say
    BAD_CREDENTIALS, so the answer does not tell whether an account exists or why it may not
    sign in. A wrong password also counts towards the account's lock. A sign-in that succeeds
    gives its client slot back and starts the account's window afresh."""
    now = now or utcnow()
    email, password = (email or "").strip(), password or ""
    client = throttles.client_key(client) if client else ""
    client_slot = throttles.take(session, SIGN_IN_PER_CLIENT, client, now) if client else None
    admitted = (client_slot is not None or not client) and throttles.take(
        session, SIGN_IN_PER_ACCOUNT, email, now) is not None
    if not admitted and client_slot is not None:
        throttles.give_back(session, client_slot)  # the account's window refused it: no guess was made
    user = _account(session, email) if admitted else None
    password_hash = user.password_hash if user is not None else DUMMY_HASH
    # Commit the slots, and end the unit of work before the slow hash check: on SQLite it holds
    # the database's write lock, on PostgreSQL the throttle's key locks.
    session.commit()
    if not admitted:
        raise NotAuthenticated(BAD_CREDENTIALS)
    genuine = verify_password(password, password_hash)
    locked_until = _aware(user.locked_until) if user is not None else None
    locked = locked_until is not None and locked_until > now
    if user is None or not genuine or locked or not user.is_active:
        if user is not None and not genuine and not locked:
            _count_wrong_password(session, user, now)
            session.commit()
        raise NotAuthenticated(BAD_CREDENTIALS)
    clear_failures(session, user)
    if client_slot is not None:
        throttles.give_back(session, client_slot)
    user.last_login_at = now
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=settings().session_hours)
    session.add(LoginSession(token_hash=token_digest(token), user_id=stored_id(user), expires_at=expires))
    session.add(user)
    session.flush()
    actor = load_actor(session, stored_id(user))
    if actor is not None:
        act_as(session, actor)
    assert actor is not None
    audit.record(session, actor, "session.sign_in", "user", user.id)
    return SignIn(token=token, actor=actor, expires_at=expires)


def clear_failures(session: Session, user: User) -> None:
    """Lift the account's lock and start its sign-in window afresh. Anyone may fill both by
    guessing at the address; once its owner has shown who they are (the right password, or a
    new one chosen through a link sent to their mailbox), the guesses keep them out no longer."""
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    throttles.forget(session, SIGN_IN_PER_ACCOUNT, user.email)


def _account(session: Session, email: str) -> User | None:
    # What no account's address can be is not looked up (a NUL would fail on PostgreSQL).
    if not email or len(email) > MAX_EMAIL_LENGTH or "\x00" in email:
        return None
    return find_by_email(session, email)


def _count_wrong_password(session: Session, user: User, now: datetime) -> None:
    """One more failure for the account, locking it at VRM_LOCKOUT_ATTEMPTS. The increment is
    one UPDATE that holds the row until commit, so parallel failures each count and exactly
    one of them locks the account."""
    config = settings()
    failed = session.execute(
        update(User).where(col(User.id) == user.id)
        .values(failed_logins=col(User.failed_logins) + 1).returning(col(User.failed_logins))
    ).scalar_one()
    if failed < config.lockout_attempts:
        return
    locked_until = now + timedelta(minutes=config.lockout_minutes)
    session.execute(update(User).where(col(User.id) == user.id).values(failed_logins=0, locked_until=locked_until))
    failing = Actor(user_id=user.id, email=user.email, full_name=user.full_name)
    audit.record(session, failing, "user.locked", "user", user.id, after={"locked_until": locked_until})


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
    actor = load_actor(session, login.user_id)
    # The session that found who is signed in serves them: scoped to their organization from here.
    return act_as(session, actor) if actor is not None else None


def well_formed_token(token: str) -> bool:
    """Whether `token` has the shape sign_in gives every session token (secrets.token_urlsafe(32):
    43 URL-safe characters): what has not cannot open a session, and is not looked up."""
    return re.fullmatch(r"[A-Za-z0-9_-]{43}", token) is not None


def is_live_token(session: Session, token: str, now: datetime | None = None) -> bool:
    """Whether `token` opens a session actor_for_token would take (known, not revoked, not
    expired, its user active), found by reading alone."""
    if not well_formed_token(token):
        return False
    login = session.exec(select(LoginSession).where(LoginSession.token_hash == token_digest(token))).first()
    if login is None or login.revoked_at is not None or _aware(login.expires_at) <= (now or utcnow()):
        return False
    user = session.get(User, login.user_id)
    return user is not None and user.is_active


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
