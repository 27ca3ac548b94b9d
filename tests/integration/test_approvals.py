"""The approval controls a finance team relies on, through the service layer."""
import json

import pytest
from sqlalchemy import func
from sqlmodel import select

from tests.helpers import SYSTEM, make_invoice, make_user, vendor_input
from vrm_dashboard.db.models import (
    AuditEntry,
    Invoice,
    InvoiceApproval,
    InvoiceRollup,
    Notification,
    Vendor,
    VendorBalance,
)
from vrm_dashboard.domain.invoice_rules import InvoiceEdit
from vrm_dashboard.services.invoices import (
    approvals,
    flags as invoice_flags,
    queries as invoice_queries,
    records as invoices,
    rollup as invoice_rollup,
)
from vrm_dashboard.services.invoices.approvals import Selection
from vrm_dashboard.services.platform import settings as app_settings
from vrm_dashboard.services.platform.errors import Conflict, FieldErrors, PermissionDenied
from vrm_dashboard.services.vendors import portal, records as vendor_service


@pytest.fixture
def book(session):
    """A vendor, a finance manager who submitted invoices, and two approvers."""
    finance = make_user(session, "finance_manager")
    first = make_user(session, "approver", email="first@test.example")
    second = make_user(session, "approver", email="second@test.example")
    vendor = vendor_service.create_vendor(session, finance, vendor_input())
    small = make_invoice(session, vendor.id, "S-1", 50_000)             # EUR 500.00
    large = make_invoice(session, vendor.id, "L-1", 2_000_000)          # EUR 20,000.00: two approvers
    by_finance = make_invoice(session, vendor.id, "F-1", 70_000)
    by_finance.created_by_id = finance.user_id
    invoice_rollup.refresh(session, [vendor.id])
    session.commit()
    return dict(finance=finance, first=first, second=second, vendor=vendor, small=small, large=large,
                by_finance=by_finance)


def _status(session, invoice):
    session.expire_all()
    return session.get(Invoice, invoice.id).status


def test_a_small_invoice_is_approved_by_one_approver_and_audited(session, book):
    result = approvals.approve(session, book["first"], Selection([book["small"].id]))
    session.commit()
    assert (result.moved, result.refused_count) == (1, 0)
    assert _status(session, book["small"]) == "approved"
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "invoice.approved")).one()
    assert entry.actor_label == "first@test.example" and entry.object_id == str(book["small"].id)
    assert json.loads(entry.before) == {"status": "pending"}


def test_above_the_threshold_two_distinct_approvers_are_needed(session, book):
    first = approvals.approve(session, book["first"], Selection([book["large"].id]))
    session.commit()
    assert (first.moved, first.awaiting_second_approval) == (0, 1)
    assert _status(session, book["large"]) == "pending"
    again = approvals.approve(session, book["first"], Selection([book["large"].id]))
    assert again.refused_by_reason == {"You already approved it; a second approver is needed": 1}
    second = approvals.approve(session, book["second"], Selection([book["large"].id]))
    session.commit()
    assert second.moved == 1 and _status(session, book["large"]) == "approved"


def test_whoever_submitted_or_last_edited_an_invoice_cannot_approve_it(session, book):
    result = approvals.approve(session, book["finance"], Selection([book["by_finance"].id]))
    assert result.moved == 0
    assert result.refused[0].reason == "You created it (segregation of duties)"
    editor = make_user(session, "finance_manager", email="editor@test.example")
    invoices.edit_invoice(session, editor, book["small"].id, InvoiceEdit(
        "S-1", "2026-11-01", "2026-12-01", "EUR", "450.00", "50.00", "500.00"))
    invoices.submit_invoice(session, editor, book["small"].id)
    session.commit()
    refused = approvals.approve(session, editor, Selection([book["small"].id]))
    assert refused.refused[0].reason == "You last edited it (segregation of duties)"
    assert approvals.approve(session, book["first"], Selection([book["small"].id])).moved == 1


def test_whoever_submitted_an_imported_invoice_cannot_approve_it_unless_the_control_is_off(session, book):
    # An import (or the mailbox) created it: no creator, no editor. The submitter is the only person.
    imported = make_invoice(session, book["vendor"].id, "M-1", 30_000, "draft_valid")
    by_job = make_invoice(session, book["vendor"].id, "M-2", 30_000, "draft_valid")
    invoice_rollup.refresh(session, [book["vendor"].id])
    invoices.submit_invoice(session, book["finance"], imported.id)
    invoices.submit_invoice(session, SYSTEM, by_job.id)
    session.commit()
    assert (imported.submitted_by_id, by_job.submitted_by_id) == (book["finance"].user_id, None)
    refused = approvals.approve(session, book["finance"], Selection([imported.id]))
    assert refused.moved == 0 and refused.refused_by_reason == {"You submitted it (segregation of duties)": 1}
    assert _status(session, imported) == "pending"
    # The setting keeps its meaning: switched off, the submitter may approve.
    app_settings.put(session, SYSTEM, app_settings.SOD_INVOICE_APPROVAL, False)
    session.commit()
    assert approvals.approve(session, book["finance"], Selection([imported.id, by_job.id])).moved == 2


def test_a_withdrawn_approval_keeps_the_submitter_on_record(session, book):
    draft = make_invoice(session, book["vendor"].id, "W-1", 30_000, "draft_valid")
    invoice_rollup.refresh(session, [book["vendor"].id])
    invoices.submit_invoice(session, book["finance"], draft.id)
    assert approvals.approve(session, book["first"], Selection([draft.id])).moved == 1
    session.commit()
    session.expire_all()
    admin = make_user(session, "admin")
    invoices.move_invoice(session, admin, draft.id, "pending")
    session.commit()
    assert _status(session, draft) == "pending" and draft.submitted_by_id == book["finance"].user_id


def test_invoices_of_a_vendor_on_hold_cannot_be_approved(session, book):
    vendor = session.get(Vendor, book["vendor"].id)
    vendor.activity_status = "on_hold"
    session.add(vendor)
    session.commit()
    result = approvals.approve(session, book["first"], Selection([book["small"].id]))
    assert result.refused_by_reason == {"Vendor is on hold": 1} and result.moved == 0


def test_bulk_approval_of_a_filter_moves_the_eligible_and_reports_the_rest(session, book):
    make_invoice(session, book["vendor"].id, "D-1", 10_000, "draft")
    invoice_rollup.refresh(session, [book["vendor"].id])
    session.commit()
    result = approvals.approve(session, book["first"], Selection(query=invoice_queries.InvoiceQuery()))
    session.commit()
    assert result.moved == 2                  # S-1 and F-1
    assert result.awaiting_second_approval == 1   # L-1
    assert result.refused_by_reason == {"Not in Pending": 1}
    assert "2 approved" in result.summary("approved")
    def rollups():
        statuses = sorted(tuple(r) for r in session.exec(select(
            InvoiceRollup.vendor_id, InvoiceRollup.currency, InvoiceRollup.status, InvoiceRollup.invoice_count,
            InvoiceRollup.amount_minor).where(InvoiceRollup.invoice_count > 0)).all())
        balances = sorted(tuple(r) for r in session.exec(select(
            VendorBalance.vendor_id, VendorBalance.currency, VendorBalance.invoiced_minor,
            VendorBalance.paid_minor, VendorBalance.open_minor)).all())
        return statuses, balances

    stored = rollups()
    invoice_rollup.refresh(session)
    assert rollups() == stored


def test_rejecting_needs_a_reason_and_tells_the_vendor(session, book):
    with pytest.raises(FieldErrors):
        approvals.reject(session, book["first"], Selection([book["small"].id]), "  ")
    approvals.approve(session, book["first"], Selection([book["large"].id]))
    result = approvals.reject(session, book["second"], Selection([book["large"].id]), "Wrong VAT rate")
    session.commit()
    assert result.moved == 1 and _status(session, book["large"]) == "rejected"
    note = session.exec(select(Notification)).one()
    assert note.vendor_id == book["vendor"].id and note.subject == "Invoice L-1 was rejected"
    assert session.exec(select(func.count()).select_from(InvoiceApproval)).one() == 0
    vendor_user = make_user(session, "vendor", email="acme@test.example", vendor_id=book["vendor"].id)
    assert [n.subject for n in portal.own_notifications(session, vendor_user)] == ["Invoice L-1 was rejected"]
    stranger = make_user(session, "vendor", email="other@test.example")
    with pytest.raises(PermissionDenied):
        portal.own_notifications(session, stranger)


def test_roles_without_the_permission_are_refused(session, book):
    viewer = make_user(session, "viewer")
    with pytest.raises(PermissionDenied):
        approvals.approve(session, viewer, Selection([book["small"].id]))
    with pytest.raises(PermissionDenied):
        approvals.reject(session, viewer, Selection([book["small"].id]), "no")


def test_editing_validates_again_and_changes_nothing_on_bad_input(session, book):
    with pytest.raises(FieldErrors) as caught:
        invoices.edit_invoice(session, book["finance"], book["small"].id, InvoiceEdit(
            "S-1", "2026-11-01", "2026-10-01", "EUX", "1", "1", "3"))
    assert set(caught.value.errors) == {"due_date", "currency"}
    with pytest.raises(FieldErrors) as caught:
        invoices.edit_invoice(session, book["finance"], book["small"].id, InvoiceEdit(
            "S-1", "2026-11-01", "", "EUR", "400.00", "50.00", "500.00"))
    assert "must match" in caught.value.errors["total"]
    session.rollback()
    assert _status(session, book["small"]) == "pending"


def test_only_drafts_are_deleted_and_others_archived(session, book):
    draft = make_invoice(session, book["vendor"].id, "D-9", 10_000, "draft")
    session.commit()
    with pytest.raises(Conflict):
        invoices.delete_draft(session, book["finance"], book["small"].id)
    invoices.delete_draft(session, book["finance"], draft.id)
    session.commit()
    assert session.get(Invoice, draft.id) is None


def test_reconciliation_flags_mismatches_missing_sources_and_duplicates(session, book):
    vendor_id = book["vendor"].id
    ok = make_invoice(session, vendor_id, "R-OK", 100_000)
    ok.source_amount_minor = 100_000
    within = make_invoice(session, vendor_id, "R-NEAR", 100_100)   # 0.1% off: within 0.5%
    within.source_amount_minor = 100_000
    off = make_invoice(session, vendor_id, "R-OFF", 110_000)
    off.source_amount_minor = 100_000
    twin = make_invoice(session, vendor_id, "R-TWIN", 100_000)       # same vendor, amount, date as R-OK
    twin.source_amount_minor = 100_000
    session.flush()
    invoice_flags.reconcile(session)
    session.commit()
    flags = invoice_flags.flags_of(session, [ok.id, within.id, off.id, twin.id, book["small"].id])
    assert flags[ok.id] == ["duplicate"] and flags[twin.id] == ["duplicate"]
    assert within.id not in flags
    assert flags[off.id] == ["amount_mismatch"]
    assert flags[book["small"].id] == ["missing_source"]
    page = invoice_queries.list_invoices(session, book["first"], invoice_queries.InvoiceQuery(flag="amount_mismatch"))
    assert [r.number for r in page.rows] == ["R-OFF"]


def test_the_list_filters_sorts_and_totals_per_status_and_currency(session, book):
    make_invoice(session, book["vendor"].id, "U-1", 12_345, "approved", currency="USD")
    session.commit()
    invoice_rollup.refresh(session)
    page = invoice_queries.list_invoices(session, book["first"], invoice_queries.InvoiceQuery(sort="amount", descending=True))
    assert [r.number for r in page.rows] == ["L-1", "F-1", "S-1", "U-1"]
    totals = {(t.status, t.currency): (t.count, t.amount_minor) for t in page.totals}
    assert totals == {("pending", "EUR"): (3, 2_120_000), ("approved", "USD"): (1, 12_345)}
    ranged = invoice_queries.list_invoices(session, book["first"], invoice_queries.InvoiceQuery(
        amount_min="600", amount_max="20000"))
    assert sorted(r.number for r in ranged.rows) == ["F-1", "L-1"]
    assert ranged.total_rows == 2
    assert invoice_queries.list_invoices(session, book["first"], invoice_queries.InvoiceQuery(
        statuses=["approved"])).total_rows == 1
