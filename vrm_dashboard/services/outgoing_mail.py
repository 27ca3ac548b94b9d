"""Sending queued e-mails over SMTP (aiosmtplib): invoices and credit notes to their
recipients, and the remittance advice of each paid transfer.

Deliveries are claimed before sending, so two senders never take the same one, and a claim
left by a sender that died is taken again after its lease. One connection serves the whole
run, at most VRM_SMTP_RATE messages a second. Outcomes are committed every few messages:
a 4xx reply or a lost connection is retried with backoff, a 5xx reply fails the delivery
at once, and what the server accepted is never sent again."""
from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib
from sqlalchemy import and_, or_, select, update
from sqlmodel import Session

from vrm_dashboard.config import SmtpSettings, settings
from vrm_dashboard.db.models import EmailDelivery, Invoice, Notification, PaymentTransaction, Vendor, utcnow
from vrm_dashboard.domain.distribution_rules import (
    CLAIM_LEASE,
    MAX_ATTEMPTS,
    DeliveryStatus as D,
    is_permanent,
    retry_delay,
)
from vrm_dashboard.domain.money import format_money
from vrm_dashboard.services import invoice_documents, invoice_mail, remittance
from vrm_dashboard.services.actors import Actor
from vrm_dashboard.services.job_runs import JobResult

BATCH = 500
# Outcomes are committed after this many messages: a crash repeats at most these.
COMMIT_EVERY = 25
JOB = Actor.system("send_queued_email")


def _remittance_message(session: Session, delivery: EmailDelivery, sender: str) -> EmailMessage:
    document = remittance.remittance_advice(session, JOB, delivery.transaction_id)
    transfer = session.get(PaymentTransaction, delivery.transaction_id)
    vendor = session.get(Vendor, transfer.vendor_id)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = delivery.recipient
    message["Subject"] = delivery.subject
    message["Message-ID"] = make_msgid(domain=sender.split("@", 1)[1])
    message.set_content(
        f"Hello {vendor.name},\n\nwe have paid {format_money(transfer.target_amount_minor, transfer.target_currency)} "
        f"with the reference {transfer.reference}. The attached remittance advice lists the invoices this payment "
        "covers.\n\nQuestions? Reply to this e-mail.\n")
    message.add_attachment(document.content, maintype="application", subtype="pdf", filename=document.filename)
    delivery.document_id = document.id
    return message


def _claimable(now: datetime):  # type: ignore[no-untyped-def]
    due = and_(EmailDelivery.status == D.QUEUED.value,
               or_(EmailDelivery.next_attempt_at.is_(None), EmailDelivery.next_attempt_at <= now))
    abandoned = and_(EmailDelivery.status == D.SENDING.value, EmailDelivery.claimed_at < now - CLAIM_LEASE)
    return or_(due, abandoned)


def claim(session: Session, limit: int, now: datetime | None = None) -> list[EmailDelivery]:
    """Take up to `limit` deliveries that are due; committed, so no other sender takes them."""
    now = now or utcnow()
    ids = list(session.execute(select(EmailDelivery.id).where(_claimable(now))
                               .order_by(EmailDelivery.id).limit(limit)).scalars())
    if not ids:
        return []
    session.execute(update(EmailDelivery).where(EmailDelivery.id.in_(ids), _claimable(now))
                    .values(status=D.SENDING.value, claimed_at=now))
    session.commit()
    return list(session.execute(select(EmailDelivery).where(
        EmailDelivery.id.in_(ids), EmailDelivery.status == D.SENDING.value, EmailDelivery.claimed_at == now)
        .order_by(EmailDelivery.id)).scalars())


@dataclass
class Outcome:
    sent: bool
    error: str | None = None
    code: int | None = None
    # The server never saw the message (it was unreachable): no attempt is counted.
    untried: bool = False


class _Mailer:
    """aiosmtplib on a private event loop, driven step by step from plain code."""

    def __init__(self, smtp: SmtpSettings):
        self.smtp = smtp
        self.loop = asyncio.new_event_loop()
        self.client: aiosmtplib.SMTP | None = None
        self.gap = 1.0 / smtp.rate_per_second if smtp.rate_per_second else 0.0
        self.next_at = 0.0

    def connect(self) -> str | None:
        self.client = aiosmtplib.SMTP(hostname=self.smtp.host, port=self.smtp.port,
                                      start_tls=self.smtp.use_tls, timeout=30)
        try:
            self.loop.run_until_complete(self.client.connect())
            if self.smtp.username:
                self.loop.run_until_complete(self.client.login(self.smtp.username, self.smtp.password or ""))
        except (aiosmtplib.SMTPException, OSError) as exc:
            self.client = None
            return f"Mail server unreachable: {exc}"
        return None

    def send(self, message: EmailMessage) -> Outcome:
        if self.gap:
            wait = self.next_at - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.next_at = max(self.next_at, time.monotonic()) + self.gap
        try:
            self.loop.run_until_complete(self.client.send_message(message))
            return Outcome(True)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            return Outcome(False, str(exc)[:500], max(codes) if codes else None)
        except aiosmtplib.SMTPServerDisconnected as exc:
            self.client = None
            return Outcome(False, f"Connection lost while sending: {exc}"[:500])
        except aiosmtplib.SMTPResponseException as exc:
            return Outcome(False, f"{exc.code} {exc.message}"[:500], exc.code)
        except (aiosmtplib.SMTPException, OSError) as exc:
            self.client = None
            return Outcome(False, str(exc)[:500])

    def close(self) -> None:
        if self.client is not None:
            try:
                self.loop.run_until_complete(self.client.quit())
            except (aiosmtplib.SMTPException, OSError):
                pass
        self.loop.close()


def _record(session: Session, delivery: EmailDelivery, message: EmailMessage, outcome: Outcome,
            now: datetime) -> str:
    """Apply one outcome; returns "sent", "failed" or "waiting"."""
    delivery.claimed_at = None
    if outcome.sent:
        delivery.status, delivery.sent_at, delivery.message_id = D.SENT.value, now, message["Message-ID"]
        delivery.attempts += 1
        delivery.last_error = None
        _tell_portal(session, delivery)
        session.add(delivery)
        return "sent"
    delivery.last_error = outcome.error
    if not outcome.untried:
        delivery.attempts += 1
    if is_permanent(outcome.code) or delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = D.FAILED.value
        session.add(delivery)
        return "failed"
    delivery.status = D.QUEUED.value
    delivery.next_attempt_at = now + retry_delay(max(delivery.attempts, 1))
    session.add(delivery)
    return "waiting"


def _tell_portal(session: Session, delivery: EmailDelivery) -> None:
    """A vendor also finds its invoice in the portal, announced by a notification."""
    if delivery.invoice_id is None:
        return
    invoice = session.get(Invoice, delivery.invoice_id)
    if invoice is not None and invoice.vendor_id is not None and invoice.organization_id is None:
        session.add(Notification(vendor_id=invoice.vendor_id, invoice_id=invoice.id,
                                 subject=f"New document: {delivery.subject}"[:200],
                                 body="It is in your portal under Invoices sent to you, and was e-mailed to "
                                      f"{delivery.recipient}."))


def _prepare(session: Session, claimed: list[EmailDelivery], sender: str) -> list[tuple[EmailDelivery, EmailMessage]]:
    brand = invoice_documents.branding(session)
    prepared = []
    for delivery in claimed:
        try:
            if delivery.invoice_id is not None:
                message = invoice_mail.invoice_message(session, delivery, sender, brand)
            else:
                message = _remittance_message(session, delivery, sender)
        except Exception as exc:  # noqa: BLE001 - one broken document must not stop the others
            delivery.status, delivery.claimed_at = D.FAILED.value, None
            delivery.last_error = f"The message could not be built: {exc}"[:500]
            session.add(delivery)
            continue
        prepared.append((delivery, message))
    # The rendered documents are kept even if the mail server turns out to be down.
    session.commit()
    return prepared


def _send(session: Session, smtp: SmtpSettings, prepared: list[tuple[EmailDelivery, EmailMessage]]) -> dict[str, int]:
    counts = {"sent": 0, "failed": 0, "waiting": 0}
    mailer = _Mailer(smtp)
    try:
        for n, (delivery, message) in enumerate(prepared, start=1):
            if mailer.client is None:
                problem = mailer.connect()
                if problem:
                    # Nothing more reaches the server this run: the rest waits, uncounted.
                    for waiting, _message in prepared[n - 1:]:
                        counts[_record(session, waiting, _message, Outcome(False, problem, untried=True), utcnow())] += 1
                    break
            counts[_record(session, delivery, message, mailer.send(message), utcnow())] += 1
            if n % COMMIT_EVERY == 0:
                session.commit()
    finally:
        session.commit()
        mailer.close()
    return counts


def send_queued(session: Session, limit: int = BATCH) -> JobResult:
    """The scheduler job: send what is due (does nothing while VRM_SMTP_HOST is unset)."""
    smtp = settings().smtp
    if not smtp.host:
        return JobResult(0, detail="SMTP not configured (VRM_SMTP_HOST)")
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        # Called from async code (a Reflex handler): the private loop needs a thread of its own.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(send_queued, session, limit).result()
    claimed = claim(session, limit)
    if not claimed:
        return JobResult(0)
    counts = _send(session, smtp, _prepare(session, claimed, smtp.sender))
    return JobResult(counts["sent"], errors=counts["failed"],
                     detail=f"sent {counts['sent']}, failed {counts['failed']}, waiting {counts['waiting']}")
