"""The e-mail that carries an invoice: subject, plain-text and HTML bodies from templates,
the PDF attached. The PDF is rendered and stored once; a retry attaches the same bytes.

Messages are built with the email package's MIME classes (compat32): for ten thousand
messages a run, the modern EmailMessage API's header parsing costs three times as much."""
from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr
from functools import lru_cache

from jinja2 import Environment, PackageLoader, select_autoescape

from vrm_dashboard.config import settings
from vrm_dashboard.db.models import EmailDelivery
from vrm_dashboard.rendering.invoice_document import InvoiceDocument
from vrm_dashboard.rendering.invoice_file import render_file
from vrm_dashboard.rendering.invoice_pdf import amount_text, quantity_text


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(loader=PackageLoader("vrm_dashboard", "templates/email"), autoescape=select_autoescape(["html"]),
                       keep_trailing_newline=True)


@dataclass(frozen=True)
class Envelope:
    """What a message needs of its delivery: plain values, so worker processes can build it."""

    delivery_id: int
    token: str
    recipient: str
    subject: str
    sender: str
    public_url: str

    @classmethod
    def of(cls, delivery: EmailDelivery, sender: str) -> "Envelope":
        assert delivery.id is not None, "only stored deliveries are sent"
        return cls(delivery.id, delivery.token or "", delivery.recipient, delivery.subject, sender,
                   settings().public_url)

    @property
    def message_id(self) -> str:
        """Fixed per delivery, so a message sent again after a crash is recognisably the same one."""
        return f"<invoice-{self.delivery_id}.{self.token[:10]}@{self.sender.split('@', 1)[1]}>"

    @property
    def view_url(self) -> str:
        return f"{self.public_url}/api/v1/distribution/view/{self.token}"

    @property
    def dispute_url(self) -> str:
        return f"{self.public_url}/api/v1/distribution/dispute/{self.token}"


def _context(delivery: Envelope, doc: InvoiceDocument) -> dict:
    brand = doc.branding
    recipient = doc.buyer if doc.audience == "customer" else doc.seller
    return {
        "company": brand.company_name, "colour": brand.colour, "contact": brand.contact_email,
        "recipient_name": recipient.name, "number": doc.number, "issue_date": doc.issue_date.isoformat(),
        "due_date": doc.due_date.isoformat() if doc.due_date else "",
        "total": amount_text(doc.total_minor, doc.currency), "payment_status": doc.payment_status,
        "reference": doc.transaction_reference, "credit_note": doc.is_credit_note, "audience": doc.audience,
        "corrects": doc.corrects_number, "view_url": delivery.view_url, "dispute_url": delivery.dispute_url,
        "lines": [f"{line.description}: {quantity_text(line.quantity)} x "
                  f"{amount_text(line.unit_price_minor, doc.currency)} = {amount_text(line.amount_minor, doc.currency)}"
                  for line in doc.lines[:20]],
    }


def invoice_message(envelope: Envelope, doc: InvoiceDocument, pdf: bytes, filename: str) -> Message:
    context = _context(envelope, doc)
    brand = doc.branding
    message = MIMEMultipart("mixed")
    message["From"] = formataddr((brand.company_name, envelope.sender))
    message["To"] = envelope.recipient
    message["Subject"] = envelope.subject
    message["Message-ID"] = envelope.message_id
    message["X-VRM-Delivery"] = str(envelope.delivery_id)
    if brand.contact_email and brand.contact_email != envelope.sender:
        message["Reply-To"] = brand.contact_email
    bodies = MIMEMultipart("alternative")
    bodies.attach(MIMEText(_templates().get_template("invoice.txt").render(context), "plain", "utf-8"))
    bodies.attach(MIMEText(_templates().get_template("invoice.html").render(context), "html", "utf-8"))
    message.attach(bodies)
    attachment = MIMEApplication(pdf, "pdf")
    attachment.add_header("Content-Disposition", "attachment", filename=filename)
    message.attach(attachment)
    return message


def render_messages(jobs: list[tuple[Envelope, InvoiceDocument, bool, str]]) -> list[tuple[bytes, bytes] | str]:
    """(PDF, the whole message as bytes) for each (envelope, document, e-invoice?, file name),
    or why it could not be made. Runs in worker processes for large runs."""
    out: list[tuple[bytes, bytes] | str] = []
    for envelope, doc, einvoice, filename in jobs:
        try:
            pdf = render_file(doc, einvoice)
            out.append((pdf, invoice_message(envelope, doc, pdf, filename).as_bytes()))
        except Exception as exc:  # noqa: BLE001 - reported per invoice
            out.append(f"The invoice could not be rendered: {exc}"[:500])
    return out
