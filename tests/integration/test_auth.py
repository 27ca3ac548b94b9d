"""Signing in: hashed passwords, lockout after repeated failures, expiry and sign-out."""
from datetime import timedelta

import pytest

from tests.helpers import make_user
from vrm_dashboard.db.models import User, utcnow
from vrm_dashboard.services.identity import auth
from vrm_dashboard.services.platform.errors import NotAuthenticated


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
