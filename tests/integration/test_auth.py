"""Signing in: hashed passwords, lockout after repeated failures and its lifting by a new
password, expiry and sign-out, and the sign-in form checking passwords off the event loop."""
import asyncio
import contextvars
import inspect
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlmodel import Session

import vrm_dashboard.vrm_dashboard  # noqa: F401  (registers every state)
from tests.helpers import make_user, ui_state
from vrm_dashboard.db.models import User, utcnow
from vrm_dashboard.services.identity import auth, user_admin
from vrm_dashboard.services.platform import throttles
from vrm_dashboard.services.platform.errors import NotAuthenticated
from vrm_dashboard.ui.states.login import LoginState


def test_password_is_stored_as_an_argon2_hash(session):
    make_user(session, "viewer")
    user = session.exec(User.__table__.select()).first()
    assert user.password_hash.startswith("$argon2") and "correct-horse" not in user.password_hash


def test_sign_in_opens_a_session_that_sign_out_closes(session):
    make_user(session, "approver")
    result = auth.sign_in(session, "APPROVER@test.example", "correct-horse-battery")
    session.commit()
    assert auth.actor_for_token(session, result.token).email == "approver@test.example"
    auth.sign_out(session, result.token)
    session.commit()
    assert auth.actor_for_token(session, result.token) is None


def test_wrong_password_and_unknown_user_get_the_same_answer(session):
    make_user(session, "viewer")
    for email, password in (("viewer@test.example", "wrong-password"), ("nobody@x.example", "x")):
        with pytest.raises(NotAuthenticated, match=auth.BAD_CREDENTIALS):
            auth.sign_in(session, email, password)


def test_repeated_failures_lock_the_account_even_for_the_right_password(session):
    make_user(session, "viewer")
    for _ in range(5):
        with pytest.raises(NotAuthenticated):
            auth.sign_in(session, "viewer@test.example", "wrong-password")
    with pytest.raises(NotAuthenticated, match=auth.BAD_CREDENTIALS):  # says no more than that
        auth.sign_in(session, "viewer@test.example", "correct-horse-battery")
    later = utcnow() + timedelta(minutes=16)
    assert auth.sign_in(session, "viewer@test.example", "correct-horse-battery", now=later).token


def test_sessions_expire(session):
    make_user(session, "viewer")
    result = auth.sign_in(session, "viewer@test.example", "correct-horse-battery")
    session.commit()
    assert auth.actor_for_token(session, result.token, now=result.expires_at - timedelta(minutes=1))
    assert auth.actor_for_token(session, result.token, now=result.expires_at) is None


def test_a_deactivated_user_cannot_sign_in(session):
    actor = make_user(session, "viewer")
    user = session.get(User, actor.user_id)
    user.is_active = False
    session.add(user)
    session.commit()
    with pytest.raises(NotAuthenticated, match=auth.BAD_CREDENTIALS):  # says no more than that
        auth.sign_in(session, "viewer@test.example", "correct-horse-battery")


def test_a_new_password_from_supports_reset_link_lets_a_guessed_at_account_in_at_once(session, monkeypatch):
    """Anyone can fill an account's sign-in window (and lock it) by guessing at its address: once
    its owner chooses a new password through the reset link support sends, they get in at once."""
    admin = make_user(session, "admin")
    ann = make_user(session, "viewer", "ann@test.example")
    monkeypatch.setattr(auth, "SIGN_IN_PER_ACCOUNT", throttles.Limit("sign_in_account", 3, timedelta(hours=1)))
    for n in range(5):
        with pytest.raises(NotAuthenticated):
            auth.sign_in(session, "ann@test.example", "guess", client=f"198.51.100.{n}")
    link = user_admin.reset_link(session, admin, ann.user_id)
    session.commit()
    user_admin.choose_password(session, link.split("token=", 1)[1], "a-new-password")
    session.commit()
    assert auth.sign_in(session, "ann@test.example", "a-new-password", client="203.0.113.5").token


def test_other_browsers_events_go_on_while_a_sign_in_checks_its_password(db, monkeypatch):
    """The password-hash check is slow by design; on the event loop it would stop every other
    user's events for its length."""
    with Session(db) as session:
        make_user(session, "viewer")
    other_event_ran = threading.Event()
    waited_for_it: list[bool] = []
    real = auth.verify_password

    def slow_check(password: str, password_hash: str) -> bool:
        waited_for_it.append(other_event_ran.wait(timeout=5))
        return real(password, password_hash)
    monkeypatch.setattr(auth, "verify_password", slow_check)
    state = ui_state(LoginState)

    async def two_browsers():  # type: ignore[no-untyped-def]
        async def another_browsers_event() -> None:
            other_event_ran.set()
        other = asyncio.create_task(another_browsers_event())
        outcome = LoginState.event_handlers["submit"].fn(
            state, {"email": "viewer@test.example", "password": "correct-horse-battery"})
        if inspect.isawaitable(outcome):
            outcome = await outcome
        await other
        return outcome

    # A loop of its own in a worker thread: another may run in this one (Playwright's).
    with ThreadPoolExecutor(max_workers=1) as pool:
        redirect = pool.submit(contextvars.copy_context().run, asyncio.run, two_browsers()).result()
    assert waited_for_it == [True]
    assert state.error == "" and state.token and redirect is not None
