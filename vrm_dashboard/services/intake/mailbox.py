"""The watched invoice mailbox: each message's invoice attachments become intakes, and only
after they are committed is the message marked processed. A crash in between makes the next
poll take the message again, and the content hash turns the repeat into a recorded duplicate:
nothing is taken twice or lost."""
from __future__ import annotations

from imap_tools import AND, BaseMailBox, MailBox, MailBoxUnencrypted, MailMessageFlags
from sqlmodel import Session

from vrm_dashboard.config import ImapSettings
from vrm_dashboard.db.models import Intake
from vrm_dashboard.services.intake.invoice_files import receive_invoice
from vrm_dashboard.services.mail import settings as mail_settings
from vrm_dashboard.services.platform.actors import Actor

PROCESSED = "VrmProcessed"
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
    """Take every unprocessed message's invoices; the number of messages handled."""
    imap = imap or mail_settings.imap(session)
    if imap is None or not imap.host:
        return 0
    actor = Actor.system("mailbox")
    handled = 0
    with _open(imap) as box:
        messages = box.fetch(AND(no_keyword=PROCESSED), mark_seen=False, bulk=False, limit=MAX_MESSAGES_PER_POLL)
        for message in messages:
            attachments = [a for a in message.attachments if _is_invoice(a.filename or "", a.content_type or "")]
            for attachment in attachments:
                receive_invoice(session, actor, attachment.payload, attachment.filename or "attachment.pdf",
                                channel="mailbox", sender=message.from_)
            if not attachments:
                session.add(Intake(channel="mailbox", kind="invoice", filename=(message.subject or "(no subject)")[:255],
                                   sha256="", status="failed", sender=message.from_,
                                   reason="The message has no PDF or XML invoice attached"))
            session.commit()
            assert message.uid is not None, "fetch() asks the server for every message's UID"
            box.flag(message.uid, (PROCESSED, MailMessageFlags.SEEN), True)
            handled += 1
    return handled
