"""The second wall: on PostgreSQL, row-level security holds a scoped session to its
organizations' rows even where the first wall (db/tenancy.py's hook) does not reach: raw SQL,
a Core statement, or the hook switched off."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, delete, select

from tests.conftest import _empty_postgres
from tests.helpers import SYSTEM
from vrm_dashboard.api.app import build_api
from vrm_dashboard.db import tenancy
from vrm_dashboard.db.engine import session_scope
from vrm_dashboard.db.models import (
    AuditEntry,
    EmailDelivery,
    Invoice,
    InvoiceLine,
    Organization,
    Payout,
    Vendor,
    VendorContact,
)
from vrm_dashboard.db.tenancy import NOBODY, Scope, looking_past_scope, scope_to, unscope
from vrm_dashboard.services.identity.api_keys import create_api_key
from vrm_dashboard.services.identity.users import add_user
from vrm_dashboard.services.invoices import approvals
from vrm_dashboard.services.platform import audit
from vrm_dashboard.services.platform.actors import Actor, act_as, load_actor

# What a scoped session must not see of another organization, read without the ORM.
TABLES = ("vendor", "vendor_contact", "invoice", "invoice_line", "payout", "email_delivery", "audit_log")


@dataclass(frozen=True)
class Books:
    """Ids of one organization's records."""

    organization: int
    vendor: int
    invoice: int
    payout: int
    delivery: int


@dataclass(frozen=True)
class TwoOrganizations:
    a: Books  # the distributor
    b: Books  # a seller under it
    receivable: int  # issued by A, billing B: A's record (B reads it only in its incoming view)


@pytest.fixture
def pg(db: Engine) -> Engine:
    if db.dialect.name != "postgresql":
        pytest.skip("row-level security is PostgreSQL's")
    return db


@pytest.fixture(params=[True, False], ids=["first-wall-on", "first-wall-off"])
def first_wall(request, monkeypatch) -> bool:
    monkeypatch.setattr(tenancy, "FIRST_WALL", request.param)
    return bool(request.param)


def _books(session: Session, organization: int, tag: str) -> Books:
    vendor = Vendor(vendor_code=f"V-{tag}", name=f"Vendor {tag}", legal_name=f"Vendor {tag} GmbH",
                    email=f"ap@{tag.lower()}.example", country="DE", currency="EUR", payment_method="sepa",
                    payment_source="manual", activity_status="active", owner_id=organization)
    session.add(vendor)
    session.flush()
    assert vendor.id is not None
    session.add(VendorContact(vendor_id=vendor.id, name=f"Contact {tag}", email=f"c@{tag.lower()}.example"))
    invoice = Invoice(number=f"INV-{tag}", kind="parsed", vendor_id=vendor.id, owner_id=organization,
                      currency="EUR", subtotal_minor=10_000, tax_minor=0, total_minor=10_000,
                      issue_date=date(2026, 11, 1), status="approved")
    session.add(invoice)
    session.flush()
    assert invoice.id is not None
    session.add(InvoiceLine(invoice_id=invoice.id, position=1, description=f"Work {tag}", quantity=Decimal(1),
                            unit_price_minor=10_000, amount_minor=10_000))
    payout = Payout(invoice_id=invoice.id, vendor_id=vendor.id, amount_minor=10_000, currency="EUR",
                    status="awaiting_payout", rail="sepa", pay_date=date(2026, 12, 1), idempotency_key=f"p-{tag}")
    delivery = EmailDelivery(owner_id=organization, recipient=f"ap@{tag.lower()}.example",
                             subject=f"Invoice {tag}", status="sent")
    session.add_all([payout, delivery])
    session.flush()
    assert payout.id is not None and delivery.id is not None
    session.add(AuditEntry(owner_id=organization, actor_label="tests", action=f"made.{tag}", object_type="vendor",
                           object_id=str(vendor.id)))
    return Books(organization, vendor.id, invoice.id, payout.id, delivery.id)


@pytest.fixture
def two(pg: Engine) -> TwoOrganizations:
    with Session(pg) as session:  # the system's: unscoped
        a = Organization(name="Distributor A", tier="distributor", country="DE")
        session.add(a)
        session.flush()
        b = Organization(name="Seller B", tier="seller", country="DE", parent_id=a.id)
        session.add(b)
        session.flush()
        assert a.id is not None and b.id is not None
        books_a, books_b = _books(session, a.id, "A"), _books(session, b.id, "B")
        receivable = Invoice(number="AR-A-B", kind="self_generated", organization_id=b.id, owner_id=a.id,
                             currency="EUR", subtotal_minor=500, tax_minor=0, total_minor=500,
                             issue_date=date(2026, 11, 2), status="approved")
        session.add(receivable)
        # An entry of the installation's own: no organization reads it.
        session.add(AuditEntry(owner_id=None, actor_label="tests", action="installation", object_type="role",
                               object_id="1"))
        session.commit()
        assert receivable.id is not None
        return TwoOrganizations(books_a, books_b, receivable.id)


@pytest.fixture
def scoped_to_b(pg: Engine, two: TwoOrganizations) -> Iterator[Session]:
    with Session(pg) as session:
        scope_to(session, Scope.of(two.b.organization))
        yield session


def _raw_ids(session: Session, table: str) -> set[int]:
    return set(session.execute(text(f"SELECT id FROM {table}")).scalars())


def _everything(pg: Engine) -> dict[str, set[int]]:
    with Session(pg) as session:
        return {table: _raw_ids(session, table) for table in TABLES}


def test_a_scoped_session_reads_none_of_another_organizations_rows(scoped_to_b, two, first_wall):
    session = scoped_to_b
    a, b = two.a, two.b
    assert set(session.exec(select(Vendor.id)).all()) == {b.vendor}
    assert set(session.exec(select(Invoice.id)).all()) == {b.invoice}
    assert set(session.exec(select(Payout.id)).all()) == {b.payout}
    assert set(session.exec(select(EmailDelivery.id)).all()) == {b.delivery}
    assert [e.action for e in session.exec(select(AuditEntry)).all()] == ["made.B"]
    assert {c.name for c in session.exec(select(VendorContact)).all()} == {"Contact B"}
    assert {line.description for line in session.exec(select(InvoiceLine)).all()} == {"Work B"}
    assert session.get(Vendor, a.vendor) is None and session.get(Invoice, a.invoice) is None
    # Raw SQL never passes the first wall: the database alone refuses.
    assert _raw_ids(session, "vendor") == {b.vendor}
    assert _raw_ids(session, "invoice") == {b.invoice}
    assert _raw_ids(session, "payout") == {b.payout}
    assert _raw_ids(session, "email_delivery") == {b.delivery}
    assert session.execute(text("SELECT action FROM audit_log")).scalars().all() == ["made.B"]
    assert session.execute(text("SELECT description FROM invoice_line")).scalars().all() == ["Work B"]
    assert session.execute(text("SELECT count(*) FROM vendor_contact WHERE vendor_id = :a"),
                           {"a": a.vendor}).scalar_one() == 0


def test_a_scoped_session_changes_none_of_another_organizations_rows(pg, scoped_to_b, two, first_wall):
    session = scoped_to_b
    a = two.a
    before = _everything(pg)
    changed = [
        session.execute(text("UPDATE vendor SET name = 'taken' WHERE id = :id"), {"id": a.vendor}),
        session.execute(text("UPDATE invoice SET status = 'paid' WHERE id = :id"), {"id": a.invoice}),
        # A receivable B is billed for is A's record: B's incoming view reads it, nothing writes it.
        session.execute(text("UPDATE invoice SET total_minor = 1 WHERE id = :id"), {"id": two.receivable}),
        session.execute(text("UPDATE payout SET status = 'paid' WHERE id = :id"), {"id": a.payout}),
        session.execute(text("UPDATE email_delivery SET recipient = 'x@evil.example' WHERE id = :id"),
                        {"id": a.delivery}),
        session.execute(text("DELETE FROM invoice_line WHERE invoice_id = :id"), {"id": a.invoice}),
        session.execute(text("DELETE FROM vendor_contact WHERE vendor_id = :id"), {"id": a.vendor}),
    ]
    assert [result.rowcount for result in changed] == [0] * len(changed)
    session.commit()
    assert _everything(pg) == before
    with Session(pg) as system:
        assert system.get(Vendor, a.vendor).name == "Vendor A"
        assert system.get(Invoice, a.invoice).status == "approved"


@pytest.mark.parametrize("statement", [
    "INSERT INTO vendor (vendor_code, name, legal_name, email, country, currency, payment_method, payment_source, "
    "activity_status, owner_id, created_at, updated_at) VALUES ('V-X', 'Planted', 'Planted', 'p@x.example', 'DE', "
    "'EUR', 'sepa', 'manual', 'active', :a_org, now(), now())",
    "INSERT INTO vendor_contact (vendor_id, name, email, role, phone) VALUES (:a_vendor, 'Planted', "
    "'p@x.example', '', '')",
    "INSERT INTO payout (invoice_id, vendor_id, amount_minor, currency, status, rail, pay_date, idempotency_key, "
    "created_at, updated_at) VALUES (:a_invoice, :a_vendor, 1, 'EUR', 'awaiting_payout', 'sepa', '2026-12-01', "
    "'planted', now(), now())",
    "INSERT INTO audit_log (at, owner_id, actor_label, action, object_type, object_id) "
    "VALUES (now(), :a_org, 'tests', 'planted', 'vendor', '1')",
    # Its own row handed to another organization.
    "UPDATE vendor SET owner_id = :a_org WHERE id = :b_vendor",
], ids=["vendor", "contact", "payout", "audit", "hand-over"])
def test_a_scoped_session_writes_nothing_into_another_organization(pg, scoped_to_b, two, statement, first_wall):
    before = _everything(pg)
    values = {"a_org": two.a.organization, "a_vendor": two.a.vendor, "a_invoice": two.a.invoice,
              "b_vendor": two.b.vendor, "receivable": two.receivable}
    with pytest.raises(DBAPIError, match="row-level security"):
        scoped_to_b.execute(text(statement), {k: v for k, v in values.items() if f":{k}" in statement})
    scoped_to_b.rollback()
    assert _everything(pg) == before


def test_a_scoped_session_writes_its_own_organizations_rows(pg, scoped_to_b, two, first_wall):
    """The role switch leaves normal work alone: sequences, children of its own records."""
    session = scoped_to_b
    contact = VendorContact(vendor_id=two.b.vendor, name="Second B", email="c2@b.example")
    vendor = Vendor(vendor_code="V-B2", name="Vendor B2", legal_name="Vendor B2", email="b2@b.example", country="DE",
                    currency="EUR", payment_method="sepa", payment_source="manual", activity_status="active")
    session.add_all([contact, vendor])
    session.flush()
    assert vendor.owner_id == two.b.organization  # stamped from the scope
    assert session.execute(text("UPDATE vendor SET name = 'Vendor B, renamed' WHERE id = :id"),
                           {"id": two.b.vendor}).rowcount == 1
    session.commit()
    with Session(pg) as system:
        assert system.get(Vendor, two.b.vendor).name == "Vendor B, renamed"
        assert system.get(VendorContact, contact.id).vendor_id == two.b.vendor


def test_a_bulk_approval_runs_under_the_wall_and_reaches_only_its_own_invoices(pg, two, first_wall):
    """Approvals work set-based on the raw connection, through a temporary table: the tenant role
    may make one, and what it inserts (approvals, payouts, audit entries) passes the policies."""
    with Session(pg) as system:
        for books in (two.a, two.b):
            system.get(Invoice, books.invoice).status = "pending"
            system.exec(delete(Payout).where(Payout.invoice_id == books.invoice))
        user = add_user(system, SYSTEM, "approver@b.example", "Approver B", "correct-horse-battery",
                        ["approver"], organization_id=two.b.organization)
        system.commit()
        user_id = user.id
    with Session(pg) as session:
        actor = act_as(session, load_actor(session, user_id))
        assert session.execute(text("SELECT current_user")).scalar_one() == "vrm_tenant"
        result = approvals.approve(session, actor, approvals.Selection(invoice_ids=[two.a.invoice, two.b.invoice]))
        session.commit()
    assert result.moved == 1
    with Session(pg) as system:
        assert system.get(Invoice, two.b.invoice).status == "approved"
        assert system.get(Invoice, two.a.invoice).status == "pending"
        assert system.exec(select(Payout.invoice_id).where(Payout.invoice_id.in_(
            [two.a.invoice, two.b.invoice]))).all() == [two.b.invoice]
        approved = system.exec(select(AuditEntry).where(AuditEntry.action == "invoice.approved")).all()
        assert [(e.object_id, e.owner_id) for e in approved] == [(str(two.b.invoice), two.b.organization)]


def test_unscoped_sessions_and_platform_scopes_see_every_organization(pg, two, first_wall):
    everyone = {two.a.vendor, two.b.vendor}
    with Session(pg) as system:
        assert _raw_ids(system, "vendor") == everyone
        assert len(_raw_ids(system, "audit_log")) == 3
    with Session(pg) as platform:
        scope_to(platform, Scope.everything(two.a.organization))
        assert _raw_ids(platform, "vendor") == everyone


def test_a_scope_set_inside_a_transaction_holds_at_once_and_afterwards(pg, two, monkeypatch):
    """As the API and the pages do: the actor is found inside the transaction that serves them."""
    monkeypatch.setattr(tenancy, "FIRST_WALL", False)
    with Session(pg) as session:
        scope_to(session, NOBODY)
        assert _raw_ids(session, "vendor") == set()  # before anyone is known: nothing
        scope_to(session, Scope.of(two.b.organization))
        assert _raw_ids(session, "vendor") == {two.b.vendor}
        with looking_past_scope(session):
            assert _raw_ids(session, "vendor") == {two.a.vendor, two.b.vendor}
        assert _raw_ids(session, "vendor") == {two.b.vendor}
        session.commit()
        # The next transaction of the session is held the same way.
        assert _raw_ids(session, "vendor") == {two.b.vendor}
        scope_to(session, Scope.of(two.a.organization))
        assert _raw_ids(session, "vendor") == {two.a.vendor}
        unscope(session)
        assert _raw_ids(session, "vendor") == {two.a.vendor, two.b.vendor}
        session.commit()
        assert _raw_ids(session, "vendor") == {two.a.vendor, two.b.vendor}


def test_a_savepoint_rolled_back_does_not_undo_the_scope(pg, two, monkeypatch):
    """PostgreSQL undoes settings made inside a savepoint it rolls back; the session's scope stays."""
    monkeypatch.setattr(tenancy, "FIRST_WALL", False)
    with Session(pg) as session:
        assert _raw_ids(session, "vendor") == {two.a.vendor, two.b.vendor}
        savepoint = session.begin_nested()
        scope_to(session, Scope.of(two.b.organization))
        savepoint.rollback()
        assert _raw_ids(session, "vendor") == {two.b.vendor}
        # As the mailbox takes an attachment: a savepoint's block that raises.
        with pytest.raises(RuntimeError):
            with session.begin_nested():
                scope_to(session, Scope.of(two.a.organization))
                raise RuntimeError("an attachment nobody foresaw")
        assert _raw_ids(session, "vendor") == {two.a.vendor}
        with session.begin_nested():
            unscope(session)
        assert _raw_ids(session, "vendor") == {two.a.vendor, two.b.vendor}


def test_a_statement_that_fails_while_looking_past_the_scope_is_the_error_reported(pg, two, monkeypatch):
    """Putting the scope back after a failed statement must not replace the failure with another."""
    monkeypatch.setattr(tenancy, "FIRST_WALL", False)
    with Session(pg) as session:
        scope_to(session, Scope.of(two.b.organization))
        with pytest.raises(DBAPIError, match="division by zero"):
            with looking_past_scope(session):
                session.execute(text("SELECT 1 / 0"))
        session.rollback()
        assert _raw_ids(session, "vendor") == {two.b.vendor}


def test_a_scope_of_nobody_records_its_own_unowned_audit_entries_and_reads_no_others(pg, two, monkeypatch):
    """Before sign-in (a lock after wrong passwords, say) entries have no organization: written
    and read back in their transaction, while the installation's other entries stay out of reach."""
    monkeypatch.setattr(tenancy, "FIRST_WALL", False)
    with session_scope(pg) as session:
        someone = Actor(user_id=None, email="someone@test.example", full_name="Someone")
        entry = audit.record(session, someone, "user.locked", "user", 1)
        session.flush()
        assert entry.id is not None and entry.owner_id is None
        assert session.execute(text("SELECT action FROM audit_log")).scalars().all() == ["user.locked"]
    with Session(pg) as session:
        scope_to(session, NOBODY)
        assert _raw_ids(session, "audit_log") == set()
    with Session(pg) as system:
        assert "user.locked" in system.execute(text("SELECT action FROM audit_log")).scalars().all()


def test_the_api_with_the_first_wall_off_still_answers_only_for_its_organization(pg, two, monkeypatch):
    monkeypatch.setattr(tenancy, "FIRST_WALL", False)
    with Session(pg) as session:
        user = add_user(session, SYSTEM, "fm@b.example", "Finance B", "correct-horse-battery",
                        ["finance_manager"], organization_id=two.b.organization)
        key = create_api_key(session, SYSTEM, "tests", user_id=user.id)
        session.commit()
    client = TestClient(build_api())
    headers = {"Authorization": f"Bearer {key}"}
    listed = client.get("/api/v1/vendors", headers=headers)
    assert listed.status_code == 200, listed.text
    assert [v["id"] for v in listed.json()["items"]] == [two.b.vendor]
    assert client.get(f"/api/v1/vendors/{two.a.vendor}", headers=headers).status_code == 404
    assert client.patch(f"/api/v1/vendors/{two.a.vendor}", json={"name": "Taken"}, headers=headers).status_code == 404
    with Session(pg) as system:
        assert system.get(Vendor, two.a.vendor).name == "Vendor A"


def test_the_tests_reset_still_empties_every_table(pg, two):
    """The reset runs as the tables' owner, which the policies do not bind."""
    _empty_postgres(pg)
    assert all(not ids for ids in _everything(pg).values())


def test_a_vendors_reading_hints_are_its_organizations_alone(pg, two, first_wall):
    from vrm_dashboard.db.models import VendorReadingHint

    with Session(pg) as system:
        for books in (two.a, two.b):
            system.add(VendorReadingHint(vendor_id=books.vendor, field="invoice_number", relation="right",
                                         label=f"Label {books.vendor}", learned_from="PI-1"))
        system.commit()
    with Session(pg) as session:
        scope_to(session, Scope.of(two.b.organization))
        assert [h.vendor_id for h in session.exec(select(VendorReadingHint)).all()] == [two.b.vendor]
        # Raw SQL never passes the first wall: the database alone refuses.
        assert session.execute(text("SELECT vendor_id FROM vendor_reading_hint")).scalars().all() == [two.b.vendor]
        with pytest.raises(DBAPIError):
            session.execute(text("INSERT INTO vendor_reading_hint (vendor_id, field, relation, page, x0, top, x1, "
                                 "bottom, learned_from, updated_at) VALUES (:v, 'total', 'right', 0, 0, 0, 0, 0, "
                                 "'PI-2', now())"), {"v": two.a.vendor})
