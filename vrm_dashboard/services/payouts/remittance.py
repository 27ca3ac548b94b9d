"""The remittance advice of a paid transfer: a PDF naming the payment and the invoices it
covers. Made on first request from the ledger and stored, so every later copy is the same."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fpdf import FPDF
from sqlalchemy import Row, select
from sqlmodel import Session, col
from text_unidecode import unidecode

from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import Invoice, PaymentTransaction, Payout, StoredDocument, Vendor
from vrm_dashboard.db.models.payouts import TransactionStatus
from vrm_dashboard.domain.money import to_major_string
from vrm_dashboard.domain.payout_rules import RAIL_LABELS, Rail
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.payouts.payer import payer_account
from vrm_dashboard.services.platform import documents
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import Conflict, NotFound, PermissionDenied


def _text(value: str | None) -> str:
    # The PDF core fonts are Latin-1; other scripts are transliterated rather than dropped.
    value = value or ""
    return "".join(c if ord(c) < 256 else unidecode(c) for c in value)


def _amount(minor: int, currency: str) -> str:
    return f"{to_major_string(minor, currency)} {currency}"


def _render(transaction: PaymentTransaction, paid_at: datetime, vendor: Vendor,
            rows: Sequence[Row[Payout, Invoice]], payer: str) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(f"Remittance advice {transaction.reference}")
    pdf.set_creation_date(paid_at)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "Remittance advice", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    facts = [
        ("From", payer), ("To", f"{vendor.legal_name or vendor.name} ({vendor.vendor_code})"),
        ("Payment reference", transaction.reference or ""),
        ("Paid on", paid_at.date().isoformat()),
        ("Amount paid", _amount(transaction.target_amount_minor, transaction.target_currency)),
        ("Paid by", RAIL_LABELS.get(Rail(transaction.rail), transaction.rail)),
    ]
    if transaction.confirmation_reference:
        facts.append(("Confirmation", transaction.confirmation_reference))
    if transaction.rate is not None:
        facts.append(("Converted", f"{_amount(transaction.source_amount_minor, transaction.source_currency)} at "
                                   f"{transaction.rate} ({transaction.rate_source})"))
    for label, value in facts:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(45, 7, label)
        pdf.set_font("Helvetica", size=10)
        pdf.cell(0, 7, _text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 8, "Invoices covered by this payment", new_x="LMARGIN", new_y="NEXT")
    with pdf.table(col_widths=(45, 45, 30, 40), text_align=("LEFT", "LEFT", "LEFT", "RIGHT")) as table:
        table.row(["Our number", "Your invoice number", "Issue date", "Amount"])
        for payout, invoice in rows:
            table.row([_text(invoice.number), _text(invoice.vendor_invoice_number or ""),
                       invoice.issue_date.isoformat(), _amount(payout.amount_minor, payout.currency)])
    return bytes(pdf.output())


def remittance_advice(session: Session, actor: Actor, transaction_id: int) -> StoredDocument:
    """The PDF for a paid transfer, for payout staff or the vendor it paid. Another vendor's
    transfer answers as a missing one: a vendor learns nothing of who else its payer pays."""
    staff = actor.can(Action.PAYOUT_VIEW)
    if not staff and not (actor.can(Action.PORTAL_USE) and actor.vendor_id is not None):
        raise PermissionDenied("You may not open remittance advices")
    transaction = session.get(PaymentTransaction, transaction_id)
    if transaction is None or not (staff or transaction.vendor_id == actor.vendor_id):
        raise NotFound(f"No payment {transaction_id}")
    # The advice states when the money left: a transfer without a confirmed payment date
    # (one still under way, or a paid status with no date recorded) has none to give yet.
    paid_at = transaction.paid_at
    if transaction.status != TransactionStatus.PAID.value or paid_at is None:
        raise Conflict("A remittance advice exists once the payment is confirmed paid")
    if transaction.confirmation_document_id is not None:
        document = session.get(StoredDocument, transaction.confirmation_document_id)
        if document is not None:
            return document
    vendor = session.get(Vendor, transaction.vendor_id)
    assert vendor is not None, "a transaction is batched for a vendor, and vendors are never deleted"
    rows = list(session.execute(select(Payout, Invoice).join(Invoice, col(Invoice.id) == Payout.invoice_id)
                                .where(col(Payout.transaction_id) == transaction.id).order_by(Invoice.number)).all())
    document = documents.store(session, _render(transaction, paid_at, vendor, rows,
                                                payer_account(session, tenancy.owner(vendor)).name),
                               f"remittance-{transaction.reference}.pdf", "application/pdf")
    transaction.confirmation_document_id = document.id
    session.add(transaction)
    return document
