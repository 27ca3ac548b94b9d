"""Changing one invoice: status moves through the one status machine, editing, submitting,
deleting drafts and archiving."""
from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlmodel import Session, col

from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import (
    ActivityRecord,
    Intake,
    Invoice,
    InvoiceApproval,
    InvoiceExtraction,
    InvoiceFlag,
    InvoiceKind,
    InvoiceLine,
    Notification,
    stored_id,
    utcnow,
)
from vrm_dashboard.domain.invoice_rules import InvoiceEdit, validate_invoice
from vrm_dashboard.domain.invoice_status import InvoiceStatus, check_move, parse_status
from vrm_dashboard.domain.money import to_major_string
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.intake import invoice_files as invoice_intake, reading_hints
from vrm_dashboard.services.invoices import (
    flags as invoice_flags,
    moves as invoice_moves,
    queries as invoice_queries,
    rollup as invoice_rollup,
)
from vrm_dashboard.services.payouts import records as payouts
from vrm_dashboard.services.platform import audit
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import Conflict, FieldErrors, NotFound

S = InvoiceStatus
_PERMISSION_FOR_TARGET = {
    S.APPROVED: Action.INVOICE_APPROVE,
    S.REJECTED: Action.INVOICE_REJECT,
}
EDITABLE = frozenset({S.DRAFT.value, S.DRAFT_VALID.value, S.PENDING.value, S.REJECTED.value})
# Processing, Paid and Failed follow the money: only the payout flow moves invoices there.
PAYMENT_OWNED = frozenset({S.PROCESSING, S.PAID, S.FAILED})
DELETABLE = frozenset({S.DRAFT.value, S.DRAFT_VALID.value})
# A move to Pending from these is a submission. From Approved it is a withdrawn approval: the
# invoice goes back to the queue its submitter sent it to, and the submitter stays on record.
SUBMITTED_FROM = frozenset({S.DRAFT, S.DRAFT_VALID})


def get_invoice(session: Session, invoice_id: int) -> Invoice:
    """An invoice to change: one the session's organizations own. Another organization's, and
    a receivable the organization is only billed by (it reads it, never changes it), answer
    as a missing one."""
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or not invoice_queries.owns(session, invoice):
        raise NotFound(f"No invoice with id {invoice_id}")
    if session.get_bind().dialect.name == "postgresql":
        # Held, and read afresh, until the change is made: an approval or a payout run committing
        # meanwhile would otherwise be overwritten by what was read before it.
        session.refresh(invoice, with_for_update=True)
    return invoice


def _after_change(session: Session, invoice: Invoice, also_reconcile: list[int] | None = None) -> None:
    if invoice.vendor_id is not None:
        invoice_rollup.refresh(session, [invoice.vendor_id])
    invoice_flags.reconcile(session, [stored_id(invoice), *invoice_flags.duplicate_partners(session, invoice),
                                       *(also_reconcile or [])])


def move_invoice(session: Session, actor: Actor, invoice_id: int, target: InvoiceStatus | str) -> Invoice:
    """Move an invoice to another status; an illegal move raises and changes nothing.

    Approvals go through services.invoices.approvals, which applies the approval controls.
    """
    target = parse_status(target) if isinstance(target, str) else target
    require(actor, _PERMISSION_FOR_TARGET.get(target, Action.INVOICE_EDIT))
    if target in (S.APPROVED, S.REJECTED):
        raise Conflict("Approve and reject through the approval flow, which applies its controls")
    invoice = get_invoice(session, invoice_id)
    check_move(S(invoice.status), target, receivable=invoice.organization_id is not None)
    if target in PAYMENT_OWNED or S(invoice.status) is S.PROCESSING:
        raise Conflict("Payments move invoices to Processing, Paid or Failed: use Smart Payouts")
    if S(invoice.status) in (S.APPROVED, S.FAILED):
        # An invoice sent back or archived is not paid: its waiting or failed payout is voided,
        # unless a payout run has it already.
        payouts.withdraw_for_invoice(session, actor, stored_id(invoice), reason=(
            "Its invoice's approval was withdrawn" if target is S.PENDING else f"Its invoice was {target.label.lower()}"))
    submitting = target is S.PENDING and S(invoice.status) in SUBMITTED_FROM
    # The submitter may not approve it (segregation of duties); a system submit is no one's.
    invoice_moves.move_invoice(session, actor, invoice, target,
                               values={"submitted_by_id": actor.user_id} if submitting else None)
    _after_change(session, invoice)
    return invoice


def edit_input_of(invoice: Invoice) -> InvoiceEdit:
    major = lambda minor: to_major_string(minor, invoice.currency)  # noqa: E731
    return InvoiceEdit(
        number=invoice.number, issue_date=invoice.issue_date.isoformat(),
        due_date=invoice.due_date.isoformat() if invoice.due_date else "", currency=invoice.currency,
        subtotal=major(invoice.subtotal_minor), tax=major(invoice.tax_minor), total=major(invoice.total_minor),
        vendor_invoice_number=invoice.vendor_invoice_number or "",
    )


def edit_invoice(session: Session, actor: Actor, invoice_id: int, edit: InvoiceEdit) -> Invoice:
    """Save edited fields after validating them again. The invoice goes back to Draft Valid
    (to be submitted again), its earlier approvals lapse, and the editor may not approve it."""
    require(actor, Action.INVOICE_EDIT)
    invoice = get_invoice(session, invoice_id)
    if invoice.status not in EDITABLE:
        raise Conflict(f"An invoice in {S(invoice.status).label} can no longer be edited")
    lines_total = session.execute(
        select(func.sum(col(InvoiceLine.amount_minor))).where(col(InvoiceLine.invoice_id) == invoice_id)
    ).scalar()
    clean = validate_invoice(edit, int(lines_total) if lines_total is not None else None)
    # Our invoice numbers are the installation's (each is unique in every organization): a number
    # is free only if no organization has it. The answer names nothing but the number typed.
    with tenancy.looking_past_scope(session):
        clash = session.execute(
            select(col(Invoice.id)).where(col(Invoice.number) == clean.number, col(Invoice.id) != invoice_id)).first()
    if clash:
        raise FieldErrors({"number": f"Invoice number {clean.number} is already used"})
    before = audit.snapshot(invoice)
    old_partners = invoice_flags.duplicate_partners(session, invoice)
    invoice.number, invoice.issue_date, invoice.due_date = clean.number, clean.issue_date, clean.due_date
    invoice.currency = clean.currency
    invoice.subtotal_minor, invoice.tax_minor, invoice.total_minor = clean.subtotal_minor, clean.tax_minor, clean.total_minor
    if invoice.kind == InvoiceKind.PARSED.value:
        invoice.vendor_invoice_number = clean.vendor_invoice_number
    changed = {k for k, v in audit.snapshot(invoice).items() if before.get(k) != v}
    if not changed:
        return invoice
    # An edit sends the invoice back through validation: Pending/Rejected -> Draft -> Draft Valid.
    current = S(invoice.status)
    if current is not S.DRAFT_VALID:
        if current is not S.DRAFT:
            check_move(current, S.DRAFT)
        check_move(S.DRAFT, S.DRAFT_VALID)
    invoice.status = S.DRAFT_VALID.value
    invoice.updated_by_id = actor.user_id
    invoice.updated_at = utcnow()
    session.add(invoice)
    session.execute(delete(InvoiceApproval).where(col(InvoiceApproval.invoice_id) == invoice_id))
    session.flush()
    audit.record(session, actor, "invoice.edit", "invoice", invoice.id, before=before, after=invoice)
    _after_change(session, invoice, old_partners)
    if invoice.kind == InvoiceKind.PARSED.value:
        # A parsed invoice also needs its vendor matched and no duplicate before it is valid.
        invoice_intake.revalidate(session, invoice)
        # A correction teaches the vendor where it prints that field (its next invoices are read there).
        reading_hints.note_corrections(session, invoice, changed, actor.user_id)
    return invoice


def submit_invoice(session: Session, actor: Actor, invoice_id: int) -> Invoice:
    """Send a valid draft to the approval queue."""
    return move_invoice(session, actor, invoice_id, S.PENDING)


def archive_invoice(session: Session, actor: Actor, invoice_id: int) -> Invoice:
    return move_invoice(session, actor, invoice_id, S.ARCHIVED)


def delete_draft(session: Session, actor: Actor, invoice_id: int) -> None:
    """Delete an invoice that never left draft; anything further along is archived instead."""
    require(actor, Action.INVOICE_EDIT)
    invoice = get_invoice(session, invoice_id)
    if invoice.status not in DELETABLE:
        raise Conflict(f"Only drafts can be deleted; archive an invoice in {S(invoice.status).label} instead")
    before = audit.snapshot(invoice)
    partners = invoice_flags.duplicate_partners(session, invoice)
    vendor_id = invoice.vendor_id
    for table in (InvoiceLine, InvoiceFlag, InvoiceApproval, Notification, InvoiceExtraction):
        session.execute(delete(table).where(col(table.invoice_id) == invoice_id))
    # The intake stays on record; a deleted self-generated draft's activity is billable again.
    session.execute(update(Intake).where(col(Intake.invoice_id) == invoice_id).values(invoice_id=None))
    session.execute(update(ActivityRecord).where(col(ActivityRecord.vendor_id) == vendor_id,
                                                 col(ActivityRecord.invoice_id) == invoice_id).values(invoice_id=None))
    session.delete(invoice)
    session.flush()
    audit.record(session, actor, "invoice.delete", "invoice", invoice_id, before=before)
    if vendor_id is not None:
        invoice_rollup.refresh(session, [vendor_id])
    invoice_flags.reconcile(session, partners)
