"""What every mailbox we watch does with its messages (the invoice mailbox, the bounce mailbox):
a handled message is flagged processed, and one that cannot be handled is flagged and moved to a
Quarantine folder, so it never comes first in every poll again. Anyone can send to these
mailboxes: a message is hostile input."""
from __future__ import annotations

import imaplib
import logging

from imap_tools import BaseMailBox, MailMessage, MailMessageFlags
from imap_tools.errors import ImapToolsError

from vrm_dashboard.domain.intake_rules import printable

log = logging.getLogger("vrm.mailbox")

PROCESSED = "VrmProcessed"
QUARANTINE = "Quarantine"
# What the connection to the server raises: the poll ends and the next one takes over. Anything
# else raised while fetching or handling a message comes from the message itself.
CONNECTION_ERRORS = (OSError, imaplib.IMAP4.error, ImapToolsError)
REASON_CHARS = 500


def mark_processed(box: BaseMailBox, uid: str) -> None:
    box.flag(uid, (PROCESSED, MailMessageFlags.SEEN), True)


def set_aside(box: BaseMailBox, uid: str) -> None:
    """Flag the message processed, then move it to the Quarantine folder. The flag comes first:
    should the move fail, the message is still never taken again."""
    box.flag(uid, (PROCESSED, MailMessageFlags.SEEN, MailMessageFlags.FLAGGED), True)
    try:
        if not box.folder.exists(QUARANTINE):
            box.folder.create(QUARANTINE)
        box.move(uid, QUARANTINE)
    except Exception:  # noqa: BLE001 - a server without folders or MOVE: the flags set it aside
        log.warning("mailbox message %s could not be moved to %s; it stays flagged", uid, QUARANTINE, exc_info=True)


def headers_of(box: BaseMailBox, uid: str) -> MailMessage | None:
    """The headers alone of a message that cannot be parsed whole: its subject and sender name
    what was set aside."""
    try:
        return next(iter(box.fetch(uid_list=[uid], mark_seen=False, headers_only=True, bulk=False)), None)
    except CONNECTION_ERRORS:
        raise
    except Exception:  # noqa: BLE001 - then the record says the message was unreadable
        return None


def describe(error: Exception) -> str:
    """Why a message was set aside, fit for a record a person reads."""
    return printable(f"{type(error).__name__}: {error}")[:REASON_CHARS]
