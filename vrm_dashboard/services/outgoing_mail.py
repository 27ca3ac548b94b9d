"""Sending queued e-mails over SMTP (aiosmtplib): for now the remittance advice of each paid
transfer, attached as its PDF. One connection serves the whole run; a message that fails is
tried again on the next runs and marked failed after MAX_ATTEMPTS."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib
from sqlalchemy import select
from sqlmodel import Session

from vrm_dashboard.config import SmtpSettings, settings
from vrm_dashboard.db.models import EmailDelivery, PaymentTransaction, Vendor, utcnow
from vrm_dashboard.domain.money import format_money
from vrm_dashboard.services import remittance
from vrm_dashboard.services.actors import Actor
from vrm_dashboard.services.job_runs import JobResult

MAX_ATTEMPTS = 5
BATCH = 200
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


async def _send_all(smtp: SmtpSettings, messages: list[tuple[EmailDelivery, EmailMessage]]) -> dict[int, str | None]:
    """Delivery id -> None when sent, or the error."""
    outcome: dict[int, str | None] = {}
    client = aiosmtplib.SMTP(hostname=smtp.host, port=smtp.port, start_tls=smtp.use_tls, timeout=30)
    try:
        await client.connect()
        if smtp.username:
            await client.login(smtp.username, smtp.password or "")
    except (aiosmtplib.SMTPException, OSError) as exc:
        return {d.id: f"Mail server unreachable: {exc}" for d, _ in messages}
    try:
        for delivery, message in messages:
            try:
                await client.send_message(message)
                outcome[delivery.id] = None
            except aiosmtplib.SMTPException as exc:
                outcome[delivery.id] = str(exc)[:500]
    finally:
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            pass
    return outcome


def _run(coroutine):  # type: ignore[no-untyped-def]
    """Run to completion from plain code, also when this thread already runs an event loop
    (a Reflex handler): then on a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def send_queued(session: Session) -> JobResult:
    """The scheduler job: send what is queued (does nothing while VRM_SMTP_HOST is unset)."""
    smtp = settings().smtp
    if not smtp.host:
        return JobResult(0, detail="SMTP not configured (VRM_SMTP_HOST)")
    queued = session.execute(select(EmailDelivery).where(
        EmailDelivery.status == "queued", EmailDelivery.transaction_id.is_not(None))
        .order_by(EmailDelivery.id).limit(BATCH)).scalars().all()
    messages = [(d, _remittance_message(session, d, smtp.sender)) for d in queued]
    session.commit()  # the rendered documents are kept even if the mail server is down
    if not messages:
        return JobResult(0)
    outcome = _run(_send_all(smtp, messages))
    sent = failed = 0
    for delivery, message in messages:
        error = outcome.get(delivery.id)
        delivery.attempts += 1
        if error is None:
            delivery.status, delivery.sent_at, delivery.message_id = "sent", utcnow(), message["Message-ID"]
            sent += 1
        else:
            delivery.last_error = error
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = "failed"
                failed += 1
        session.add(delivery)
    return JobResult(sent, errors=failed, detail=f"sent {sent}, failed {failed}, waiting {len(messages) - sent - failed}")
