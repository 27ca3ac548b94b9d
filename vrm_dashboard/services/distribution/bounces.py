"""Bounces: delivery-status notifications (RFC 3464) that arrive in the bounce mailbox mark
the invoice's delivery bounced and alert the team. A message is flagged processed only after
what it proves is committed, as with the invoice mailbox.

Anyone can mail the bounce mailbox. A message that cannot be read (one Python cannot parse,
say) is a poison message, handled as the invoice mailbox handles its own: its work is rolled
back, it is audited, flagged processed and moved to the Quarantine folder, and the poll goes on
with the next message, so one bad e-mail never stalls bounce processing."""
from __future__ import annotations

import email
import email.policy
import hmac
import logging
import re
from email.message import Message
from typing import cast

from imap_tools import AND, BaseMailBox, MailBox, MailBoxUnencrypted, MailMessage
from sqlalchemy import select
from sqlmodel import Session, col

from vrm_dashboard.config import ImapSettings
from vrm_dashboard.db.models import EmailDelivery, Invoice, utcnow
from vrm_dashboard.domain.distribution_rules import DeliveryStatus as D
from vrm_dashboard.domain.intake_rules import printable
from vrm_dashboard.services.distribution import dispatch as distribution
from vrm_dashboard.services.mail import settings as mail_settings
from vrm_dashboard.services.mail.watched_mailbox import (
    CONNECTION_ERRORS,
    PROCESSED,
    QUARANTINE,
    describe,
    headers_of,
    mark_processed,
    set_aside,
)
from vrm_dashboard.services.platform import audit
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.job_runs import JobResult

log = logging.getLogger("vrm.bounces")

MAX_MESSAGES_PER_POLL = 200
# Our Message-ID: the delivery's id and the token part it carries (invoice_mail.Envelope). The
# id is at most 18 digits, so a crafted one cannot overflow the database's integer.
OUR_MESSAGE_ID = re.compile(r"<invoice-(\d{1,18})\.([A-Za-z0-9_-]{1,64})@")
JOB = Actor.system("bounce_mailbox")


def _permanent_failure(report: Message) -> str | None:
    """The failed recipient's status and diagnostic, when the report says delivery failed."""
    payload = report.get_payload()
    # A multipart payload is a list of messages (str parts are only for non-multipart ones).
    text = report.as_string() if not isinstance(payload, list) else "\n".join(
        part.as_string() for part in cast(list[Message], payload))
    actions = re.findall(r"^Action:\s*(\S+)", text, re.IGNORECASE | re.MULTILINE)
    if not any(a.lower() == "failed" for a in actions):
        return None
    status = re.search(r"^Status:\s*(\S+)", text, re.IGNORECASE | re.MULTILINE)
    diagnostic = re.search(r"^Diagnostic-Code:\s*(.+)$", text, re.IGNORECASE | re.MULTILINE)
    return " ".join(x for x in (status and status.group(1), diagnostic and diagnostic.group(1).strip()) if x) \
        or "failed"


def bounced_delivery(raw: bytes) -> tuple[int, str, str] | None:
    """(delivery id, token part of its Message-ID, reason) when this is a bounce of one of our
    invoice e-mails."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    report = next((p for p in message.walk() if p.get_content_type() == "message/delivery-status"), None)
    if report is None:
        return None
    reason = _permanent_failure(report)
    if reason is None:
        return None  # "delayed" or "relayed": not a bounce
    found = OUR_MESSAGE_ID.search(raw.decode("utf-8", "replace"))
    if found is None:
        return None
    return int(found.group(1)), found.group(2), reason


def _sent_as(delivery: EmailDelivery | None, token_part: str) -> bool:
    """Whether the bounce names the Message-ID this delivery was sent with, token part and all:
    anyone can mail the bounce mailbox, so a guessed id or a prefix of the token matches nothing."""
    ours = OUR_MESSAGE_ID.search(delivery.message_id or "") if delivery is not None else None
    return ours is not None and hmac.compare_digest(ours.group(2).encode(), token_part.encode("utf-8", "replace"))


def record_bounce(session: Session, delivery_id: int, token_part: str, reason: str) -> bool:
    delivery = session.get(EmailDelivery, delivery_id)
    if delivery is None or not _sent_as(delivery, token_part) or delivery.status != D.SENT.value:
        return False
    before = audit.snapshot(delivery)
    delivery.status, delivery.bounced_at, delivery.last_error = D.BOUNCED.value, utcnow(), f"Bounced: {reason}"[:500]
    session.add(delivery)
    number = session.execute(select(col(Invoice.number)).where(col(Invoice.id) == delivery.invoice_id)).scalar()
    distribution.alert_team(session, f"Invoice {number} bounced",
                            f"The e-mail to {delivery.recipient} bounced ({reason}). Correct the address and "
                            "send it again from Distribution.", owner_id=delivery.owner_id)
    audit.record(session, JOB, "delivery.bounced", "email_delivery", delivery.id, before=before, after=delivery)
    return True


def poll_bounces(session: Session, imap: ImapSettings | None = None) -> JobResult:
    """The scheduler job (does nothing until VRM_BOUNCE_IMAP_HOST is set)."""
    imap = imap or mail_settings.bounce_imap(session)
    if imap is None or not imap.host:
        return JobResult(0, detail="No bounce mailbox configured (VRM_BOUNCE_IMAP_HOST)")
    if imap.username is None or imap.password is None:
        raise ValueError("The bounce mailbox has no user name or password (Settings, or VRM_BOUNCE_IMAP_USER and "
                         "VRM_BOUNCE_IMAP_PASSWORD)")
    bounced = 0
    box_class = MailBox if imap.ssl else MailBoxUnencrypted
    with box_class(imap.host, imap.port, timeout=30).login(imap.username, imap.password, imap.folder) as box:
        for uid in box.uids(AND(no_keyword=PROCESSED))[:MAX_MESSAGES_PER_POLL]:
            message: MailMessage | None = None
            try:
                message = next(iter(box.fetch(uid_list=[uid], mark_seen=False, bulk=False)), None)
                if message is None:
                    continue  # deleted since the search
                found = bounced_delivery(message.obj.as_bytes())
                recorded = found is not None and record_bounce(session, *found)
                session.commit()
            except CONNECTION_ERRORS:
                session.rollback()
                raise  # the mailbox's part: the next poll takes the message again
            except Exception as error:  # noqa: BLE001 - whatever one message does, the next is still read
                session.rollback()
                _quarantine(session, box, uid, message or headers_of(box, uid), error)
                continue
            if recorded:
                bounced += 1
            mark_processed(box, uid)
    return JobResult(bounced, detail=f"{bounced} bounce(s) recorded")


def _quarantine(session: Session, box: BaseMailBox, uid: str, message: MailMessage | None, error: Exception) -> None:
    """Audit the poison message, then flag it processed and move it aside. The flag comes first:
    should the move fail, the message is still never read again."""
    log.warning("bounce mailbox message %s quarantined", uid, exc_info=error)
    audit.record(session, JOB, "bounce.quarantined", "bounce_message", uid, after={
        "subject": _header(message, "subject", "(unreadable message)"),
        "sender": _header(message, "from_", ""),
        "reason": f"The message could not be read and was moved to the {QUARANTINE} folder ({describe(error)})",
    })
    session.commit()
    set_aside(box, uid)



def _header(message: MailMessage | None, name: str, missing: str) -> str:
    if message is None:
        return missing
    try:
        return printable(getattr(message, name) or "")[:255] or missing
    except Exception:  # noqa: BLE001 - a header that cannot be decoded
        return "(unreadable)"


