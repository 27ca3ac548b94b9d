"""The e-mail that carries an invoice: subject, plain-text and HTML bodies from templates,
the PDF attached. The PDF is rendered and stored once; a retry attaches the same bytes."""
from __future__ import annotations

from email.message import EmailMessage
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlmodel import Session

from vrm_dashboard.config import settings
from vrm_dashboard.db.models import EmailDelivery, Invoice, StoredDocument
from vrm_dashboard.rendering.invoice_document import Branding
from vrm_dashboard.rendering.invoice_pdf import amount_text, quantity_text
from vrm_dashboard.services import documents, invoice_documents

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                       keep_trailing_newline=True)


def message_id_of(delivery: EmailDelivery, sender: str) -> str:
    """Fixed per delivery, so a message sent again after a crash is recognisably the same one."""
    return f"<invoice-{delivery.id}.{(delivery.token or '')[:10]}@{sender.split('@', 1)[1]}>"


def view_url(delivery: EmailDelivery) -> str:
    return f"{settings().public_url}/api/v1/distribution/view/{delivery.token}"


def dispute_url(delivery: EmailDelivery) -> str:
    return f"{settings().public_url}/api/v1/distribution/dispute/{delivery.token}"


def stored_pdf(session: Session, delivery: EmailDelivery, invoice: Invoice, brand: Branding | None = None) -> StoredDocument:
    if delivery.document_id is not None:
        document = session.get(StoredDocument, delivery.document_id)
        if document is not None:
            return document
    document = documents.store(session, invoice_documents.render_pdf(session, invoice, brand),
                               invoice_documents.filename_of(invoice), "application/pdf")
    delivery.document_id = document.id
    session.add(delivery)
    return document


def invoice_message(session: Session, delivery: EmailDelivery, sender: str,
                    brand: Branding | None = None) -> EmailMessage:
    invoice = session.get(Invoice, delivery.invoice_id)
    brand = brand or invoice_documents.branding(session)
    pdf = stored_pdf(session, delivery, invoice, brand)
    doc = invoice_documents.document_of(session, invoice, brand)
    recipient = doc.buyer if doc.audience == "customer" else doc.seller
    context = {
        "company": brand.company_name, "colour": brand.colour, "contact": brand.contact_email,
        "recipient_name": recipient.name, "number": doc.number, "issue_date": doc.issue_date.isoformat(),
        "due_date": doc.due_date.isoformat() if doc.due_date else "",
        "total": amount_text(doc.total_minor, doc.currency), "payment_status": doc.payment_status,
        "reference": doc.transaction_reference, "credit_note": doc.is_credit_note, "audience": doc.audience,
        "corrects": doc.corrects_number, "view_url": view_url(delivery), "dispute_url": dispute_url(delivery),
        "lines": [f"{line.description}: {quantity_text(line.quantity)} x "
                  f"{amount_text(line.unit_price_minor, doc.currency)} = {amount_text(line.amount_minor, doc.currency)}"
                  for line in doc.lines[:20]],
    }
    message = EmailMessage()
    message["From"] = f"{brand.company_name} <{sender}>"
    message["To"] = delivery.recipient
    message["Subject"] = delivery.subject
    message["Message-ID"] = message_id_of(delivery, sender)
    message["X-VRM-Delivery"] = str(delivery.id)
    if brand.contact_email and brand.contact_email != sender:
        message["Reply-To"] = brand.contact_email
    message.set_content(_templates().get_template("invoice.txt").render(context))
    message.add_alternative(_templates().get_template("invoice.html").render(context), subtype="html")
    message.add_attachment(pdf.content, maintype="application", subtype="pdf", filename=pdf.filename)
    return message
