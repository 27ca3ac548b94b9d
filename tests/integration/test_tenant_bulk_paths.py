"""The set-based paths under two organizations, on both databases.

Approvals, payouts, payment runs, settlement, bank statements, exports, self-billing and
disputes write with Core statements on the session's connection, past the session's scoping
hook (db/tenancy.py). Here a user of one organization calls each of them with another
organization's ids or selection: nothing of that organization changes, nothing of it comes
back, and the scheduler's own runs keep each organization's records apart.

Northwind is the distributor (the root organization); Fabrikam is a seller below it that pays
vendors of its own. Northwind also bills Fabrikam (a receivable): Fabrikam reads that invoice,
but it is Northwind's to change.
"""
from __future__ import annotations

import io
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from tests.helpers import DUE_DAY, SYSTEM, make_invoice, vendor_input
from tests.payout_book import provider_of, use_payout_environment
from vrm_dashboard.db.models import (
    EmailDelivery,
    Invoice,
    InvoiceApproval,
    InvoiceDispute,
    InvoiceFlag,
    InvoiceRollup,
    Notification,
    Organization,
    PaymentFile,
    PaymentTransaction,
    Payout,
    Vendor,
    utcnow,
)
from vrm_dashboard.domain.invoice_rules import InvoiceEdit
from vrm_dashboard.services.distribution import branding, dispatch, disputes, invoice_documents
from vrm_dashboard.services.identity.users import add_user
from vrm_dashboard.services.intake import activity_import, self_billing
from vrm_dashboard.services.invoices import (
    approvals,
    export,
    flags as invoice_flags,
    queries as invoice_queries,
    records as invoice_records,
    rollup as invoice_rollup,
)
from vrm_dashboard.services.invoices.approvals import Selection
from vrm_dashboard.services.invoices.queries import InvoiceQuery
from vrm_dashboard.services.payouts import bank_statements, execution, records as payouts, settlement
from vrm_dashboard.services.platform import settings as app_settings
from vrm_dashboard.services.platform.actors import Actor, act_as, load_actor
from vrm_dashboard.services.platform.errors import Conflict, FieldErrors, NotFound, PermissionDenied
from vrm_dashboard.services.receivables import organizations, records as receivables
from vrm_dashboard.services.vendors import rate_rules, records as vendor_service

PASSWORD = "correct-horse-battery"
FABRIKAM_IBAN = "DE02120300000000202051"


@dataclass
class World:
    northwind: Organization
    fabrikam: Organization
    north: Actor  # Northwind's admin
    fab: Actor  # Fabrikam's admin
    north_vendor: Vendor
    fab_vendor: Vendor
    north_invoice: Invoice  # pending, Northwind's vendor's
    fab_invoice: Invoice  # pending, Fabrikam's vendor's


@contextmanager
def acting(db: Engine, actor: Actor) -> Iterator[Session]:
    """A unit of work that reads and writes as `actor` (as the app's and the API's do)."""
    with Session(db, expire_on_commit=False) as session:
        act_as(session, actor)
        yield session


def _member(session: Session, email: str, org: Organization) -> Actor:
    user = add_user(session, SYSTEM, email, email, PASSWORD, ["admin"], organization_id=org.id)
    session.commit()
    actor = load_actor(session, user.id)
    assert actor is not None
    return actor


def _books(db: Engine, actor: Actor, code: str, number: str) -> tuple[Vendor, Invoice]:
    with acting(db, actor) as session:
        vendor = vendor_service.create_vendor(session, actor, vendor_input(vendor_code=code, name=f"{code} Media"))
        invoice = make_invoice(session, vendor.id, number, 10_000)
        invoice_rollup.refresh(session, [vendor.id])
        session.commit()
        return vendor, invoice


def world(db: Engine) -> World:
    with Session(db, expire_on_commit=False) as session:
        northwind = organizations.create_organization(session, SYSTEM, "Northwind", "distributor", "DE")
        fabrikam = organizations.create_organization(session, SYSTEM, "Fabrikam", "seller", "DE", northwind.id,
                                                     billing_email="ap@fabrikam.example")
        # Fabrikam pays from an account of its own (Northwind, the root, from the installation's).
        for key, value in ((app_settings.PAYER_IBAN, FABRIKAM_IBAN), (app_settings.PAYER_BIC, "BYLADEM1001")):
            app_settings.put(session, SYSTEM, key, value, organization_id=fabrikam.id)
        session.commit()
        north = _member(session, "admin@northwind.example", northwind)
        fab = _member(session, "admin@fabrikam.example", fabrikam)
    north_vendor, north_invoice = _books(db, north, "NORTH-1", "NW-1")
    fab_vendor, fab_invoice = _books(db, fab, "FAB-1", "FB-1")
    assert (north_invoice.owner_id, fab_invoice.owner_id) == (northwind.id, fabrikam.id)
    return World(northwind, fabrikam, north, fab, north_vendor, fab_vendor, north_invoice, fab_invoice)


def _bill_fabrikam(db: Engine, w: World, status: str = "pending", number: str = "AR-NW-1") -> Invoice:
    """Northwind's receivable to Fabrikam: Fabrikam reads it, Northwind owns it."""
    with Session(db, expire_on_commit=False) as session:
        invoice = receivables.bill(session, SYSTEM, w.fabrikam.id, "EUR",
                                   [receivables.ChargeLine("Licences", Decimal(1), 50_000)], date(2026, 11, 2),
                                   number=number, status=status)
        session.commit()
    assert invoice.owner_id == w.northwind.id and invoice.organization_id == w.fabrikam.id
    return invoice


def _system(db: Engine) -> Session:
    return Session(db, expire_on_commit=False)


def _status(db: Engine, model: type, record_id: int) -> str:
    with _system(db) as session:
        return session.get(model, record_id).status


def _count(db: Engine, model: type, *where: Any) -> int:
    with _system(db) as session:
        return int(session.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


# --- invoices ---------------------------------------------------------------------------------

def test_approving_another_organizations_invoices_changes_none_of_them(db):
    w = world(db)
    incoming = _bill_fabrikam(db, w)
    with acting(db, w.fab) as session:
        # By id: Northwind's payable, and Northwind's receivable billed to Fabrikam.
        result = approvals.approve(session, w.fab, Selection([w.north_invoice.id, incoming.id]))
        session.commit()
    # Answered as ids that do not exist: neither approved nor refused with a reason.
    assert (result.moved, result.awaiting_second_approval, result.refused_count) == (0, 0, 0)
    with acting(db, w.fab) as session:
        # The whole view: only Fabrikam's own pending invoice.
        result = approvals.approve(session, w.fab, Selection(query=InvoiceQuery(statuses=["pending"])))
        session.commit()
    assert result.moved == 1
    assert _status(db, Invoice, w.fab_invoice.id) == "approved"
    assert _status(db, Invoice, w.north_invoice.id) == "pending"
    assert _status(db, Invoice, incoming.id) == "pending"
    assert _count(db, InvoiceApproval, InvoiceApproval.invoice_id.in_([w.north_invoice.id, incoming.id])) == 0
    assert _count(db, Payout, Payout.vendor_id == w.north_vendor.id) == 0
    with _system(db) as session:
        rollup = session.exec(select(InvoiceRollup.status, InvoiceRollup.invoice_count)
                              .where(InvoiceRollup.vendor_id == w.north_vendor.id)).all()
    assert rollup == [("pending", 1)]


def test_rejecting_another_organizations_invoices_changes_none_of_them(db):
    w = world(db)
    incoming = _bill_fabrikam(db, w)
    with acting(db, w.fab) as session:
        result = approvals.reject(session, w.fab, Selection([w.north_invoice.id, incoming.id]), "Not ours")
        session.commit()
    assert (result.moved, result.refused_count) == (0, 0)
    with acting(db, w.fab) as session:
        result = approvals.reject(session, w.fab, Selection(query=InvoiceQuery(statuses=["pending"])), "Wrong")
        session.commit()
    assert result.moved == 1
    assert _status(db, Invoice, w.fab_invoice.id) == "rejected"
    assert {_status(db, Invoice, w.north_invoice.id), _status(db, Invoice, incoming.id)} == {"pending"}
    assert _count(db, Notification, Notification.invoice_id.in_([w.north_invoice.id, incoming.id])) == 0


def test_another_organizations_invoice_cannot_be_moved_edited_or_deleted(db):
    w = world(db)
    incoming = _bill_fabrikam(db, w)
    for invoice in (w.north_invoice, incoming):
        with acting(db, w.fab) as session:
            with pytest.raises(NotFound):
                invoice_records.move_invoice(session, w.fab, invoice.id, "archived")
            with pytest.raises(NotFound):
                invoice_records.edit_invoice(session, w.fab, invoice.id, InvoiceEdit(
                    number=invoice.number, issue_date="2026-11-01", due_date="", currency="EUR",
                    subtotal="1.00", tax="0.00", total="1.00"))
            with pytest.raises(NotFound):
                invoice_records.delete_draft(session, w.fab, invoice.id)
    with _system(db) as session:
        north = session.get(Invoice, w.north_invoice.id)
        assert (north.status, north.total_minor) == ("pending", 10_000)
        assert session.get(Invoice, incoming.id).status == "pending"


def test_the_invoice_list_its_searches_and_its_totals_hold_only_the_organizations_own(db):
    w = world(db)
    with _system(db) as session:
        # A second Northwind vendor whose name Fabrikam's search also matches.
        vendor_service.create_vendor(session, SYSTEM, vendor_input(vendor_code="NORTH-2", name="FB-1 Lookalike"))
        session.commit()
    for actor, own, other in ((w.fab, "FB-1", "NW-1"), (w.north, "NW-1", "FB-1")):
        with acting(db, actor) as session:
            # The default view (totals from the rollup) and searches (totals from the invoices,
            # the scope only filtering what the number and vendor indexes find).
            for query in (InvoiceQuery(), InvoiceQuery(search=own), InvoiceQuery(search=own[:2]),
                          InvoiceQuery(search="Media"), InvoiceQuery(statuses=["pending"])):
                page = invoice_queries.list_invoices(session, actor, query)
                assert [row.number for row in page.rows] == [own], query
                assert [(t.status, t.count, t.amount_minor) for t in page.totals] == [("pending", 1, 10_000)], query
            for query in (InvoiceQuery(search=other), InvoiceQuery(search=other[:2]), InvoiceQuery(search="Lookalike")):
                page = invoice_queries.list_invoices(session, actor, query)
                assert (page.rows, page.totals) == ([], []), query
    with acting(db, w.fab) as session:
        approvals.approve(session, w.fab, Selection(query=InvoiceQuery(statuses=["pending"])))
        session.commit()
    with _system(db) as session:
        # Each rollup row carries its vendor's owner, also after a bulk move.
        rows = session.exec(select(InvoiceRollup.vendor_id, InvoiceRollup.owner_id, InvoiceRollup.status)
                            .where(InvoiceRollup.invoice_count > 0)).all()
    assert sorted(rows) == sorted([(w.north_vendor.id, w.northwind.id, "pending"),
                                   (w.fab_vendor.id, w.fabrikam.id, "approved")])


def test_a_searchs_totals_count_each_matching_invoice_once(db):
    w = world(db)
    with acting(db, w.north) as session:
        alpine = vendor_service.create_vendor(session, w.north, vendor_input(vendor_code="ALP-1", name="Alpine Creators"))
        other = vendor_service.create_vendor(session, w.north, vendor_input(vendor_code="OTH-1", name="Other Studio"))
        make_invoice(session, alpine.id, "ALPINE-7", 1_000)  # named by its vendor and its number
        make_invoice(session, alpine.id, "NW-2", 2_000)  # by its vendor
        make_invoice(session, other.id, "ALPINE-8", 4_000)  # by its number
        make_invoice(session, other.id, "NW-3", 8_000)  # by neither
        invoice_rollup.refresh(session, [alpine.id, other.id])
        session.commit()
        # The vendors a search names are summed from the rollup, the invoices it names by number
        # one by one: an invoice named both ways counts once.
        page = invoice_queries.list_invoices(session, w.north, InvoiceQuery(search="alpine"))
        assert sorted(r.number for r in page.rows) == ["ALPINE-7", "ALPINE-8", "NW-2"]
        assert [(t.status, t.count, t.amount_minor) for t in page.totals] == [("pending", 3, 7_000)]
        assert page.total_rows == 3
        page = invoice_queries.list_invoices(session, w.north, InvoiceQuery(search="alpine", statuses=["approved"]))
        assert (page.rows, page.totals) == ([], [])


def test_an_export_holds_only_the_organizations_own_invoices(db):
    w = world(db)
    with acting(db, w.fab) as session:
        out = io.BytesIO()
        written = export.export_invoices(session, w.fab, InvoiceQuery(), "csv", out)
    text = out.getvalue().decode("utf-8-sig")
    assert written == 1
    assert "FB-1" in text and "NW-1" not in text and "NORTH-1" not in text


# --- payouts --------------------------------------------------------------------------------

def _approved(db: Engine, actor: Actor, invoice: Invoice) -> Payout:
    """The invoice approved by a second user of its organization, and its payout."""
    with _system(db) as session:
        approver = add_user(session, SYSTEM, f"approver-{invoice.number.lower()}@test.example", "Approver",
                            PASSWORD, ["approver"], organization_id=actor.organization_id)
        session.commit()
        approver_actor = load_actor(session, approver.id)
    with acting(db, approver_actor) as session:
        assert approvals.approve(session, approver_actor, Selection([invoice.id])).moved == 1
        session.commit()
        return session.exec(select(Payout).where(Payout.invoice_id == invoice.id)).one()


def test_another_organizations_payouts_cannot_be_approved_retried_or_withdrawn(db):
    w = world(db)
    with _system(db) as session:
        app_settings.put(session, SYSTEM, app_settings.PAYOUT_APPROVAL_ENABLED, True)
        session.commit()
    north_payout = _approved(db, w.north, w.north_invoice)
    fab_payout = _approved(db, w.fab, w.fab_invoice)
    assert north_payout.status == fab_payout.status == "payout_approval"
    with acting(db, w.fab) as session:
        result = payouts.approve(session, w.fab, [north_payout.id, fab_payout.id])
        session.commit()
    assert (result.moved, result.refused_count) == (1, 0)
    assert _status(db, Payout, fab_payout.id) == "awaiting_payout"
    assert _status(db, Payout, north_payout.id) == "payout_approval"
    # Withdrawing the approval of Northwind's invoice, by its id: its payout stays.
    with acting(db, w.fab) as session:
        payouts.withdraw_for_invoice(session, w.fab, w.north_invoice.id)
        session.commit()
    assert _count(db, Payout, Payout.id == north_payout.id) == 1
    # A failed payout of Northwind's is not sent back to the payout run by Fabrikam.
    with _system(db) as session:
        for model, record_id in ((Payout, north_payout.id), (Invoice, w.north_invoice.id)):
            record = session.get(model, record_id)
            record.status = "failed"
            session.add(record)
        session.commit()
    with acting(db, w.fab) as session:
        assert payouts.retry(session, w.fab, [north_payout.id]) == 0
        session.commit()
    assert _status(db, Payout, north_payout.id) == "failed"
    assert _status(db, Invoice, w.north_invoice.id) == "failed"


@pytest.fixture
def payout_env(monkeypatch, tmp_path):
    use_payout_environment(monkeypatch, tmp_path)
    return tmp_path


def _file_owners(db: Engine) -> dict[int, set[int]]:
    """Each payment file's owner and the owners of the vendors its transfers pay."""
    with _system(db) as session:
        rows = session.exec(select(PaymentFile.id, PaymentFile.owner_id, Vendor.owner_id)
                            .join(PaymentTransaction, PaymentTransaction.file_id == PaymentFile.id)
                            .join(Vendor, Vendor.id == PaymentTransaction.vendor_id)).all()
    owners: dict[int, set[int]] = {}
    for _file, file_owner, vendor_owner in rows:
        owners.setdefault(file_owner, set()).add(vendor_owner)
    return owners


def test_a_payment_file_carries_one_organizations_transfers_and_a_persons_run_pays_only_its_own(db, payout_env):
    w = world(db)
    with _system(db) as session:
        app_settings.put(session, SYSTEM, app_settings.COOLING_OFF_HOURS, 0)
        session.commit()
    _approved(db, w.north, w.north_invoice)
    _approved(db, w.fab, w.fab_invoice)
    # The scheduler's run pays both organizations' SEPA transfers: in one file each.
    with _system(db) as session:
        execution.execute_payouts(session, today=DUE_DAY, provider=provider_of(payout_env))
    assert _file_owners(db) == {w.northwind.id: {w.northwind.id}, w.fabrikam.id: {w.fabrikam.id}}
    # A person's run (Pay now) pays only the person's organization's payouts.
    north_next, fab_next = (_books(db, actor, f"{code}-2", f"{code}-INV-2")[1]
                            for actor, code in ((w.north, "NORTH"), (w.fab, "FAB")))
    _approved(db, w.north, north_next)
    _approved(db, w.fab, fab_next)
    with acting(db, w.fab) as session:
        execution.execute_payouts(session, today=DUE_DAY, provider=provider_of(payout_env))
    assert _status(db, Invoice, fab_next.id) == "processing"
    assert _status(db, Invoice, north_next.id) == "approved"
    with _system(db) as session:
        assert session.exec(select(Payout.status).where(Payout.invoice_id == north_next.id)).one() == \
            "awaiting_payout"
    assert _file_owners(db) == {w.northwind.id: {w.northwind.id}, w.fabrikam.id: {w.fabrikam.id}}


def _paid_out(db: Engine, w: World, env: Path) -> dict[int, PaymentTransaction]:
    """Both organizations' invoices approved and batched by the scheduler: a SEPA transfer each,
    awaiting the bank's confirmation."""
    with _system(db) as session:
        app_settings.put(session, SYSTEM, app_settings.COOLING_OFF_HOURS, 0)
        session.commit()
    _approved(db, w.north, w.north_invoice)
    _approved(db, w.fab, w.fab_invoice)
    with _system(db) as session:
        execution.execute_payouts(session, today=DUE_DAY, provider=provider_of(env))
        transfers = {t.vendor_id: t for t in session.exec(select(PaymentTransaction)).all()}
    assert {t.status for t in transfers.values()} == {"processing"}
    return {w.northwind.id: transfers[w.north_vendor.id], w.fabrikam.id: transfers[w.fab_vendor.id]}


def test_each_organizations_payment_file_pays_from_its_own_account(db, payout_env):
    from vrm_dashboard.db.models import StoredDocument

    w = world(db)
    with acting(db, w.fab) as session:
        # Which account an organization's files debit is a platform admin's to say.
        with pytest.raises(PermissionDenied):
            app_settings.put(session, w.fab, app_settings.PAYER_IBAN, "DE89370400440532013000")
    with _system(db) as session:
        app_settings.put(session, SYSTEM, app_settings.PAYER_NAME, "Fabrikam Trading GmbH", organization_id=w.fabrikam.id)
        with pytest.raises(FieldErrors):
            app_settings.put(session, SYSTEM, app_settings.PAYER_IBAN, "DE00 1234", organization_id=w.fabrikam.id)
        session.commit()
    _paid_out(db, w, payout_env)
    with _system(db) as session:
        files = {owner: session.get(StoredDocument, document).content.decode()
                 for owner, document in session.exec(select(PaymentFile.owner_id, PaymentFile.document_id)).all()}
    assert FABRIKAM_IBAN in files[w.fabrikam.id] and "Fabrikam Trading GmbH" in files[w.fabrikam.id]
    assert FABRIKAM_IBAN not in files[w.northwind.id] and "Fabrikam Trading GmbH" not in files[w.northwind.id]


def test_an_organization_with_no_account_of_its_own_pays_nothing_by_file(db, payout_env):
    w = world(db)
    with _system(db) as session:
        for key in (app_settings.PAYER_IBAN, app_settings.PAYER_BIC):
            app_settings.put(session, SYSTEM, key, "", organization_id=w.fabrikam.id)
        app_settings.put(session, SYSTEM, app_settings.COOLING_OFF_HOURS, 0)
        session.commit()
    _approved(db, w.north, w.north_invoice)
    _approved(db, w.fab, w.fab_invoice)
    with _system(db) as session:
        execution.execute_payouts(session, today=DUE_DAY, provider=provider_of(payout_env))
        transfers = {t.vendor_id: t for t in session.exec(select(PaymentTransaction)).all()}
    # Never from the installation's account: Fabrikam's transfer fails with the reason.
    assert transfers[w.north_vendor.id].status == "processing"
    assert transfers[w.fab_vendor.id].status == "failed"
    assert "no account of its own" in transfers[w.fab_vendor.id].failure_reason
    assert _file_owners(db) == {w.northwind.id: {w.northwind.id}}


def test_another_organizations_transfer_is_not_settled(db, payout_env):
    w = world(db)
    transfers = _paid_out(db, w, payout_env)
    north = transfers[w.northwind.id]
    with acting(db, w.fab) as session:
        assert settlement.settle_paid(session, w.fab, [north.id], confirmation="FAKE") == []
        assert settlement.settle_failed(session, w.fab, [north.id], "Fabrikam says so") == []
        session.commit()
    assert _status(db, PaymentTransaction, north.id) == "processing"
    assert _status(db, Invoice, w.north_invoice.id) == "processing"
    assert _count(db, Notification, Notification.subject.like("Payment sent%")) == 0


def _statement(*lines: str) -> bytes:
    return ("booking date,amount,currency,reference,counterparty,description\n" + "".join(
        f"2026-12-03,{line}\n" for line in lines)).encode()


def _major(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def test_a_bank_statement_settles_only_its_owners_transfers_and_receivables(db, payout_env):
    w = world(db)
    transfers = _paid_out(db, w, payout_env)
    north, fab = transfers[w.northwind.id], transfers[w.fabrikam.id]
    incoming = _bill_fabrikam(db, w, status="approved")
    # Fabrikam's statement names Northwind's transfer, and pays Northwind's invoice to Fabrikam
    # (a payment Fabrikam sends, which only Northwind's statement can confirm).
    with acting(db, w.fab) as session:
        report = bank_statements.import_statement(session, w.fab, "fab.csv", _statement(
            f"-{_major(north.target_amount_minor)},EUR,{north.reference},Northwind vendor,",
            f"500.00,EUR,,Northwind,Payment {incoming.number}"))
        session.commit()
    assert report.outcomes == {"unmatched": 2}
    assert _status(db, PaymentTransaction, north.id) == "processing"
    assert _status(db, Invoice, incoming.id) == "approved"
    # The scheduler imports a statement of the root organization's (Northwind's) account: it
    # cannot confirm Fabrikam's transfer.
    with _system(db) as session:
        report = bank_statements.import_statement(session, SYSTEM, "north.csv", _statement(
            f"-{_major(fab.target_amount_minor)},EUR,{fab.reference},Fabrikam vendor,"))
        session.commit()
    assert report.outcomes == {"unmatched": 1}
    assert _status(db, PaymentTransaction, fab.id) == "processing"
    # Its own statements still settle each organization's own.
    with acting(db, w.fab) as session:
        report = bank_statements.import_statement(session, w.fab, "fab-2.csv", _statement(
            f"-{_major(fab.target_amount_minor)},EUR,{fab.reference},Fabrikam vendor,Fabrikam's account"))
        session.commit()
    assert report.outcomes == {"matched": 1}
    with acting(db, w.north) as session:
        report = bank_statements.import_statement(session, w.north, "north-2.csv", _statement(
            f"500.00,EUR,,Fabrikam,Payment {incoming.number}"))
        session.commit()
    assert report.outcomes == {"pay_in": 1}
    assert _status(db, Invoice, incoming.id) == "paid"


def test_a_wire_for_a_receivable_being_collected_is_flagged_and_a_consolidated_member_is_not_paid_alone(db):
    w = world(db)
    collecting = _bill_fabrikam(db, w, status="approved", number="AR-NW-2")
    member = _bill_fabrikam(db, w, status="approved", number="AR-NW-3")
    with _system(db) as session:
        # A card collection holds the first (Processing); the second is billed within a
        # consolidated invoice.
        session.get(Invoice, collecting.id).status = "processing"
        session.get(Invoice, member.id).consolidated_into_id = collecting.id
        session.commit()
    with acting(db, w.north) as session:
        report = bank_statements.import_statement(session, w.north, "north.csv", _statement(
            f"500.00,EUR,,Fabrikam,Payment {collecting.number}", f"500.00,EUR,,Fabrikam,Payment {member.number}"))
        session.commit()
    assert report.outcomes == {"pay_in": 1, "review": 1}
    assert (_status(db, Invoice, collecting.id), _status(db, Invoice, member.id)) == ("paid", "approved")
    with _system(db) as session:
        flags = session.exec(select(InvoiceFlag.invoice_id, InvoiceFlag.flag)).all()
        assert flags == [(collecting.id, "two_channels")]
        # The flag survives a reconciliation of the invoice's other flags.
        invoice_flags.reconcile(session, [collecting.id])
        assert (collecting.id, "two_channels") in session.exec(select(InvoiceFlag.invoice_id, InvoiceFlag.flag)).all()


def test_an_invoice_mailed_to_the_installation_is_for_its_vendors_payer_alone(db):
    import json

    from tests.invoice_corpus import make_invoice as make_invoice_file
    from vrm_dashboard.db.models import Intake, InvoiceExtraction
    from vrm_dashboard.services.intake import invoice_files

    w = world(db)
    named = make_invoice_file(7, "de", "classic")
    unnamed = make_invoice_file(8, "de", "classic")
    with acting(db, w.fab) as session:
        # Fabrikam pays the vendor the first invoice names by its VAT id, and has a vendor whose
        # name is close to the second's.
        payee = vendor_service.create_vendor(session, w.fab, vendor_input(
            vendor_code="FAB-7", name="Someone Else Entirely", vat_id=named.truth["vendor_tax_id"]))
        lookalike = vendor_service.create_vendor(session, w.fab, vendor_input(
            vendor_code="FAB-8", name=unnamed.truth["vendor_name"]))
        session.commit()
    with acting(db, w.north) as session:
        # ... and so has Northwind: the second invoice's payer is not clear from the installation.
        vendor_service.create_vendor(session, w.north, vendor_input(vendor_code="NW-8", name=unnamed.truth["vendor_name"]))
        session.commit()
    outcomes = []
    for sample, name in ((named, "rechnung.pdf"), (unnamed, "factura.pdf")):
        with _system(db) as session:  # the invoice mailbox's run, acting for no one
            outcomes.append(invoice_files.receive_invoice(session, SYSTEM, sample.pdf, name, channel="mailbox",
                                                          sender="billing@supplier.example"))
            session.commit()
    with _system(db) as session:
        first, second = (session.get(Invoice, o.invoice_id) for o in outcomes)
        # The first is Fabrikam's: its invoice and its intake (Northwind never sees either).
        assert (first.owner_id, first.vendor_id) == (w.fabrikam.id, payee.id)
        assert session.get(Intake, outcomes[0].intake_id).owner_id == w.fabrikam.id
        # The second names no payer clearly: the installation's own organization takes it, and
        # is offered none of Fabrikam's vendors.
        assert second.owner_id == w.northwind.id
        extraction = session.exec(select(InvoiceExtraction).where(InvoiceExtraction.invoice_id == second.id)).one()
        assert lookalike.id not in {s["vendor_id"] for s in json.loads(extraction.suggestions)}


def test_two_organizations_import_the_same_statement_file_each_once(db):
    w = world(db)
    content = _statement("12.00,EUR,,Someone,Nothing of ours")
    for actor in (w.north, w.fab):
        with acting(db, actor) as session:
            report = bank_statements.import_statement(session, actor, "shared-account.csv", content)
            session.commit()
        assert report.outcomes == {"unmatched": 1}
    with acting(db, w.fab) as session:
        # Once per organization: again is refused, and says nothing of the other organization.
        with pytest.raises(Conflict, match="already imported") as refused:
            bank_statements.import_statement(session, w.fab, "again.csv", content)
        assert "Northwind" not in str(refused.value)


# --- self-billing ---------------------------------------------------------------------------

def test_self_billing_bills_only_the_organizations_own_vendors(db):
    w = world(db)
    with acting(db, w.north) as session:
        rate_rules.set_rate_card(session, w.north, w.north_vendor.id, "EUR")
        rate_rules.set_rate_rule(session, w.north, w.north_vendor.id, "clicks", per_unit_rate="0.01")
        result = activity_import.import_activity_file(
            session, w.north, b"vendor,activity_type,date,quantity\nNORTH-1,clicks,2026-10-05,1000\n",
            "clicks.csv", source_name="northwind-clicks")
        session.commit()
    assert not result.refused and len(result.invoices) == 1
    drafted = result.invoices[0]
    with _system(db) as session:
        before = session.exec(select(InvoiceRollup.status, InvoiceRollup.invoice_count, InvoiceRollup.amount_minor)
                              .where(InvoiceRollup.vendor_id == w.north_vendor.id)
                              .order_by(InvoiceRollup.status)).all()
    with acting(db, w.fab) as session:
        assert self_billing.bill_unbilled(session, w.fab, [w.north_vendor.id, w.fab_vendor.id]) == []
        session.commit()
    with _system(db) as session:
        after = session.exec(select(InvoiceRollup.status, InvoiceRollup.invoice_count, InvoiceRollup.amount_minor)
                             .where(InvoiceRollup.vendor_id == w.north_vendor.id)
                             .order_by(InvoiceRollup.status)).all()
        draft = session.get(Invoice, drafted)
        assert (draft.status, draft.total_minor, draft.owner_id) == ("draft_valid", 1_000, w.northwind.id)
        assert session.exec(select(func.count()).select_from(Invoice)
                            .where(Invoice.vendor_id == w.north_vendor.id)).one() == 2
    assert after == before


# --- disputes -------------------------------------------------------------------------------

def test_a_dispute_about_an_invoice_billed_to_the_organization_is_its_suppliers_to_answer(db):
    w = world(db)
    incoming = _bill_fabrikam(db, w, status="approved")
    with _system(db) as session:
        dispute = InvoiceDispute(invoice_id=incoming.id, raised_by_email="ap@fabrikam.example",
                                 reason="We ordered 40 licences, not 50")
        session.add(dispute)
        session.commit()
    with acting(db, w.fab) as session:
        assert disputes.list_disputes(session, w.fab) == ([], 0)
        with pytest.raises(NotFound):
            disputes.dismiss(session, w.fab, dispute.id, "It stands")
        with pytest.raises(NotFound):
            disputes.reissue(session, w.fab, dispute.id, [disputes.CorrectedLine("Licences", "1", "400.00")], "0")
        with pytest.raises(NotFound):
            disputes.original_lines(session, w.fab, dispute.id)
    with _system(db) as session:
        assert session.get(InvoiceDispute, dispute.id).status == "open"
        assert session.get(Invoice, incoming.id).status == "approved"
        assert session.exec(select(func.count()).select_from(Invoice)
                            .where(Invoice.corrects_invoice_id == incoming.id)).one() == 0
    # Northwind, which issued it, answers it.
    with acting(db, w.north) as session:
        rows, total = disputes.list_disputes(session, w.north)
        assert total == 1 and [r.number for r in rows] == [incoming.number]
        credit, revised = disputes.reissue(session, w.north, dispute.id,
                                           [disputes.CorrectedLine("Licences", "1", "400.00")], "0")
        session.commit()
    assert credit.owner_id == revised.owner_id == w.northwind.id


def test_late_deliveries_alert_only_their_own_organizations_team(db):
    w = world(db)
    with _system(db) as session:
        for invoice in (w.north_invoice, w.fab_invoice):
            session.add(EmailDelivery(owner_id=invoice.owner_id, invoice_id=invoice.id, recipient="x@example.com",
                                      subject=f"Invoice {invoice.number}", status="queued", attempts=0,
                                      send_by=utcnow() - timedelta(days=1)))
        session.commit()
        assert dispatch.alert_overdue(session) == 2
        session.commit()
        told = {user_id: (owner, body) for user_id, owner, body in session.exec(
            select(Notification.user_id, Notification.owner_id, Notification.body)
            .where(Notification.user_id.is_not(None))).all()}
    north_owner, north_body = told[w.north.user_id]
    fab_owner, fab_body = told[w.fab.user_id]
    assert north_owner == w.northwind.id and "NW-1" in north_body and "FB-1" not in north_body
    assert fab_owner == w.fabrikam.id and "FB-1" in fab_body and "NW-1" not in fab_body


# --- settings -------------------------------------------------------------------------------

def test_an_organizations_business_settings_reach_only_itself(db):
    w = world(db)
    with acting(db, w.fab) as session:
        # Below the installation's own organization, a letterhead never borrows the
        # installation's: until Fabrikam sets its own, its documents carry its own name.
        assert branding.current(session).company_name == "Fabrikam"
        assert branding.current(session).terms == ""
        # Fabrikam's admin switches off segregation of duties and renames its letterhead.
        app_settings.put(session, w.fab, app_settings.SOD_INVOICE_APPROVAL, False)
        app_settings.put(session, w.fab, app_settings.BRAND_NAME, "Fabrikam Trading")
        session.commit()
    with acting(db, w.north) as session:
        assert app_settings.get(session, app_settings.SOD_INVOICE_APPROVAL) is True
        assert branding.current(session).company_name != "Fabrikam Trading"
        # Northwind's own change stays Northwind's.
        app_settings.put(session, w.north, app_settings.BRAND_NAME, "Northwind Payables")
        session.commit()
    with acting(db, w.fab) as session:
        assert app_settings.get(session, app_settings.SOD_INVOICE_APPROVAL) is False
        assert branding.current(session).company_name == "Fabrikam Trading"
    with _system(db) as session:
        # A job handling both organizations' documents gives each its owner's letterhead.
        docs = invoice_documents.documents_of(session, [session.get(Invoice, w.north_invoice.id),
                                                        session.get(Invoice, w.fab_invoice.id)])
        assert [d.branding.company_name for d in docs.values()] == ["Northwind Payables", "Fabrikam Trading"]
        # Neither organization's admin changed the installation's value.
        assert app_settings.get(session, app_settings.SOD_INVOICE_APPROVAL) is True
    with acting(db, w.fab) as session:
        # Installation-wide settings stay the platform admin's.
        with pytest.raises(PermissionDenied):
            app_settings.put(session, w.fab, app_settings.MAX_RATE_AGE_DAYS, 1)
