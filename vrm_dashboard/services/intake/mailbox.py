"""The watched invoice mailbox: each message's invoice attachments become intakes, and only
after they are committed is the message marked processed. A crash in between makes the next
poll take the message again, and the content hash turns the repeat into a recorded duplicate:
nothing is taken twice or lost.

Each message is taken in its own transaction. One that cannot be taken (anything raised while
reading or storing it) is a poison message: its work is rolled back, it is recorded as a failed
intake with the reason, flagged and moved to the Quarantine folder, and the poll goes on with
the next message, so one bad e-mail never blocks the mailbox."""
from __future__ import annotations

import logging

from imap_tools import AND, BaseMailBox, MailBox, MailBoxUnencrypted, MailMessage, MailMessageFlags
from sqlmodel import Session

from vrm_dashboard.config import ImapSettings
from vrm_dashboard.db.models import Intake
from vrm_dashboard.domain.intake_rules import printable
from vrm_dashboard.parsing.sandbox import ReadersUnavailable
from vrm_dashboard.services.intake.invoice_files import receive_invoice
from vrm_dashboard.services.mail import settings as mail_settings
from vrm_dashboard.services.platform.actors import Actor

log = logging.getLogger("vrm.mailbox")

PROCESSED = "VrmProcessed"
QUARANTINE = "Quarantine"
INVOICE_SUFFIXES = (".pdf", ".xml")
INVOICE_TYPES = ("application/pdf", "application/xml", "text/xml")
MAX_MESSAGES_PER_POLL = 200


def _is_invoice(filename: str, content_type: str) -> bool:
    return filename.lower().endswith(INVOICE_SUFFIXES) or content_type.lower() in INVOICE_TYPES


def _open(imap: ImapSettings) -> BaseMailBox:
    if imap.username is None or imap.password is None:
        raise ValueError("The invoice mailbox needs a user and password (VRM_IMAP_USER, _PASSWORD)")
    box = (MailBox if imap.ssl else MailBoxUnencrypted)(imap.host, imap.port, timeout=30)
    return box.login(imap.username, imap.password, imap.folder)


def poll_mailbox(session: Session, imap: ImapSettings | None = None) -> int:
    """Take every unprocessed message's invoices; the number of messages handled (taken or
    quarantined)."""
    imap = imap or mail_settings.imap(session)
    if imap is None or not imap.host:
        return 0
    actor = Actor.system("mailbox")
    handled = 0
    with _open(imap) as box:
        for uid in box.uids(AND(no_keyword=PROCESSED))[:MAX_MESSAGES_PER_POLL]:
            # Fetching is the mailbox's part: a lost connection ends the poll, and the next takes over.
            message = next(iter(box.fetch(uid_list=[uid], mark_seen=False, bulk=False)), None)
            if message is None:
                continue  # deleted since the search
            try:
                _take(session, actor, message)
                session.commit()
            except ReadersUnavailable:
                session.rollback()
                raise  # no fault of the message: the next poll takes it again
            except Exception as error:  # noqa: BLE001 - whatever one message does, the next is still read
                session.rollback()
                _quarantine(session, box, uid, message, error)
            else:
                box.flag(uid, (PROCESSED, MailMessageFlags.SEEN), True)
            handled += 1
    return handled


def _take(session: Session, actor: Actor, message: MailMessage) -> None:
    sender = message.from_
    attachments = [a for a in message.attachments if _is_invoice(a.filename or "", a.content_type or "")]
    for attachment in attachments:
        receive_invoice(session, actor, attachment.payload, attachment.filename or "attachment.pdf",
                        channel="mailbox", sender=sender)
    if not attachments:
        session.add(Intake(channel="mailbox", kind="invoice", filename=_subject(message), sha256="", status="failed",
                           sender=_sender(message), reason="The message has no PDF or XML invoice attached"))


def _quarantine(session: Session, box: BaseMailBox, uid: str, message: MailMessage, error: Exception) -> None:
    """Record the poison message as a failed intake, then flag it processed and move it aside. The
    flag comes first: should the move fail, the message is still never taken again."""
    log.warning("mailbox message %s quarantined", uid, exc_info=error)
    reason = printable(f"{type(error).__name__}: {error}")[:500]
    session.add(Intake(channel="mailbox", kind="invoice", filename=_subject(message), sha256="", status="failed",
                       sender=_sender(message),
                       reason=f"The message could not be taken and was moved to the {QUARANTINE} folder ({reason})"))
    session.commit()
    box.flag(uid, (PROCESSED, MailMessageFlags.SEEN, MailMessageFlags.FLAGGED), True)
    try:
        if not box.folder.exists(QUARANTINE):
            box.folder.create(QUARANTINE)
        box.move(uid, QUARANTINE)
    except Exception:  # noqa: BLE001 - a server without folders or MOVE: the flags set it aside
        log.warning("mailbox message %s could not be moved to %s; it stays flagged", uid, QUARANTINE, exc_info=True)


def _subject(message: MailMessage) -> str:
    try:
        return printable(message.subject or "")[:255] or "(no subject)"
    except Exception:  # noqa: BLE001 - a header that cannot be decoded
        return "(unreadable subject)"


def _sender(message: MailMessage) -> str | None:
    try:
        return printable(message.from_ or "")[:254] or None
    except Exception:  # noqa: BLE001
        return None
