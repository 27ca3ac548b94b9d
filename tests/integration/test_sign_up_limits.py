"""Sign-up under attack: throttled per client, per e-mail domain and per mailbox (whether or not
the address has an account), fields bounded with a message each, and vendor IDs drawn in bounded time even
when a name's every four-digit ID is taken."""
import random
from collections.abc import Callable
from datetime import timedelta

import pytest
import reflex as rx
from sqlalchemy import insert
from sqlmodel import select

import vrm_dashboard.vrm_dashboard  # noqa: F401  (registers every state)
from tests.helpers import call_handler, count_rows
from vrm_dashboard.db.models import EmailDelivery, User, Vendor, table_of, utcnow
from vrm_dashboard.db.tenancy import root_organization_id
from vrm_dashboard.services.platform import throttles
from vrm_dashboard.services.platform.errors import Conflict, FieldErrors
from vrm_dashboard.services.vendors import onboarding
from vrm_dashboard.ui.states.signup import SignupState


def _sign_up(session, n: int, domain: str = "fresh.example", client: str = ""):  # type: ignore[no-untyped-def]
    return onboarding.sign_up(session, f"Studio {n}", f"Frida {n}", f"frida{n}@{domain}", "SE", "SEK",
                              client=client)


def test_one_client_may_sign_up_a_few_times_an_hour(session, monkeypatch):
    monkeypatch.setattr(onboarding, "SIGN_UP_PER_CLIENT", throttles.Limit("sign_up_client", 2, timedelta(hours=1)))
    for n, domain in enumerate(("one.example", "two.example")):
        assert _sign_up(session, n, domain, client="203.0.113.7") is not None
    session.commit()
    with pytest.raises(throttles.TooManyAttempts, match="please try again later"):
        _sign_up(session, 3, "three.example", client="203.0.113.7")
    session.rollback()
    assert count_rows(session, Vendor) == 2
    assert _sign_up(session, 4, "four.example", client="203.0.113.8") is not None


def test_one_domain_may_sign_up_a_few_times_an_hour_known_addresses_included(session, monkeypatch):
    monkeypatch.setattr(onboarding, "SIGN_UP_PER_DOMAIN", throttles.Limit("sign_up_domain", 2, timedelta(hours=1)))
    assert _sign_up(session, 1, client="198.51.100.1") is not None
    # The same address again: told by e-mail, and counted like a new one, so the throttle
    # reveals no more than the form does.
    assert _sign_up(session, 1, client="198.51.100.2") is None
    session.commit()
    mails = count_rows(session, EmailDelivery)
    with pytest.raises(throttles.TooManyAttempts):
        _sign_up(session, 3, "FRESH.example", client="198.51.100.3")
    session.rollback()
    assert count_rows(session, EmailDelivery) == mails and count_rows(session, Vendor) == 1
    assert _sign_up(session, 4, "other.example", client="198.51.100.3") is not None
    later = utcnow() + timedelta(hours=1, minutes=1)
    assert not throttles.exceeded(session, onboarding.SIGN_UP_PER_DOMAIN, "fresh.example", now=later)


def test_a_shared_mail_providers_domain_has_no_window_of_its_own_and_a_companys_has(session, monkeypatch):
    """With a window per domain on gmail.com, anyone could shut out every vendor with a Gmail
    address by signing up twenty times an hour; each client stays limited there all the same."""
    monkeypatch.setattr(onboarding, "SIGN_UP_PER_DOMAIN", throttles.Limit("sign_up_domain", 2, timedelta(hours=1)))
    monkeypatch.setattr(onboarding, "SIGN_UP_PER_CLIENT", throttles.Limit("sign_up_client", 2, timedelta(hours=1)))
    for n, client in enumerate(("198.51.100.1", "198.51.100.1", "198.51.100.2", "198.51.100.3")):
        assert _sign_up(session, n, "GMail.com", client=client) is not None
    session.commit()
    with pytest.raises(throttles.TooManyAttempts):
        _sign_up(session, 9, "gmail.com", client="198.51.100.1")
    session.rollback()
    for n, client in enumerate(("198.51.100.4", "198.51.100.5")):
        assert _sign_up(session, 10 + n, "studio-nord.example", client=client) is not None
    session.commit()
    with pytest.raises(throttles.TooManyAttempts):
        _sign_up(session, 12, "studio-nord.example", client="198.51.100.6")
    session.rollback()
    assert count_rows(session, Vendor) == 6


def test_one_mailbox_gets_a_few_sign_up_mails_a_day_from_any_number_of_clients(session):
    """Gmail has no domain window, and each request comes from a new client: the mailbox's own
    window still stops the mails at three a day, whether the address has an account or not,
    and a +tag or Gmail's ignored dots do not make a new mailbox."""
    def sign_up(n: int, address: str):  # type: ignore[no-untyped-def]
        return onboarding.sign_up(session, f"Studio {n}", "Frida", address, "SE", "SEK", client=f"198.51.100.{n}")

    assert sign_up(1, "frida.nord@gmail.com") is not None
    session.commit()
    assert sign_up(2, "Frida.Nord@Gmail.com") is None  # has an account now: told by mail, counted all the same
    assert sign_up(3, "fridanord+vrm@googlemail.com") is not None  # another login, the same inbox
    session.commit()
    mails = count_rows(session, EmailDelivery)
    for n, address in enumerate(("frida.nord@gmail.com", "f.r.i.d.a.nord+x@gmail.com"), start=4):
        with pytest.raises(throttles.TooManyAttempts, match="for this e-mail address"):
            sign_up(n, address)
        session.rollback()
    assert count_rows(session, EmailDelivery) == mails == 3 and count_rows(session, Vendor) == 2
    # A refused sign-up took nothing from its client's window, and other mailboxes are not held up.
    assert not throttles.exceeded(session, onboarding.SIGN_UP_PER_CLIENT, "198.51.100.4")
    assert sign_up(4, "olle@gmail.com") is not None
    session.commit()
    later = utcnow() + timedelta(days=1, minutes=1)
    assert throttles.exceeded(session, onboarding.SIGN_UP_PER_ADDRESS, "fridanord@gmail.com")
    assert not throttles.exceeded(session, onboarding.SIGN_UP_PER_ADDRESS, "fridanord@gmail.com", now=later)


def test_refused_fields_count_nothing_and_each_says_its_bound(session):
    with pytest.raises(FieldErrors) as bad:
        onboarding.sign_up(session, "S" * 121, "F" * 121, "a" * 250 + "@x.example", "SWE", "SEKR",
                           client="203.0.113.9")
    assert bad.value.errors == {
        "name": "The company name is at most 120 characters",
        "contact_name": "The contact's name is at most 120 characters",
        "email": "An e-mail address is at most 254 characters",
        "country": "A country is its two-letter code, such as DE",
        "currency": "A currency is its three-letter code, such as EUR",
    }
    with pytest.raises(FieldErrors) as bad:
        onboarding.sign_up(session, "Null\x00Corp", "Eve\r\nBcc: all@x.example", "eve@x.example", "SE", "SEK")
    assert set(bad.value.errors) == {"name", "contact_name"}
    assert "control characters" in bad.value.errors["name"]
    assert count_rows(session, Vendor) == 0 and count_rows(session, User) == 0
    # At the bounds, everything is kept as given.
    vendor = onboarding.sign_up(session, "S" * 120, "F" * 120, "frida@fresh.example", "SE", "SEK")
    session.commit()
    assert vendor.name == "S" * 120
    assert session.exec(select(User.full_name).where(User.vendor_id == vendor.id)).one() == "F" * 120


def test_the_sign_up_form_counts_the_address_reflex_reports(db, monkeypatch):
    from reflex.istate.data import SessionData

    monkeypatch.setattr(onboarding, "SIGN_UP_PER_CLIENT", throttles.Limit("sign_up_client", 1, timedelta(hours=1)))
    root = rx.State(_reflex_internal_init=True)  # a visitor: no session
    root.rx_router_session = SessionData(client_ip="192.0.2.44")
    state = root.get_substate(SignupState.get_full_name().split(".")[1:])
    form = {"company": "Fresh Studio", "contact_name": "Frida", "email": "frida@fresh.example", "country": "SE",
            "currency": "SEK"}
    call_handler(SignupState, state, "submit", form)
    assert state.done and state.error == ""
    state.done = False
    call_handler(SignupState, state, "submit", {**form, "email": "olle@other.example", "company": "Other"})
    assert not state.done and "Too many sign-ups" in state.error
    call_handler(SignupState, state, "submit", {**form, "company": "X" * 500})
    assert state.errors["company"] == "The company name is at most 120 characters"


def _bounded_draws(monkeypatch, draw: Callable[[int], int]) -> None:  # type: ignore[no-untyped-def]
    """Vendor IDs drawn with `draw`; past 1,000 draws the test fails instead of hanging (a draw
    that tries until an ID is free never ends when none is)."""
    drawn = []

    def counted(n: int) -> int:
        drawn.append(n)
        if len(drawn) > 1000:
            raise AssertionError("more than 1,000 vendor IDs drawn for one sign-up: the draw does not end")
        return draw(n)
    monkeypatch.setattr(onboarding.secrets, "randbelow", counted)


def test_a_vendor_id_is_found_in_bounded_time_when_a_name_has_used_up_its_four_digit_ids(session, monkeypatch):
    """Every four-digit ID of the name is taken (9,000 vendors named "Acme"): a sign-up still
    gets an ID at once, instead of drawing for ever while holding the write lock."""
    now = utcnow()
    root = root_organization_id(session)
    session.execute(insert(table_of(Vendor)), [
        dict(owner_id=root, vendor_code=f"ACME-{n}", name="Acme", legal_name="Acme", email=f"ap{n}@acme.example", country="DE",
             currency="EUR", payment_method="manual", payment_source="Operating account",
             activity_status="active", created_at=now, updated_at=now)
        for n in range(1000, 10000)])
    session.commit()
    _bounded_draws(monkeypatch, random.Random(9).randrange)
    vendor = onboarding.sign_up(session, "Acme", "Ann", "ann@acme-new.example", "DE", "EUR")
    assert vendor.vendor_code.startswith("ACME-") and len(vendor.vendor_code) == len("ACME-") + 8


def test_a_vendor_id_draw_that_finds_nothing_free_is_refused(session, monkeypatch):
    _bounded_draws(monkeypatch, lambda _n: 0)  # every draw the same, and both IDs it makes are taken
    now = utcnow()
    for code in ("ACME-1000", "ACME-10000000"):
        session.add(Vendor(vendor_code=code, name="Acme", legal_name="Acme", email="ap@acme.example", country="DE",
                           currency="EUR", payment_method="manual", payment_source="Operating account",
                           activity_status="active", created_at=now, updated_at=now))
    session.commit()
    with pytest.raises(Conflict, match="No vendor ID is free"):
        onboarding.sign_up(session, "Acme", "Ann", "ann@acme-new.example", "DE", "EUR")
