"""Sign-in under attack: one answer for every refusal, one password-hash check each time (none
once throttled), attempts throttled per client and per account (known or not) also when they
come in parallel, the lock counted exactly under parallel guesses, and the throttle's records
forgotten by the housekeeping job."""
import threading
import time
from datetime import timedelta

import pytest
from sqlmodel import Session, select

import vrm_dashboard.vrm_dashboard  # noqa: F401  (registers every state)
from tests.helpers import call_handler, count_rows, make_user, ui_state
from vrm_dashboard import config
from vrm_dashboard.db.models import AuditEntry, ThrottleEvent, User, utcnow
from vrm_dashboard.services.identity import auth
from vrm_dashboard.services.platform import housekeeping, throttles
from vrm_dashboard.services.platform.errors import NotAuthenticated
from vrm_dashboard.ui.states.login import LoginState

RIGHT = "correct-horse-battery"


@pytest.fixture
def lockout(monkeypatch):
    """Set VRM_LOCKOUT_ATTEMPTS for one test."""
    def set_attempts(attempts: int) -> None:
        monkeypatch.setenv("VRM_LOCKOUT_ATTEMPTS", str(attempts))
        config.settings.cache_clear()
    yield set_attempts
    monkeypatch.undo()
    config.settings.cache_clear()


@pytest.fixture
def hash_checks(monkeypatch):
    """Counts the password-hash checks sign-in makes."""
    checks = []
    real = auth.verify_password

    def counting(password: str, password_hash: str) -> bool:
        checks.append(password_hash)
        return real(password, password_hash)
    monkeypatch.setattr(auth, "verify_password", counting)
    return checks


def _refusal(session, email, password, **kwargs) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(NotAuthenticated) as refused:
        auth.sign_in(session, email, password, **kwargs)
    return str(refused.value)


def test_every_refusal_reads_the_same_and_costs_one_hash_check_unless_throttled(session, hash_checks,
                                                                                monkeypatch):
    make_user(session, "viewer", "wrong@test.example")
    locked = make_user(session, "viewer", "locked@test.example")
    gone = make_user(session, "viewer", "gone@test.example")
    for user_id, change in ((locked.user_id, {"locked_until": utcnow() + timedelta(minutes=10)}),
                            (gone.user_id, {"is_active": False})):
        user = session.get(User, user_id)
        for key, value in change.items():
            setattr(user, key, value)
        session.add(user)
    session.commit()
    monkeypatch.setattr(auth, "SIGN_IN_PER_CLIENT", throttles.Limit("sign_in_client", 1, timedelta(minutes=15)))
    _refusal(session, "nobody@test.example", "x", client="198.51.100.9")  # fills the client's window

    answers = {
        "wrong password": _refusal(session, "wrong@test.example", "not-it"),
        "unknown account": _refusal(session, "nobody@test.example", RIGHT),
        "locked, right password": _refusal(session, "locked@test.example", RIGHT),
        "deactivated, right password": _refusal(session, "gone@test.example", RIGHT),
        "throttled client, right password": _refusal(session, "wrong@test.example", RIGHT, client="198.51.100.9"),
        "e-mail no account can have": _refusal(session, "x" * 300 + "@test.example", RIGHT),
    }
    assert set(answers.values()) == {auth.BAD_CREDENTIALS}, answers
    assert not any(word in auth.BAD_CREDENTIALS for word in ("locked", "deactivated", "unknown"))
    # One hash check per attempt, whatever the reason: a refusal takes as long as a sign-in.
    # A throttled one is refused before any: its speed tells only that its window is full, which
    # is the same whether or not the account exists, and a flood of them burns no CPU.
    assert len(hash_checks) == 1 + len(answers) - 1
    assert auth.sign_in(session, "wrong@test.example", RIGHT).token
    assert len(hash_checks) == 1 + len(answers)


def test_one_client_guessing_across_accounts_is_throttled_and_others_are_not(session, monkeypatch):
    make_user(session, "viewer", "ann@test.example")
    monkeypatch.setattr(auth, "SIGN_IN_PER_CLIENT", throttles.Limit("sign_in_client", 3, timedelta(minutes=15)))
    attacker, colleague = "203.0.113.50", "203.0.113.51"
    for email in ("a@test.example", "b@test.example", "c@test.example"):
        _refusal(session, email, "guess", client=attacker)
    # The window is full: even the right password answers like a wrong one, from that client only.
    assert _refusal(session, "ann@test.example", RIGHT, client=attacker) == auth.BAD_CREDENTIALS
    assert auth.sign_in(session, "ann@test.example", RIGHT, client=colleague).token
    session.commit()
    later = utcnow() + timedelta(minutes=16)
    assert auth.sign_in(session, "ann@test.example", RIGHT, client=attacker, now=later).token


def test_a_neighbouring_ipv6_address_is_the_same_client(session, monkeypatch):
    make_user(session, "viewer", "ann@test.example")
    monkeypatch.setattr(auth, "SIGN_IN_PER_CLIENT", throttles.Limit("sign_in_client", 2, timedelta(minutes=15)))
    _refusal(session, "a@test.example", "guess", client="2001:db8:1:2::1")
    _refusal(session, "b@test.example", "guess", client="2001:db8:1:2::ffff")
    assert _refusal(session, "ann@test.example", RIGHT, client="2001:db8:1:2:abcd::9") == auth.BAD_CREDENTIALS
    assert auth.sign_in(session, "ann@test.example", RIGHT, client="2001:db8:1:3::1").token


def test_signing_in_does_not_use_up_the_clients_window(session, monkeypatch):
    """An office behind one address, where everyone signs in each morning: only failures count."""
    for name in ("ann", "bob", "cem"):
        make_user(session, "viewer", f"{name}@test.example")
    monkeypatch.setattr(auth, "SIGN_IN_PER_CLIENT", throttles.Limit("sign_in_client", 2, timedelta(minutes=15)))
    office = "203.0.113.60"
    for name in ("ann", "bob", "cem"):
        assert auth.sign_in(session, f"{name}@test.example", RIGHT, client=office).token
        session.commit()
    _refusal(session, "ann@test.example", "guess", client=office)
    _refusal(session, "bob@test.example", "guess", client=office)
    assert _refusal(session, "cem@test.example", RIGHT, client=office) == auth.BAD_CREDENTIALS


def test_parallel_guesses_get_no_more_than_the_window_between_them(db, lockout, monkeypatch):
    """Eight guesses at one account at once, from eight clients, as several web workers would
    take them: the account's window of three lets three reach the password check, not all
    eight (checking the window first and counting the guess after its slow check lets every
    guess that arrives during the check through)."""
    lockout(100)  # the account lock stays out of the way: this is the per-account window
    with Session(db) as session:
        make_user(session, "viewer", "ann@test.example")
    monkeypatch.setattr(auth, "SIGN_IN_PER_ACCOUNT", throttles.Limit("sign_in_account", 3, timedelta(hours=1)))
    checked, refused_unchecked, errors, release = [], [], [], threading.Event()
    real = auth.verify_password

    def held_check(password: str, password_hash: str) -> bool:
        # Each guess let through waits in its check until every other guess has had its turn.
        checked.append(password)
        release.wait(timeout=60)
        return real(password, password_hash)
    monkeypatch.setattr(auth, "verify_password", held_check)

    def guess(n: int) -> None:
        with Session(db) as session:
            try:
                auth.sign_in(session, "ann@test.example", f"guess-{n}", client=f"192.0.2.{n}")
            except NotAuthenticated:
                pass
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
        if f"guess-{n}" not in checked:
            refused_unchecked.append(n)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 60
        while len(checked) + len(refused_unchecked) < 8 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        release.set()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(checked) == 3 and len(refused_unchecked) == 5
    with Session(db) as session:
        # Three guesses counted for the account and for their clients; the refused ones counted nothing.
        scopes = session.exec(select(ThrottleEvent.scope)).all()
        assert sorted(scopes) == ["sign_in_account"] * 3 + ["sign_in_client"] * 3


def test_a_second_workers_attempt_waits_for_the_first_and_then_counts_it(db):
    """Two workers take the last slot of one key at the same moment: the second waits until the
    first's attempt is committed, then finds the window full. (On PostgreSQL an insert does not
    wait for another, and a count does not see another's uncommitted rows.)"""
    limit = throttles.Limit("test_scope", 1, timedelta(minutes=15))
    second: list[throttles.Slot | None] = []

    def take_in_another_worker() -> None:
        with Session(db) as session:
            second.append(throttles.take(session, limit, "203.0.113.1"))
            session.commit()

    with Session(db) as first:
        assert throttles.take(first, limit, "203.0.113.1") is not None
        worker = threading.Thread(target=take_in_another_worker)
        worker.start()
        worker.join(timeout=1)
        assert worker.is_alive() and second == []
        first.commit()
    worker.join(timeout=30)
    assert second == [None]
    with Session(db) as session:
        assert count_rows(session, ThrottleEvent) == 1


def test_many_clients_guessing_one_account_are_throttled_known_or_not(session, monkeypatch, lockout):
    lockout(100)  # the account lock stays out of the way: this is the per-account window
    make_user(session, "viewer", "ann@test.example")
    monkeypatch.setattr(auth, "SIGN_IN_PER_ACCOUNT", throttles.Limit("sign_in_account", 3, timedelta(hours=1)))
    for n, email in enumerate(("ann@test.example", "ANN@test.example ", "ann@test.example")):
        _refusal(session, email, "guess", client=f"192.0.2.{n}")
    assert _refusal(session, "ann@test.example", RIGHT, client="192.0.2.99") == auth.BAD_CREDENTIALS
    for n in range(3):
        _refusal(session, "ghost@test.example", "guess", client=f"192.0.2.{n}")
    assert _refusal(session, "ghost@test.example", "guess", client="192.0.2.99") == auth.BAD_CREDENTIALS
    # The window slides: an hour later the account may sign in, and its count starts afresh.
    later = utcnow() + timedelta(hours=1, minutes=1)
    assert auth.sign_in(session, "ann@test.example", RIGHT, client="192.0.2.99", now=later).token
    session.commit()
    assert session.exec(select(User).where(User.email == "ann@test.example")).one().failed_logins == 0


def test_the_lock_after_repeated_failures_stays(session, lockout):
    lockout(3)
    make_user(session, "viewer", "ann@test.example")
    for _ in range(3):
        _refusal(session, "ann@test.example", "guess")
    assert _refusal(session, "ann@test.example", RIGHT) == auth.BAD_CREDENTIALS
    locks = session.exec(select(AuditEntry).where(AuditEntry.action == "user.locked")).all()
    assert len(locks) == 1
    assert auth.sign_in(session, "ann@test.example", RIGHT, now=utcnow() + timedelta(minutes=16)).token


def test_the_sign_in_form_throttles_by_the_address_reflex_reports(db, monkeypatch):
    from reflex.istate.data import SessionData

    with Session(db) as session:
        make_user(session, "viewer", "ann@test.example")
    monkeypatch.setattr(auth, "SIGN_IN_PER_CLIENT", throttles.Limit("sign_in_client", 1, timedelta(minutes=15)))

    def browser(address: str):  # type: ignore[no-untyped-def]
        state = ui_state(LoginState)
        root = state
        while root.parent_state is not None:
            root = root.parent_state
        root.rx_router_session = SessionData(client_ip=address)
        return state

    guesser = browser("198.51.100.20")
    call_handler(LoginState, guesser, "submit", {"email": "ann@test.example", "password": "guess"})
    call_handler(LoginState, guesser, "submit", {"email": "ann@test.example", "password": RIGHT})
    assert guesser.error == auth.BAD_CREDENTIALS and guesser.token == ""
    owner = browser("198.51.100.21")
    call_handler(LoginState, owner, "submit", {"email": "ann@test.example", "password": RIGHT})
    assert owner.error == "" and owner.token


def test_parallel_wrong_passwords_each_count(db, lockout):
    """Eight wrong passwords at once, each in its own session: the account's counter sees all
    eight (read-then-write counting loses the ones that overlap)."""
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race is PostgreSQL's")
    lockout(100)
    with Session(db) as session:
        user_id = make_user(session, "viewer", "ann@test.example").user_id
    start, errors = threading.Barrier(8), []

    def guess(n: int) -> None:
        with Session(db) as session:
            start.wait()
            try:
                auth.sign_in(session, "ann@test.example", f"guess-{n}")
            except NotAuthenticated:
                return
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with Session(db) as session:
        assert session.get(User, user_id).failed_logins == 8


def test_housekeeping_forgets_throttle_records_past_every_window(session):
    limit = throttles.Limit("test_scope", 5, timedelta(minutes=15))
    throttles.record(session, limit, "203.0.113.1", now=utcnow() - timedelta(days=2))
    throttles.record(session, limit, "203.0.113.1")
    session.commit()
    housekeeping.purge_expired_sessions(session)
    session.commit()
    assert count_rows(session, ThrottleEvent) == 1
    stored = session.exec(select(ThrottleEvent)).one()
    assert "203.0.113.1" not in stored.key_digest  # only a digest of the address is kept
