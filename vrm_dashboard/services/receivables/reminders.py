"""Payment reminders: on the days of the schedule around an invoice's due date, its customer
gets an e-mail with a reminder letter (PDF), sent by the distribution mail sender.

Each stage of the schedule is sent at most once per invoice (a unique row per invoice and
stage); a run that starts late sends only the latest stage reached. Reminders stop for an
invoice or a whole organization with its switch, and for invoices paid or being collected."""
from __future__ import annotations

from datetime import date
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import ColumnElement, insert, select
from sqlmodel import Session, col

from vrm_dashboard.db.models import EmailDelivery, Invoice, Organization, PaymentReminder, StoredDocument, utcnow
from vrm_dashboard.domain.collection_rules import COLLECTABLE_STATUSES, reminder_stage
from vrm_dashboard.domain.distribution_rules import DeliveryStatus
from vrm_dashboard.rendering.invoice_pdf import amount_text
from vrm_dashboard.rendering.reminder_pdf import Reminder, render_reminder
from vrm_dashboard.services.distribution import branding
from vrm_dashboard.services.platform import documents, settings as app_settings
from vrm_dashboard.services.platform.errors import Conflict
from vrm_dashboard.services.platform.job_runs import JobResult


def queue_reminders(session: Session, today: date | None = None) -> JobResult:
    """The scheduler job (daily): queue the reminders whose day has come."""
    today = today or date.today()
    # Each invoice by its issuer's schedule (its own, or the installation's).
    installation, own = app_settings.by_organization(session, app_settings.REMINDER_DAYS)
    if not installation and not any(own.values()):
        return JobResult(0, detail="no reminder schedule")
    owed: list[ColumnElement[bool]] = [
        col(Invoice.status).in_(COLLECTABLE_STATUSES), col(Invoice.due_date).is_not(None),
        col(Invoice.consolidated_into_id).is_(None), col(Invoice.document_type) == "invoice",
        col(Invoice.reminders_stopped).is_(False), col(Organization.reminders_stopped).is_(False),
        col(Organization.billing_email).is_not(None)]
    candidates = session.execute(
        select(col(Invoice.id), col(Invoice.number), col(Invoice.due_date), col(Invoice.total_minor),
               col(Invoice.currency), col(Organization.billing_email), col(Invoice.owner_id))
        .join(Organization, col(Organization.id) == Invoice.organization_id).where(*owed)).all()
    sent = {(i, stage) for i, stage in session.execute(
        select(col(PaymentReminder.invoice_id), col(PaymentReminder.stage))
        .join(Invoice, col(Invoice.id) == PaymentReminder.invoice_id)
        .join(Organization, col(Organization.id) == Invoice.organization_id).where(*owed))}
    due = []
    for invoice_id, number, due_date, total, currency, email, owner in candidates:
        stage = reminder_stage(due_date, today, list(own.get(owner, installation)))
        if stage is not None and (invoice_id, stage) not in sent:
            due.append((invoice_id, number, stage, total, currency, email, owner))
    if not due:
        return JobResult(0)
    now = utcnow()
    session.execute(insert(PaymentReminder), [{"invoice_id": i, "stage": s, "created_at": now} for i, _n, s, *_ in due])
    ids: dict[int, int] = dict(session.execute(select(col(PaymentReminder.invoice_id), col(PaymentReminder.id)).where(
        col(PaymentReminder.created_at) == now)).all())
    session.execute(insert(EmailDelivery), [
        {"owner_id": owner, "reminder_id": ids[i], "recipient": email, "status": DeliveryStatus.QUEUED.value, "attempts": 0,
         "subject": (f"Payment reminder: invoice {number}, {amount_text(total, currency)}" if stage > 0
                     else f"Upcoming payment: invoice {number}, {amount_text(total, currency)}"),
         "created_at": now}
        for i, number, stage, total, currency, email, owner in due])
    return JobResult(len(due), detail=f"{len(due)} reminders queued")


def reminder_message(session: Session, delivery: EmailDelivery, sender: str) -> EmailMessage:
    """The reminder e-mail with its letter; the letter is stored once and re-sent as is."""
    reminder = session.get(PaymentReminder, delivery.reminder_id)
    assert reminder is not None, "the sender checked reminder_id, a foreign key"
    invoice = session.get(Invoice, reminder.invoice_id)
    assert invoice is not None, "a reminder's invoice is a foreign key"
    org = session.get(Organization, invoice.organization_id)
    # Reminders are queued only for customer invoices with a due date; either may change after.
    if org is None or invoice.due_date is None:
        raise Conflict(f"Invoice {invoice.number} no longer has a customer and a due date")
    brand = branding.current(session, invoice.owner_id)
    sent_on = reminder.created_at.date()
    letter = Reminder(brand, org.name, tuple((org.billing_address or "").splitlines()), invoice.number,
                      invoice.issue_date, invoice.due_date, invoice.total_minor, invoice.currency, sent_on)
    if delivery.document_id is None:
        stored = documents.store(session, render_reminder(letter), f"reminder-{invoice.number}.pdf", "application/pdf")
        delivery.document_id = stored.id
        session.add(delivery)
    stored_pdf = session.get(StoredDocument, delivery.document_id)
    assert stored_pdf is not None, "document_id is a foreign key, set just above if it was missing"
    pdf = stored_pdf.content
    message = EmailMessage()
    message["From"] = sender
    message["To"] = delivery.recipient
    message["Subject"] = delivery.subject
    message["Message-ID"] = make_msgid(domain=sender.split("@", 1)[1])
    overdue = letter.days_overdue
    body = (f"Invoice {invoice.number} of {amount_text(invoice.total_minor, invoice.currency)} was due on "
            f"{invoice.due_date.isoformat()} ({overdue} day{'s' if overdue != 1 else ''} ago)." if overdue > 0 else
            f"Invoice {invoice.number} of {amount_text(invoice.total_minor, invoice.currency)} is due on "
            f"{invoice.due_date.isoformat()}.")
    message.set_content(f"Hello {org.name},\n\n{body} The attached letter has the details.\n\n"
                        f"If you have paid already, thank you, and please ignore this reminder.\n\n{brand.company_name}\n")
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"reminder-{invoice.number}.pdf")
    return message

