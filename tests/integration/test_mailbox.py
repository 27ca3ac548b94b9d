"""Invoices mailed to the watched mailbox become drafts, once each, against a real dovecot."""
from email.message import EmailMessage

import pytest
from imap_tools import AND, MailBoxUnencrypted
from sqlmodel import select

from tests import imap_server
from tests.helpers import count_rows
from tests.invoice_corpus import make_invoice
from vrm_dashboard.db.models import Intake, Invoice
from vrm_dashboard.services.intake import mailbox

pytestmark = pytest.mark.skipif(not imap_server.available(), reason="dovecot-imapd is installed by `make test`")


@pytest.fixture(scope="module")
def imap():
    with imap_server.dovecot() as settings:
        yield settings


def _mail(imap, subject, attachment=None, filename="invoice.pdf", sender="billing@northwind.example"):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "invoices@vrm.example", subject
    message.set_content("Please find our invoice attached.")
    if attachment is not None:
        message.add_attachment(attachment, maintype="application", subtype="pdf", filename=filename)
    with MailBoxUnencrypted(imap.host, imap.port).login(imap.username, imap.password) as box:
        box.append(message.as_bytes(), "INBOX")


def _clear(imap):
    with MailBoxUnencrypted(imap.host, imap.port).login(imap.username, imap.password) as box:
        box.delete([m.uid for m in box.fetch(AND(all=True), mark_seen=False)])



def test_a_mailed_invoice_becomes_a_draft_once(session, imap):
    _clear(imap)
    sample = make_invoice(31, "nl", "classic")
    _mail(imap, "Factuur", sample.pdf)
    _mail(imap, "Hello, no attachment")
    assert mailbox.poll_mailbox(session, imap) == 2
    invoice = session.execute(select(Invoice)).scalar_one()
    assert invoice.status in ("draft", "draft_valid") and invoice.kind == "parsed"
    assert invoice.vendor_invoice_number == sample.truth["invoice_number"]
    no_attachment = session.execute(select(Intake).where(Intake.status == "failed")).scalar_one()
    assert "no PDF or XML invoice" in no_attachment.reason
    # The next poll finds nothing new: both messages are marked processed.
    assert mailbox.poll_mailbox(session, imap) == 0
    assert count_rows(session, Invoice) == 1


def test_a_message_taken_again_after_a_crash_is_not_a_second_invoice(session, imap, monkeypatch):
    _clear(imap)
    _mail(imap, "Invoice", make_invoice(32, "en", "compact").pdf)
    # The invoice is committed, then the process dies before the message is flagged.
    monkeypatch.setattr(MailBoxUnencrypted, "flag", lambda *a, **k: (_ for _ in ()).throw(ConnectionError("killed")))
    with pytest.raises(ConnectionError):
        mailbox.poll_mailbox(session, imap)
    monkeypatch.undo()
    assert mailbox.poll_mailbox(session, imap) == 1
    assert count_rows(session, Invoice) == 1
    statuses = sorted(s for (s,) in session.execute(select(Intake.status)).all())
    assert statuses == ["accepted", "duplicate"]
