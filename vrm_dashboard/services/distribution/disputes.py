"""Disputes: a recipient reports a problem with an invoice it was sent; the team dismisses it
or re-issues the invoice corrected. A re-issue cancels the original with a credit note and
issues a numbered revision (<number>-R1, -R2, ...); both go to the recipient at once.

The team's side (the list, dismissing, re-issuing) is the issuing organization's: it works only
on disputes of invoices its organization owns. A customer reads the receivables billed to it,
but a dispute about one is its supplier's to answer: to the customer it is not there."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from vrm_dashboard.db.models import (
    DisputeStatus,
    DocumentType,
    EmailDelivery,
    Invoice,
    InvoiceDispute,
    InvoiceLine,
    Notification,
    stored_id,
    utcnow,
)
from vrm_dashboard.domain.invoice_status import InvoiceStatus as S
from vrm_dashboard.domain.money import Money, MoneyError, to_major_string
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.distribution import delivered_documents, dispatch as distribution
from vrm_dashboard.services.invoices import moves as invoice_moves, queries as invoice_queries, rollup as invoice_rollup
from vrm_dashboard.services.payouts import records as payouts
from vrm_dashboard.services.platform import audit
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import Conflict, FieldErrors, NotFound, PermissionDenied

MAX_REASON = 2000


def _sent_delivery(session: Session, invoice_id: int) -> EmailDelivery | None:
    return session.execute(select(EmailDelivery).where(
        col(EmailDelivery.invoice_id) == invoice_id, col(EmailDelivery.sent_at).is_not(None))).scalar_one_or_none()


def _disputed_invoice(session: Session, dispute: InvoiceDispute) -> Invoice:
    invoice = session.get(Invoice, dispute.invoice_id)
    if invoice is None:  # a foreign key: only a damaged database gets here
        raise NotFound(f"No invoice {dispute.invoice_id}")
    return invoice


def _open(session: Session, invoice: Invoice, reason: str, user_id: int | None, email: str | None) -> InvoiceDispute:
    reason = (reason or "").strip()
    if not reason:
        raise FieldErrors({"reason": "Say what is wrong with the invoice"})
    dispute = InvoiceDispute(invoice_id=stored_id(invoice), raised_by_user_id=user_id, raised_by_email=email,
                             reason=reason[:MAX_REASON])
    session.add(dispute)
    session.flush()
    distribution.alert_team(session, f"Invoice {invoice.number} disputed",
                            f"{email or 'The vendor'} reports: {dispute.reason[:500]}", owner_id=invoice.owner_id)
    return dispute


def dispute_from_portal(session: Session, actor: Actor, invoice_id: int, reason: str) -> InvoiceDispute:
    """A vendor disputes one of its own invoices that it was sent."""
    require(actor, Action.PORTAL_USE)
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or actor.vendor_id is None or invoice.vendor_id != actor.vendor_id:
        raise PermissionDenied("You may only dispute your own invoices")
    if _sent_delivery(session, invoice_id) is None:
        raise Conflict("This invoice has not been sent to you")
    dispute = _open(session, invoice, reason, actor.user_id, actor.email)
    audit.record(session, actor, "dispute.open", "invoice_dispute", dispute.id, before=None, after=dispute)
    return dispute


def dispute_by_link(session: Session, token: str, reason: str) -> InvoiceDispute:
    """The recipient disputes through the link in the e-mail: the token proves who it went to."""
    delivery = delivered_documents.delivery_of_link(session, token)
    if delivery is None or delivery.invoice_id is None or delivery.sent_at is None:
        raise NotFound("This link is not valid")
    invoice = session.get(Invoice, delivery.invoice_id)
    if invoice is None:  # a foreign key: only a damaged database gets here
        raise NotFound("This link is not valid")
    dispute = _open(session, invoice, reason, None, delivery.recipient)
    audit.record(session, Actor.system(f"recipient {delivery.recipient}"), "dispute.open", "invoice_dispute",
                 dispute.id, before=None, after=dispute)
    return dispute


@dataclass
class DisputeRow:
    id: int
    invoice_id: int
    number: str
    raised_by: str
    reason: str
    status: str
    created_at: str
    resolution: str
    reissued_number: str


def list_disputes(session: Session, actor: Actor, status: str | None = DisputeStatus.OPEN.value,
                  limit: int = 50, offset: int = 0) -> tuple[list[DisputeRow], int]:
    require(actor, Action.DISTRIBUTION_VIEW)
    # An ORM alias, not a Core one: the session's scoping hook sees it (include_aliases).
    revision = aliased(Invoice, name="revision")
    owned = invoice_queries.owned_invoices(session)
    query = (select(InvoiceDispute, col(Invoice.number), col(revision.number))
             .join(Invoice, col(Invoice.id) == InvoiceDispute.invoice_id)
             .outerjoin(revision, col(revision.id) == InvoiceDispute.reissued_invoice_id)
             .where(owned))
    count = (select(func.count()).select_from(InvoiceDispute)
             .join(Invoice, col(Invoice.id) == InvoiceDispute.invoice_id).where(owned))
    if status:
        query, count = query.where(col(InvoiceDispute.status) == status), \
            count.where(col(InvoiceDispute.status) == status)
    rows = session.execute(query.order_by(col(InvoiceDispute.id).desc()).limit(limit).offset(offset)).all()
    return [DisputeRow(d.id, d.invoice_id, number, d.raised_by_email or "", d.reason, d.status,
                       f"{d.created_at:%Y-%m-%d %H:%M}", d.resolution or "", reissued or "")
            for d, number, reissued in rows], int(session.execute(count).scalar() or 0)


def _owned_dispute(session: Session, dispute_id: int) -> InvoiceDispute:
    """A dispute about an invoice the session's organizations own; any other answers as missing."""
    dispute = session.execute(select(InvoiceDispute).where(
        col(InvoiceDispute.id) == dispute_id,
        col(InvoiceDispute.invoice_id).in_(select(col(Invoice.id)).where(invoice_queries.owned_invoices(session))),
    )).scalar_one_or_none()
    if dispute is None:
        raise NotFound(f"No dispute {dispute_id}")
    return dispute


def _resolvable(session: Session, dispute_id: int) -> InvoiceDispute:
    dispute = _owned_dispute(session, dispute_id)
    if dispute.status != DisputeStatus.OPEN.value:
        raise Conflict(f"This dispute is already {dispute.status}")
    return dispute


def _tell_recipient(session: Session, invoice: Invoice, subject: str, body: str) -> None:
    if invoice.vendor_id is not None and invoice.organization_id is None:
        # The invoice's organization's notice, whoever sends it (a job has no home organization).
        session.add(Notification(owner_id=invoice.owner_id, vendor_id=invoice.vendor_id, invoice_id=invoice.id,
                                 subject=subject[:200], body=body))


def dismiss(session: Session, actor: Actor, dispute_id: int, answer: str) -> InvoiceDispute:
    require(actor, Action.DISTRIBUTION_MANAGE)
    dispute = _resolvable(session, dispute_id)
    if not (answer or "").strip():
        raise FieldErrors({"answer": "Tell the recipient why the invoice stands"})
    before = audit.snapshot(dispute)
    dispute.status, dispute.resolution = DisputeStatus.DISMISSED.value, answer.strip()[:MAX_REASON]
    dispute.resolved_at, dispute.resolved_by_id = utcnow(), actor.user_id
    session.add(dispute)
    invoice = _disputed_invoice(session, dispute)
    _tell_recipient(session, invoice, f"Your report on invoice {invoice.number}", dispute.resolution)
    audit.record(session, actor, "dispute.dismiss", "invoice_dispute", dispute.id, before=before, after=dispute)
    return dispute


@dataclass(frozen=True)
class CorrectedLine:
    description: str
    quantity: str
    unit_price: str


def _clean_lines(lines: list[CorrectedLine], currency: str) -> list[tuple[str, Decimal, int, int]]:
    if not lines:
        raise FieldErrors({"lines": "A corrected invoice needs at least one line"})
    clean = []
    for n, line in enumerate(lines, start=1):
        description = (line.description or "").strip()
        if not description:
            raise FieldErrors({"lines": f"Line {n} has no description"})
        try:
            quantity = Decimal(str(line.quantity).strip())
            price = Money.parse(str(line.unit_price).strip(), currency).minor
        except (InvalidOperation, MoneyError, ValueError):
            raise FieldErrors({"lines": f"Line {n}: quantity and unit price must be numbers"}) from None
        if quantity <= 0 or price < 0:
            raise FieldErrors({"lines": f"Line {n}: quantity must be above 0 and the price not negative"})
        amount = (quantity * price).quantize(Decimal(1), rounding="ROUND_HALF_EVEN")
        clean.append((description[:255], quantity, price, int(amount)))
    return clean


def _copy(invoice: Invoice, number: str, document_type: str, status: str, revision: int, actor: Actor,
          subtotal: int, tax: int) -> Invoice:
    return Invoice(
        number=number, kind=invoice.kind, vendor_id=invoice.vendor_id, organization_id=invoice.organization_id,
        owner_id=invoice.owner_id,
        vendor_invoice_number=invoice.vendor_invoice_number, billing_period=invoice.billing_period,
        currency=invoice.currency, subtotal_minor=subtotal, tax_minor=tax, total_minor=subtotal + tax,
        issue_date=utcnow().date(), posting_date=invoice.posting_date, due_date=invoice.due_date,
        payment_terms_days=invoice.payment_terms_days, payment_method=invoice.payment_method, status=status,
        document_type=document_type, corrects_invoice_id=invoice.id, revision=revision,
        created_by_id=actor.user_id, updated_by_id=actor.user_id, submitted_by_id=invoice.submitted_by_id)


def _revision_status(original: Invoice, total_minor: int) -> str:
    """Where a corrected revision starts. A bill we owe a vendor at a new amount is approved
    afresh, with all of approval's controls (the re-issuer submitted it); at the same amount it
    stands where its original stood, owed again after a failed payment. A customer's invoice
    stays owed as it was."""
    was = S(original.status)
    if original.vendor_id is not None and was in (S.APPROVED, S.FAILED) and total_minor != original.total_minor:
        return S.PENDING.value
    return S.APPROVED.value if was is S.FAILED else was.value


def reissue(session: Session, actor: Actor, dispute_id: int, lines: list[CorrectedLine],
            tax_rate_percent: str, note: str = "") -> tuple[Invoice, Invoice]:
    """Cancel the disputed invoice with a credit note and issue its corrected revision.

    A paid invoice keeps its payment: the revision is paid by it, so its total may not change.
    An approved one gives up its waiting payout and the revision gets a new one.
    """
    require(actor, Action.DISTRIBUTION_MANAGE)
    dispute = _resolvable(session, dispute_id)
    original = _disputed_invoice(session, dispute)
    if original.status == S.PROCESSING.value:
        raise Conflict("This invoice is being paid right now; re-issue it once the payment is confirmed or failed")
    if original.status == S.ARCHIVED.value:
        raise Conflict("This invoice is archived (perhaps already re-issued)")
    if original.document_type == DocumentType.CREDIT_NOTE.value:
        raise Conflict("A credit note is corrected by re-issuing the invoice it cancels")
    clean = _clean_lines(lines, original.currency)
    try:
        rate = Decimal(str(tax_rate_percent).strip() or "0")
    except InvalidOperation:
        raise FieldErrors({"tax_rate": "The tax rate is a number of percent, e.g. 19"}) from None
    if not 0 <= rate <= 100:
        raise FieldErrors({"tax_rate": "The tax rate is between 0 and 100 percent"})
    subtotal = sum(amount for *_rest, amount in clean)
    tax = int((Decimal(subtotal) * rate / 100).quantize(Decimal(1), rounding="ROUND_HALF_EVEN"))
    was = original.status
    if was == S.PAID.value and subtotal + tax != original.total_minor:
        raise Conflict(f"Invoice {original.number} is paid; its corrected total must stay "
                       f"{to_major_string(original.total_minor, original.currency)} {original.currency}. "
                       "Bill a difference separately.")
    base = original.number[:-len(f"-R{original.revision}")] if original.revision else original.number
    revision_no = original.revision + 1
    keeps_status = was == S.PAID.value
    credit = _copy(original, f"CN-{original.number}"[:64], DocumentType.CREDIT_NOTE.value,
                   S.PAID.value if keeps_status else S.ARCHIVED.value, 0, actor,
                   -original.subtotal_minor, -original.tax_minor)
    revised = _copy(original, f"{base}-R{revision_no}"[:64], DocumentType.INVOICE.value,
                    _revision_status(original, subtotal + tax), revision_no, actor, subtotal, tax)
    if revised.status == S.PENDING.value and was != S.PENDING.value:
        revised.submitted_by_id = actor.user_id  # the re-issuer sent it to approval: not its approver
    before = audit.snapshot(original)
    if was in (S.APPROVED.value, S.FAILED.value):
        # The old amount is never paid: the original's waiting or failed payout is voided.
        payouts.withdraw_for_invoice(session, actor, stored_id(original), reason="Its invoice was re-issued")
    if not keeps_status:
        invoice_moves.move_invoice(session, actor, original, S.ARCHIVED, action="invoice.reissued")
    session.add_all([credit, revised])
    session.flush()
    credit_id, revised_id = stored_id(credit), stored_id(revised)
    for position, (description, quantity, price, amount) in enumerate(clean, start=1):
        session.add(InvoiceLine(invoice_id=revised_id, position=position, description=description,
                                quantity=quantity, unit_price_minor=price, amount_minor=amount))
    for line in session.execute(select(InvoiceLine).where(col(InvoiceLine.invoice_id) == original.id)).scalars().all():
        session.add(InvoiceLine(invoice_id=credit_id, position=line.position, description=line.description,
                                quantity=line.quantity, unit_price_minor=-line.unit_price_minor,
                                amount_minor=-line.amount_minor))
    session.flush()
    if revised.status == S.APPROVED.value and revised.vendor_id is not None:
        payouts.create_for_approved(session, actor, col(Invoice.id) == revised.id)
    if original.vendor_id is not None:
        invoice_rollup.refresh(session, [original.vendor_id])
    dispute_before = audit.snapshot(dispute)
    dispute.status, dispute.resolved_at, dispute.resolved_by_id = DisputeStatus.REISSUED.value, utcnow(), actor.user_id
    dispute.credit_note_id, dispute.reissued_invoice_id = credit.id, revised.id
    note = (note or "").strip()[:MAX_REASON]
    dispute.resolution = note or f"Re-issued as {revised.number}"
    session.add(dispute)
    distribution.queue_now(session, actor, [credit, revised])
    _tell_recipient(session, revised, f"Invoice {original.number} re-issued as {revised.number}",
                    f"We cancelled {original.number} with credit note {credit.number} and issued {revised.number}."
                    + (f" {note}" if note else ""))
    audit.record(session, actor, "invoice.reissue", "invoice", original.id, before=before,
                 after={"status": original.status, "credit_note": credit.number, "revision": revised.number})
    audit.record(session, actor, "dispute.reissue", "invoice_dispute", dispute.id, before=dispute_before, after=dispute)
    return credit, revised


def original_lines(session: Session, actor: Actor, dispute_id: int) -> tuple[list[CorrectedLine], str]:
    """The disputed invoice's lines and tax rate, as the starting point of a correction."""
    require(actor, Action.DISTRIBUTION_VIEW)
    dispute = _owned_dispute(session, dispute_id)
    invoice = _disputed_invoice(session, dispute)
    lines = [CorrectedLine(line.description, format(line.quantity.normalize(), "f"),
                           to_major_string(line.unit_price_minor, invoice.currency))
             for line in session.execute(select(InvoiceLine).where(col(InvoiceLine.invoice_id) == invoice.id)
                                         .order_by(col(InvoiceLine.position))).scalars()]
    rate = (Decimal(invoice.tax_minor) * 100 / Decimal(invoice.subtotal_minor)).quantize(Decimal("0.01")) \
        if invoice.subtotal_minor else Decimal(0)
    return lines, format(rate.normalize(), "f")

