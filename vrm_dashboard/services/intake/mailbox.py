"""The watched invoice mailbox: each message's invoice attachments become intakes, and only
after they are committed is the message marked processed. A crash in between makes the next
poll take the message again, and the content hash turns the repeat into a recorded duplicate:
nothing is taken twice or lost.

A message's invoice attachments (at most MAX_ATTACHMENTS_PER_MESSAGE) are read first, with no
transaction open: a document may keep its reader busy for a minute, and no other writer waits
on it. Then the message is taken in its own transaction, and each attachment in a savepoint of
it. An attachment that cannot be taken (anything raised while decoding or reading it) is rolled
back alone and recorded as a failed intake with the reason; the message's other attachments
are still taken. A message that cannot be taken at all (one Python cannot parse,
say) is a poison message: its work is rolled back, it is recorded as a failed intake with the
reason and audited, flagged and moved to the Quarantine folder, and the poll goes on with the
next message, so one bad e-mail never blocks the mailbox.

A poll stops taking messages after MAX_POLL_SECONDS, so it ends before the next one is due;
whatever is left stays unflagged for the next poll, including a message whose attachments were
still being read when the time ran out (the poll's first message excepted: it is always taken)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from time import monotonic

from imap_tools import AND, BaseMailBox, MailAttachment, MailBox, MailBoxUnencrypted, MailMessage
from sqlmodel import Session

from vrm_dashboard.config import ImapSettings
from vrm_dashboard.db.models import Intake
from vrm_dashboard.domain.intake_rules import printable
from vrm_dashboard.parsing.reader import OCR
from vrm_dashboard.parsing.sandbox import ReadersUnavailable
from vrm_dashboard.services.intake.invoice_files import ReceivedFile, failed_intake, read_invoice, take_invoice
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
from vrm_dashboard.services.platform.actors import Actor

log = logging.getLogger("vrm.mailbox")

INVOICE_SUFFIXES = (".pdf", ".xml")
INVOICE_TYPES = ("application/pdf", "application/xml", "text/xml")
MAX_MESSAGES_PER_POLL = 200
# An invoice run rarely mails more than a few at once; past this a message's further invoice
# attachments are refused (one failed intake says how many), since each may take its reader a minute.
MAX_ATTACHMENTS_PER_MESSAGE = 20
# The scheduler polls every minute and never runs two polls at once: ending within the minute
# keeps the next poll on time. Checked before each message and each invoice attachment; the
# poll's first message is always read whole, so one slow message may overrun it.
MAX_POLL_SECONDS = 50


def _is_invoice(filename: str, content_type: str) -> bool:
    return filename.lower().endswith(INVOICE_SUFFIXES) or content_type.lower() in INVOICE_TYPES


def _open(imap: ImapSettings) -> BaseMailBox:
    if imap.username is None or imap.password is None:
        raise ValueError("The invoice mailbox needs a user and password (VRM_IMAP_USER, _PASSWORD)")
    box = (MailBox if imap.ssl else MailBoxUnencrypted)(imap.host, imap.port, timeout=30)
    return box.login(imap.username, imap.password, imap.folder)


def poll_mailbox(session: Session, imap: ImapSettings | None = None) -> int:
    """Take every unprocessed message's invoices, within the time budget; the number of messages
    handled (taken or quarantined)."""
    started = monotonic()
    imap = imap or mail_settings.imap(session)
    # No unit of work stays open while the server is asked or a document is read: each message's
    # own begins once its attachments have been read.
    session.commit()
    if imap is None or not imap.host:
        return 0
    actor = Actor.system("mailbox")
    handled = looked_at = 0
    with _open(imap) as box:
        pending = box.uids(AND(no_keyword=PROCESSED))
        for uid in pending[:MAX_MESSAGES_PER_POLL]:
            # At least one message a poll, however slow the server: the mailbox always moves on.
            deadline = started + MAX_POLL_SECONDS if looked_at else None
            if deadline is not None and monotonic() >= deadline:
                break
            looked_at += 1
            try:
                message = next(iter(box.fetch(uid_list=[uid], mark_seen=False, bulk=False)), None)
            except CONNECTION_ERRORS:
                raise  # the mailbox's part: the next poll takes the message again
            except Exception as error:  # noqa: BLE001 - a message Python cannot parse (nested too deep, say)
                _quarantine(session, actor, box, uid, headers_of(box, uid), error)
                handled += 1
                continue
            if message is None:
                continue  # deleted since the search
            try:
                read = _read(message, deadline)
                if read is None:  # out of time while reading it: nothing of it is written, it waits whole
                    looked_at -= 1
                    break
                _take(session, actor, message, read)
                session.commit()
            except ReadersUnavailable:
                session.rollback()
                raise  # no fault of the message: the next poll takes it again
            except Exception as error:  # noqa: BLE001 - whatever one message does, the next is still read
                session.rollback()
                _quarantine(session, actor, box, uid, message, error)
            else:
                mark_processed(box, uid)
            handled += 1
    if looked_at < len(pending):
        log.info("mailbox poll ended with %d of %d unprocessed messages left for the next poll",
                 len(pending) - looked_at, len(pending))
    return handled


@dataclass
class _Attachment:
    """An invoice attachment as read, before anything is written."""

    name: str | None  # None when its header cannot be decoded
    read: ReceivedFile | Exception | None = None  # the file read, or what was raised reading it
    content: bytes | None = None


@dataclass
class _Read:
    """A message's invoice attachments as read."""

    attachments: list[_Attachment]
    left_over: int  # invoice attachments past MAX_ATTACHMENTS_PER_MESSAGE, not read


def _read(message: MailMessage, deadline: float | None) -> _Read | None:
    """Read the message's invoice attachments, with no unit of work open; None when the poll's
    time ran out first (`deadline`, None for the poll's first message, which is always read)."""
    attachments: list[_Attachment] = []
    left_over = 0
    for attachment in message.attachments:
        name = _name(attachment)
        if name is not None and not _is_invoice(name, attachment.content_type or ""):
            continue
        if len(attachments) >= MAX_ATTACHMENTS_PER_MESSAGE:
            left_over += 1
            continue
        if deadline is not None and monotonic() >= deadline:
            return None
        attachments.append(_read_attachment(attachment, name))
    return _Read(attachments, left_over)


def _read_attachment(attachment: MailAttachment, name: str | None) -> _Attachment:
    """Files that cannot be read as invoices are refused by read_invoice without raising; what
    raises here is what nobody foresaw, and costs only this attachment."""
    if name is None:
        return _Attachment(None)
    content: bytes | None = None
    try:
        content = attachment.payload
        return _Attachment(name, read_invoice(content, name or "attachment.pdf", ocr=OCR), content)
    except ReadersUnavailable:
        raise  # no fault of the attachment: the whole message waits for the next poll
    except Exception as error:  # noqa: BLE001 - one bad attachment never costs the others
        return _Attachment(name, error, content)


def _take(session: Session, actor: Actor, message: MailMessage, read: _Read) -> None:
    sender = _sender(message)
    for attachment in read.attachments:
        _take_attachment(session, actor, attachment, sender)
    if read.left_over:
        _failed(session, actor, _subject(message), sender,
                f"{read.left_over} more invoice attachments were not taken: a message may carry at most "
                f"{MAX_ATTACHMENTS_PER_MESSAGE}; send the rest in another message")
    elif not read.attachments:
        _failed(session, actor, _subject(message), sender, "The message has no PDF or XML invoice attached")


def _take_attachment(session: Session, actor: Actor, attachment: _Attachment, sender: str | None) -> None:
    """One attachment, in a savepoint: should it raise, only its own work is undone."""
    name, read = attachment.name, attachment.read
    if name is None or read is None:
        _failed(session, actor, "(unreadable name)", sender, "The attachment's file name cannot be decoded")
        return
    if isinstance(read, ReceivedFile):
        try:
            with session.begin_nested():
                take_invoice(session, actor, read, channel="mailbox", sender=sender)
            return
        except Exception as error:  # noqa: BLE001 - one bad attachment never costs the others
            read = error
    log.warning("mailbox attachment %r from %r not taken", name, sender, exc_info=read)
    _failed(session, actor, name or "attachment", sender,
            f"The attachment could not be taken ({describe(read)})", attachment.content)


def _failed(session: Session, actor: Actor, filename: str, sender: str | None, reason: str,
            content: bytes | None = None, action: str = "intake.failed") -> Intake:
    """A failed intake of this mailbox, audited like take_invoice's refusals."""
    return failed_intake(session, actor, filename, reason, "mailbox", sender, content, action)


def _quarantine(session: Session, actor: Actor, box: BaseMailBox, uid: str, message: MailMessage | None,
                error: Exception) -> None:
    """Record the poison message as a failed intake, then flag it processed and move it aside. The
    flag comes first: should the move fail, the message is still never taken again."""
    log.warning("mailbox message %s quarantined", uid, exc_info=error)
    subject = _subject(message) if message is not None else "(unreadable message)"
    sender = _sender(message) if message is not None else None
    _failed(session, actor, subject, sender,
            f"The message could not be taken and was moved to the {QUARANTINE} folder ({describe(error)})",
            action="intake.quarantined")
    session.commit()
    set_aside(box, uid)




def _name(attachment: MailAttachment) -> str | None:
    """The attachment's file name as sent (receive_invoice makes it printable); None when its
    header cannot be decoded."""
    try:
        return attachment.filename or ""
    except Exception:  # noqa: BLE001 - an encoded word that is not what it says
        return None


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
