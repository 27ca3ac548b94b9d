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
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage, Message
from email.utils import make_msgid
from multiprocessing import get_context

import aiosmtplib
from sqlalchemy import and_, or_, select, update
from sqlmodel import Session

from vrm_dashboard.config import SmtpSettings, settings
from vrm_dashboard.db.models import (
    EmailDelivery,
    Invoice,
    Notification,
    PaymentTransaction,
    StoredDocument,
    Vendor,
    utcnow,
)
from vrm_dashboard.domain.distribution_rules import (
    CLAIM_LEASE,
    MAX_ATTEMPTS,
    DeliveryStatus as D,
    is_permanent,
    retry_delay,
)
from vrm_dashboard.domain.money import format_money
from vrm_dashboard.rendering.invoice_document import Branding, InvoiceDocument
from vrm_dashboard.rendering.invoice_file import render_files
from vrm_dashboard.services import documents, invoice_documents, invoice_mail, remittance
from vrm_dashboard.services.actors import Actor
from vrm_dashboard.services.job_runs import JobResult

BATCH = 500
# Invoices are rendered and sent in chunks; from this many, PDFs render in worker processes.
CHUNK = 200
PARALLEL_FROM = 400
RENDER_WORKERS = 2
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
        self.unreachable = False

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

    def send(self, message: Message) -> Outcome:
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


def _record(session: Session, delivery: EmailDelivery, message: Message, outcome: Outcome,
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


@dataclass
class _Job:
    delivery: EmailDelivery
    invoice: Invoice
    doc: InvoiceDocument
    einvoice: bool


def _jobs(session: Session, deliveries: list[EmailDelivery], brand: Branding) -> list[_Job]:
    invoices = {i.id: i for i in session.execute(
        select(Invoice).where(Invoice.id.in_([d.invoice_id for d in deliveries]))).scalars()}
    docs = invoice_documents.documents_of(session, list(invoices.values()), brand)
    wants = invoice_documents.einvoice_customers(session, list(invoices.values()))
    return [_Job(d, invoices[d.invoice_id], docs[d.invoice_id], invoices[d.invoice_id].organization_id in wants)
            for d in deliveries]


class _Renderer:
    """Renders PDFs for a chunk while the previous chunk is being sent. Large runs use worker
    processes (spawned, so nothing of this process's connections is inherited)."""

    def __init__(self, parallel: bool):
        self.pool = ProcessPoolExecutor(max_workers=RENDER_WORKERS, mp_context=get_context("spawn")) \
            if parallel else None

    def submit(self, jobs: list[_Job]) -> Future:
        todo = [(job.doc, job.einvoice) for job in jobs if job.delivery.document_id is None]
        if self.pool is None:
            done: Future = Future()
            done.set_result(render_files(todo))
            return done
        size = max(1, -(-len(todo) // RENDER_WORKERS))
        parts = [self.pool.submit(render_files, todo[i:i + size]) for i in range(0, len(todo), size)]
        merged: Future = Future()
        merged.set_result(parts)
        return merged

    @staticmethod
    def result(future: Future) -> list[bytes | str]:
        value = future.result()
        if value and isinstance(value[0], Future):
            return [item for part in value for item in part.result()]
        return value

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)


def _fail(session: Session, delivery: EmailDelivery, reason: str) -> None:
    delivery.status, delivery.claimed_at, delivery.last_error = D.FAILED.value, None, reason[:500]
    session.add(delivery)


def _invoice_messages(session: Session, jobs: list[_Job], rendered: list[bytes | str],
                      sender: str) -> list[tuple[EmailDelivery, Message]]:
    """Store what was rendered (once, by hash) and build each message around its stored PDF."""
    fresh = [job for job in jobs if job.delivery.document_id is None]
    files, owners = [], []
    for job, result in zip(fresh, rendered):
        if isinstance(result, str):
            _fail(session, job.delivery, result)
            continue
        files.append((result, invoice_documents.filename_of(job.invoice), "application/pdf"))
        owners.append(job)
    contents: dict[int, tuple[bytes, str]] = {}
    for job, document_id, (content, filename, _type) in zip(owners, documents.store_many(session, files), files):
        job.delivery.document_id = document_id
        contents[job.delivery.id] = (content, filename)
    for job in jobs:
        if job.delivery.id not in contents and job.delivery.document_id is not None \
                and job.delivery.status == D.SENDING.value:
            stored = session.get(StoredDocument, job.delivery.document_id)
            contents[job.delivery.id] = (stored.content, stored.filename)
    messages = []
    for job in jobs:
        if job.delivery.id in contents:
            content, filename = contents[job.delivery.id]
            messages.append((job.delivery, invoice_mail.invoice_message(job.delivery, job.doc, content, filename,
                                                                        sender)))
            session.add(job.delivery)
    # The rendered documents are kept even if the mail server turns out to be down.
    session.commit()
    return messages


def _remittance_messages(session: Session, deliveries: list[EmailDelivery], sender: str) -> list[tuple[EmailDelivery, Message]]:
    messages = []
    for delivery in deliveries:
        try:
            messages.append((delivery, _remittance_message(session, delivery, sender)))
        except Exception as exc:  # noqa: BLE001 - one broken document must not stop the others
            _fail(session, delivery, f"The message could not be built: {exc}")
    session.commit()
    return messages


def _send(session: Session, mailer: "_Mailer", prepared: list[tuple[EmailDelivery, Message]],
          counts: dict[str, int]) -> None:
    for n, (delivery, message) in enumerate(prepared, start=1):
        if mailer.client is None:
            problem = mailer.connect()
            if problem:
                # Nothing more reaches the server now: the rest waits, its attempts uncounted.
                for waiting, _message in prepared[n - 1:]:
                    counts[_record(session, waiting, _message, Outcome(False, problem, untried=True), utcnow())] += 1
                mailer.unreachable = True
                break
        counts[_record(session, delivery, message, mailer.send(message), utcnow())] += 1
        if n % COMMIT_EVERY == 0:
            session.commit()
    session.commit()


def _deliver(session: Session, smtp: SmtpSettings, claimed: list[EmailDelivery]) -> dict[str, int]:
    counts = {"sent": 0, "failed": 0, "waiting": 0}
    # Outcomes are committed every few messages; reloading every object after each commit
    # would cost more than the sending. Only this job writes these rows meanwhile (claimed).
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    brand = invoice_documents.branding(session)
    invoice_deliveries = [d for d in claimed if d.invoice_id is not None]
    chunks = [invoice_deliveries[i:i + CHUNK] for i in range(0, len(invoice_deliveries), CHUNK)]
    mailer = _Mailer(smtp)
    renderer = _Renderer(parallel=len(invoice_deliveries) >= PARALLEL_FROM)
    try:
        pending = None
        if chunks:
            jobs = _jobs(session, chunks[0], brand)
            pending = (jobs, renderer.submit(jobs))
        for index in range(len(chunks)):
            jobs, future = pending
            if index + 1 < len(chunks):
                upcoming = _jobs(session, chunks[index + 1], brand)
                pending = (upcoming, renderer.submit(upcoming))
            prepared = _invoice_messages(session, jobs, renderer.result(future), smtp.sender)
            if mailer.unreachable:
                for delivery, message in prepared:
                    counts[_record(session, delivery, message, Outcome(False, "Mail server unreachable",
                                                                       untried=True), utcnow())] += 1
                session.commit()
            else:
                _send(session, mailer, prepared, counts)
        remittances = _remittance_messages(session, [d for d in claimed if d.invoice_id is None], smtp.sender)
        _send(session, mailer, remittances, counts)
    finally:
        session.commit()
        session.expire_on_commit = expire_on_commit
        renderer.close()
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
    counts = _deliver(session, smtp, claimed)
    return JobResult(counts["sent"], errors=counts["failed"],
                     detail=f"sent {counts['sent']}, failed {counts['failed']}, waiting {counts['waiting']}")
