"""Sending queued e-mails over SMTP (aiosmtplib): invoices and credit notes to their
recipients, the remittance advice of each paid transfer, payment reminders, and account
e-mails (invitations).

Deliveries are claimed before sending, so two senders never take the same one, and a claim
left by a sender that died is taken again after its lease. One connection serves the whole
run, at most VRM_SMTP_RATE messages a second. Outcomes are committed every few messages:
a 4xx reply or a lost connection is retried with backoff, a 5xx reply fails the delivery
at once, and what the server accepted is never sent again.

The work is a pipeline: this thread documents and stores invoices and records outcomes (it
alone touches the database), a sender thread talks SMTP, and for large runs worker processes
render the PDFs and messages, so the mail server's answers are never waited for idly."""
from __future__ import annotations

import asyncio
import queue
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from multiprocessing import get_context

import aiosmtplib
from sqlalchemy import ColumnElement, and_, bindparam, insert, or_, select, update
from sqlmodel import Session, col

from vrm_dashboard.config import SmtpSettings
from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import (
    EmailDelivery,
    Invoice,
    Notification,
    PaymentTransaction,
    StoredDocument,
    Vendor,
    table_of,
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
from vrm_dashboard.rendering.invoice_document import Branding
from vrm_dashboard.services.distribution import invoice_documents, invoice_mail
from vrm_dashboard.services.distribution.invoice_mail import Envelope, render_messages
from vrm_dashboard.services.mail import account_mail, settings as mail_settings
from vrm_dashboard.services.payouts import remittance
from vrm_dashboard.services.platform import documents
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import NotFound
from vrm_dashboard.services.platform.job_runs import JobResult
from vrm_dashboard.services.receivables import reminders

BATCH = 500
# Invoices are documented and rendered in chunks; from this many in a run, in worker processes.
CHUNK = 200
PARALLEL_FROM = 400
RENDER_WORKERS = 2
# Outcomes are committed after this many messages: a crash repeats at most these.
COMMIT_EVERY = 50
JOB = Actor.system("send_queued_email")


def _remittance_message(session: Session, delivery: EmailDelivery, sender: str) -> EmailMessage:
    if delivery.transaction_id is None:
        raise NotFound("No payment behind this e-mail")
    document = remittance.remittance_advice(session, JOB, delivery.transaction_id)
    transfer = session.get(PaymentTransaction, delivery.transaction_id)
    assert transfer is not None, "remittance_advice() found it"
    vendor = session.get(Vendor, transfer.vendor_id)
    assert vendor is not None, "a transfer's vendor is a foreign key"
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


def _claimable(now: datetime) -> ColumnElement[bool]:
    due = and_(col(EmailDelivery.status) == D.QUEUED.value,
               or_(col(EmailDelivery.next_attempt_at).is_(None), col(EmailDelivery.next_attempt_at) <= now))
    abandoned = and_(col(EmailDelivery.status) == D.SENDING.value, col(EmailDelivery.claimed_at) < now - CLAIM_LEASE)
    return or_(due, abandoned)


def claim(session: Session, limit: int, now: datetime | None = None) -> list[EmailDelivery]:
    """Take up to `limit` deliveries that are due; committed, so no other sender takes them."""
    now = now or utcnow()
    ids = list(session.execute(select(col(EmailDelivery.id)).where(_claimable(now))
                               .order_by(col(EmailDelivery.id)).limit(limit)).scalars())
    if not ids:
        return []
    session.execute(update(EmailDelivery).where(col(EmailDelivery.id).in_(ids), _claimable(now))
                    .values(status=D.SENDING.value, claimed_at=now))
    session.commit()
    return list(session.execute(select(EmailDelivery).where(
        col(EmailDelivery.id).in_(ids), col(EmailDelivery.status) == D.SENDING.value,
        col(EmailDelivery.claimed_at) == now)
        .order_by(col(EmailDelivery.id))).scalars())


@dataclass
class Outcome:
    sent: bool
    error: str | None = None
    code: int | None = None
    # The server never saw the message (it was unreachable): no attempt is counted.
    untried: bool = False


class _Mailer:
    """aiosmtplib on a private event loop, driven step by step from its own thread."""

    def __init__(self, smtp: SmtpSettings):
        self.smtp = smtp
        self.loop = asyncio.new_event_loop()
        self.client: aiosmtplib.SMTP | None = None
        self.gap = 1.0 / smtp.rate_per_second if smtp.rate_per_second else 0.0
        self.next_at = 0.0
        self.unreachable: str | None = None

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

    def send(self, recipient: str, raw: bytes) -> Outcome:
        if self.unreachable:
            return Outcome(False, self.unreachable, untried=True)
        if self.client is None:
            problem = self.connect()
            if problem:
                # Nothing more reaches the server this run: the rest waits, uncounted.
                self.unreachable = problem
                return Outcome(False, problem, untried=True)
        if self.gap:
            wait = self.next_at - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.next_at = max(self.next_at, time.monotonic()) + self.gap
        assert self.client is not None, "connect() either sets it or reports a problem"
        try:
            self.loop.run_until_complete(self.client.sendmail(self.smtp.sender, [recipient], raw))
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


class _SenderThread(threading.Thread):
    """Talks SMTP while the caller prepares the next messages and records outcomes."""

    def __init__(self, smtp: SmtpSettings):
        super().__init__(name="smtp-sender", daemon=True)
        self.mailer = _Mailer(smtp)
        self.todo: queue.Queue = queue.Queue(maxsize=2 * CHUNK)
        self.done: queue.Queue = queue.Queue()

    def run(self) -> None:
        try:
            while (item := self.todo.get()) is not None:
                delivery_id, recipient, raw = item
                self.done.put((delivery_id, self.mailer.send(recipient, raw)))
        finally:
            self.mailer.close()


def outcome_changes(delivery: EmailDelivery, message_id: str | None, outcome: Outcome,
                    now: datetime) -> tuple[str, dict]:
    """What one outcome does to its delivery: ("sent" | "failed" | "waiting", changed columns)."""
    attempts = delivery.attempts + (0 if outcome.untried else 1)
    if outcome.sent:
        return "sent", {"status": D.SENT.value, "sent_at": now, "message_id": message_id, "attempts": attempts,
                        "last_error": None, "claimed_at": None}
    changes = {"last_error": outcome.error, "attempts": attempts, "claimed_at": None}
    if is_permanent(outcome.code) or attempts >= MAX_ATTEMPTS:
        return "failed", {**changes, "status": D.FAILED.value}
    return "waiting", {**changes, "status": D.QUEUED.value, "next_attempt_at": now + retry_delay(max(attempts, 1))}


def _portal_notice(delivery: EmailDelivery, vendor_id: int, now: datetime) -> dict:
    """A vendor also finds its invoice in the portal, announced by a notification."""
    return {"owner_id": delivery.owner_id, "vendor_id": vendor_id, "invoice_id": delivery.invoice_id, "created_at": now,
            "subject": f"New document: {delivery.subject}"[:200],
            "body": f"It is in your portal under Invoices sent to you, and was e-mailed to {delivery.recipient}."}


def _fail(session: Session, delivery: EmailDelivery, reason: str) -> None:
    delivery.status, delivery.claimed_at, delivery.last_error = D.FAILED.value, None, reason[:500]
    session.add(delivery)


class _Run:
    """One sending run: what is in flight, and the tally of outcomes."""

    def __init__(self, session: Session, sender: _SenderThread):
        self.session, self.sender = session, sender
        self.in_flight: dict[int, tuple[EmailDelivery, str | None, int | None]] = {}
        self.counts = {"sent": 0, "failed": 0, "waiting": 0}
        self.changes: list[dict] = []
        self.notices: list[dict] = []

    def send(self, delivery: EmailDelivery, message_id: str | None, raw: bytes,
             portal_vendor_id: int | None = None) -> None:
        assert delivery.id is not None, "claimed deliveries are rows loaded from the database"
        self.in_flight[delivery.id] = (delivery, message_id, portal_vendor_id)
        while True:
            try:
                self.sender.todo.put((delivery.id, delivery.recipient, raw), timeout=0.05)
                break
            except queue.Full:
                self.collect()
        self.collect()

    def collect(self, wait: bool = False) -> None:
        while True:
            try:
                delivery_id, outcome = self.sender.done.get(timeout=0.2 if wait else 0)
            except queue.Empty:
                return
            self.record(delivery_id, outcome)

    def record(self, delivery_id: int, outcome: Outcome) -> None:
        delivery, message_id, portal_vendor_id = self.in_flight.pop(delivery_id)
        now = utcnow()
        result, changes = outcome_changes(delivery, message_id, outcome, now)
        self.counts[result] += 1
        self.changes.append({"id": delivery.id, **changes})
        if result == "sent" and portal_vendor_id is not None:
            self.notices.append(_portal_notice(delivery, portal_vendor_id, now))
        if len(self.changes) >= COMMIT_EVERY:
            self.commit()

    def commit(self) -> None:
        """Write the outcomes so far: one statement per kind of change, then commit."""
        by_columns: dict[tuple, list[dict]] = {}
        for row in self.changes:
            by_columns.setdefault(tuple(sorted(row)), []).append(row)
        # One UPDATE per delivery, by id, in the session's scope: an ORM bulk UPDATE by primary
        # key would pass the session's scoping hook without its criteria.
        table = table_of(EmailDelivery)
        by_id = update(table).where(table.c.id == bindparam("delivery_id"),
                                    tenancy.owned(EmailDelivery, self.session))
        for rows in by_columns.values():
            self.session.connection().execute(
                by_id, [{"delivery_id": row["id"], **{k: v for k, v in row.items() if k != "id"}} for row in rows])
        if self.notices:
            self.session.execute(insert(Notification), self.notices)
        self.changes, self.notices = [], []
        self.session.commit()

    def finish(self) -> None:
        self.sender.todo.put(None)
        while self.in_flight:
            self.collect(wait=True)
            if not self.sender.is_alive() and self.sender.done.empty():
                break
        self.sender.join()
        self.commit()


@dataclass
class _Job:
    delivery: EmailDelivery
    invoice: Invoice
    envelope: Envelope
    job: tuple


def _jobs(session: Session, deliveries: list[EmailDelivery], brand: Branding | None, sender: str) -> list[_Job]:
    invoices = {i.id: i for i in session.execute(
        select(Invoice).where(col(Invoice.id).in_([d.invoice_id for d in deliveries]))).scalars()}
    docs = invoice_documents.documents_of(session, list(invoices.values()), brand)
    wants = invoice_documents.einvoice_customers(session, list(invoices.values()))
    jobs = []
    for d in deliveries:
        invoice = invoices[d.invoice_id]
        envelope = Envelope.of(d, sender)
        jobs.append(_Job(d, invoice, envelope, (envelope, docs[invoice.id], invoice.organization_id in wants,
                                                invoice_documents.filename_of(invoice))))
    return jobs


class _Renderer:
    """Renders a chunk's PDFs and messages, in worker processes for large runs (spawned, so
    nothing of this process's connections is inherited), inline otherwise."""

    def __init__(self, parallel: bool):
        self.pool = ProcessPoolExecutor(max_workers=RENDER_WORKERS, mp_context=get_context("spawn")) \
            if parallel else None

    def submit(self, jobs: list[_Job]) -> list[Future]:
        work = [job.job for job in jobs]
        if self.pool is None:
            done: Future = Future()
            done.set_result(render_messages(work))
            return [done]
        size = max(1, -(-len(work) // RENDER_WORKERS))
        return [self.pool.submit(render_messages, work[i:i + size]) for i in range(0, len(work), size)]

    @staticmethod
    def results(parts: list[Future]) -> list:
        return [item for part in parts for item in part.result()]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)


def _send_invoices(session: Session, run: _Run, jobs: list[_Job], rendered: list) -> None:
    """Store what was rendered (once, by hash) and hand each message to the sender. A delivery
    tried before keeps the PDF it was first sent with."""
    tried_before = {job.delivery.id for job in jobs if job.delivery.document_id is not None}
    files, owners = [], []
    for job, result in zip(jobs, rendered):
        if isinstance(result, str):
            _fail(session, job.delivery, result)
        elif job.delivery.document_id is None:
            files.append((result[0], job.job[3], "application/pdf"))
            owners.append(job)
    for job, document_id in zip(owners, documents.store_many(session, files)):
        job.delivery.document_id = document_id
        session.add(job.delivery)
    # The rendered documents are kept even if the mail server turns out to be down.
    session.commit()
    for job, result in zip(jobs, rendered):
        if isinstance(result, str):
            continue
        raw = result[1]
        if job.delivery.id in tried_before:
            stored = session.get(StoredDocument, job.delivery.document_id)
            assert stored is not None, "tried before means it has a stored document (a foreign key)"
            raw = invoice_mail.invoice_message(job.envelope, job.job[1], stored.content, stored.filename).as_bytes()
        vendor_id = job.invoice.vendor_id if job.invoice.organization_id is None else None
        run.send(job.delivery, job.envelope.message_id, raw, vendor_id)


def _deliver(session: Session, smtp: SmtpSettings, claimed: list[EmailDelivery], parallel: bool) -> dict[str, int]:
    # Outcomes are committed every few messages; reloading every object after each commit
    # would cost more than the sending. Only this run writes these rows meanwhile (claimed).
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    brand = None  # each invoice's owner's: one run sends every organization's mail
    invoice_deliveries = [d for d in claimed if d.invoice_id is not None]
    chunks = [invoice_deliveries[i:i + CHUNK] for i in range(0, len(invoice_deliveries), CHUNK)]
    sender = _SenderThread(smtp)
    sender.start()
    run = _Run(session, sender)
    renderer = _Renderer(parallel=parallel and len(invoice_deliveries) >= PARALLEL_FROM)
    try:
        upcoming: tuple[list[_Job], list[Future]] | None = None
        if chunks:
            jobs = _jobs(session, chunks[0], brand, smtp.sender)
            upcoming = (jobs, renderer.submit(jobs))
        for index in range(len(chunks)):
            assert upcoming is not None, "the first chunk is submitted above, each next one in the loop"
            jobs, parts = upcoming
            if index + 1 < len(chunks):
                following = _jobs(session, chunks[index + 1], brand, smtp.sender)
                upcoming = (following, renderer.submit(following))
            _send_invoices(session, run, jobs, renderer.results(parts))
        for delivery in (d for d in claimed if d.invoice_id is None):
            try:
                if delivery.reminder_id:
                    message = reminders.reminder_message(session, delivery, smtp.sender)
                elif delivery.body is not None:
                    message = account_mail.message_of(delivery, smtp.sender)
                else:
                    message = _remittance_message(session, delivery, smtp.sender)
            except Exception as exc:  # noqa: BLE001 - one broken document must not stop the others
                _fail(session, delivery, f"The message could not be built: {exc}")
                continue
            run.send(delivery, message["Message-ID"], message.as_bytes())
    finally:
        run.finish()
        session.expire_on_commit = expire_on_commit
        renderer.close()
    return run.counts


def send_queued(session: Session, limit: int = BATCH, parallel: bool = True) -> JobResult:
    """The scheduler job: send what is due (does nothing while no mail server is set, on the
    Settings screen or by VRM_SMTP_HOST).
    `parallel` allows worker processes for large runs; screens pass False."""
    smtp = mail_settings.smtp(session)
    if not smtp.host:
        return JobResult(0, detail="SMTP not configured (VRM_SMTP_HOST)")
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        # Called from async code (a Reflex handler): run on a thread of its own.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(send_queued, session, limit, parallel).result()
    claimed = claim(session, limit)
    if not claimed:
        return JobResult(0)
    counts = _deliver(session, smtp, claimed, parallel)
    return JobResult(counts["sent"], errors=counts["failed"],
                     detail=f"sent {counts['sent']}, failed {counts['failed']}, waiting {counts['waiting']}")
