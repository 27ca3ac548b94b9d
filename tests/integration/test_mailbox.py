"""Invoices mailed to the watched mailbox become drafts, once each, against a real dovecot."""
import base64
import hashlib
import json
import logging
import shutil
from email.message import EmailMessage

import pytest
from imap_tools import AND, MailBoxUnencrypted
from sqlmodel import select

from tests import imap_server
from tests.helpers import count_rows
from tests.invoice_corpus import make_invoice, scanned
from tests.write_lock import another_writer_commits
from vrm_dashboard.db.models import AuditEntry, Intake, Invoice, InvoiceExtraction, JobRun, StoredDocument
from vrm_dashboard.services.intake import invoice_files, mailbox

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


def _box(imap) -> MailBoxUnencrypted:
    return MailBoxUnencrypted(imap.host, imap.port).login(imap.username, imap.password)


def _clear(imap):
    with _box(imap) as box:
        for folder in ("INBOX", mailbox.QUARANTINE):
            if box.folder.exists(folder):
                box.folder.set(folder)
                box.delete(box.uids(AND(all=True)))


def _send_raw(imap, raw: bytes) -> None:
    with _box(imap) as box:
        box.append(raw, "INBOX")


def _raw(subject: str, parts: list[tuple[bytes, bytes]], sender: str = "billing@northwind.example") -> bytes:
    """A message written by hand, so that its parts (headers, body) are as broken as a sender makes them."""
    head = (f"From: {sender}\r\nTo: invoices@vrm.example\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="part"\r\n\r\n').encode()
    return head + b"".join(b"--part\r\n" + h + b"\r\n\r\n" + body + b"\r\n" for h, body in parts) + b"--part--\r\n"


def _pdf_part(name: str, content: bytes) -> tuple[bytes, bytes]:
    return (f'Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n'
            f'Content-Disposition: attachment; filename="{name}"'.encode(),
            base64.encodebytes(content).replace(b"\n", b"\r\n"))


def _in_quarantine(imap) -> list:
    with _box(imap) as box:
        if not box.folder.exists(mailbox.QUARANTINE):
            return []
        box.folder.set(mailbox.QUARANTINE)
        return list(box.fetch(AND(all=True), mark_seen=False, headers_only=True))



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


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is not installed")
def test_a_mailed_scan_is_read_by_ocr_in_the_mailbox_job(session, imap):
    _clear(imap)
    sample = make_invoice(7, "de", "classic")
    _mail(imap, "Rechnung (Scan)", scanned(sample.pdf))
    assert mailbox.poll_mailbox(session, imap) == 1
    invoice = session.execute(select(Invoice)).scalar_one()
    assert invoice.vendor_invoice_number == sample.truth["invoice_number"]
    assert session.get(InvoiceExtraction, invoice.id).method == "ocr"


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


def test_a_poison_attachment_is_refused_alone_and_the_rest_of_its_message_is_taken(session, imap, monkeypatch):
    _clear(imap)
    good, crashing = make_invoice(33, "en", "classic"), make_invoice(34, "de", "classic")
    real = mailbox.take_invoice

    def take(session, actor, received, **kwargs):
        outcome = real(session, actor, received, **kwargs)
        if received.filename == "crash.pdf":  # after its invoice and document are written
            raise RuntimeError("a reader bug nobody foresaw")
        return outcome

    monkeypatch.setattr(mailbox, "take_invoice", take)
    _send_raw(imap, _raw("Invoices for October", [
        _pdf_part("good.pdf", good.pdf),
        # A forwarded message said to be base64 that is not: its bytes cannot be decoded.
        (b'Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n'
         b'Content-Disposition: attachment; filename="forwarded.pdf"', b"Subject: x\r\n\r\nabc"),
        # An encoded-word name whose base64 is broken.
        _pdf_part("=?utf-8?b?a?=.pdf", good.pdf[:100]),
        _pdf_part("crash.pdf", crashing.pdf),
    ]))
    assert mailbox.poll_mailbox(session, imap) == 1
    invoice = session.execute(select(Invoice)).scalar_one()
    assert invoice.vendor_invoice_number == good.truth["invoice_number"]
    # Only the good attachment left anything behind: the crash's document and invoice went back.
    assert count_rows(session, StoredDocument) == 1
    intakes = {i.filename: i for i in session.execute(select(Intake)).scalars()}
    assert set(intakes) == {"good.pdf", "forwarded.pdf", "(unreadable name)", "crash.pdf"}
    assert intakes["good.pdf"].status == "accepted" and intakes["good.pdf"].invoice_id == invoice.id
    failed = [intakes[name] for name in ("forwarded.pdf", "(unreadable name)", "crash.pdf")]
    assert all(i.status == "failed" and i.channel == "mailbox" and i.sender == "billing@northwind.example"
               for i in failed)
    assert "Incorrect padding" in intakes["forwarded.pdf"].reason
    assert "name cannot be decoded" in intakes["(unreadable name)"].reason
    assert "a reader bug nobody foresaw" in intakes["crash.pdf"].reason
    assert intakes["crash.pdf"].sha256 == hashlib.sha256(crashing.pdf).hexdigest()
    assert intakes["crash.pdf"].invoice_id is None and intakes["crash.pdf"].document_id is None
    failures = session.execute(select(AuditEntry.object_id).where(AuditEntry.action == "intake.failed")).scalars()
    assert sorted(failures) == sorted(str(i.id) for i in failed)
    # The message is done with, not quarantined: the next poll takes nothing.
    with _box(imap) as box:
        assert box.uids(AND(no_keyword=mailbox.PROCESSED)) == []
        assert [m.subject for m in box.fetch(AND(flagged=True), mark_seen=False)] == []
    assert _in_quarantine(imap) == []
    assert mailbox.poll_mailbox(session, imap) == 0
    assert count_rows(session, Intake) == 4


def test_a_poll_stops_after_its_time_budget_and_the_next_poll_takes_the_rest(session, imap, monkeypatch, caplog):
    _clear(imap)
    for n in range(3):
        _mail(imap, f"Hello {n}")
    # Each message takes the server 30 seconds; the budget is 50.
    now = [0.0]
    monkeypatch.setattr(mailbox, "monotonic", lambda: now[0])
    flag = MailBoxUnencrypted.flag

    def slow_flag(box, *args, **kwargs):
        now[0] += 30
        return flag(box, *args, **kwargs)

    monkeypatch.setattr(MailBoxUnencrypted, "flag", slow_flag)
    with caplog.at_level(logging.INFO, logger="vrm.mailbox"):
        assert mailbox.poll_mailbox(session, imap) == 2
    assert "1 of 3 unprocessed messages left" in caplog.text
    with _box(imap) as box:
        left = box.fetch(AND(no_keyword=mailbox.PROCESSED), mark_seen=False)
        assert [m.subject for m in left] == ["Hello 2"]
    monkeypatch.undo()
    assert mailbox.poll_mailbox(session, imap) == 1
    assert count_rows(session, Intake) == 3


def _nested(depth: int, subject: str, sender: str) -> bytes:
    """Multiparts inside multiparts, deeper than Python's parser can recurse."""
    head = f"From: {sender}\r\nTo: invoices@vrm.example\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n".encode()
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(depth))
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    return head + opening + b"Content-Type: text/plain\r\n\r\nhello" + closing


def test_a_message_that_cannot_be_parsed_is_quarantined_audited_and_the_next_is_taken(session, imap):
    _clear(imap)
    _send_raw(imap, _nested(3000, "Nested too deep", "mallory@hostile.example"))
    after = make_invoice(36, "en", "compact")
    _mail(imap, "After", after.pdf)
    assert mailbox.poll_mailbox(session, imap) == 2
    assert session.execute(select(Invoice.vendor_invoice_number)).scalar_one() == after.truth["invoice_number"]
    poison = session.execute(select(Intake).where(Intake.filename == "Nested too deep")).scalar_one()
    assert poison.status == "failed" and poison.sender == "mallory@hostile.example"
    assert "Quarantine" in poison.reason and "RecursionError" in poison.reason
    entry = session.execute(select(AuditEntry).where(AuditEntry.action == "intake.quarantined")).scalar_one()
    assert (entry.object_type, entry.object_id, entry.actor_label) == ("intake", str(poison.id), "system:mailbox")
    recorded = json.loads(entry.after)
    assert (recorded["filename"], recorded["sender"], recorded["reason"]) == (
        "Nested too deep", "mallory@hostile.example", poison.reason)
    quarantined = _in_quarantine(imap)
    assert len(quarantined) == 1 and "\\Flagged" in quarantined[0].flags
    assert mailbox.poll_mailbox(session, imap) == 0


def test_no_write_lock_is_held_while_a_mailed_invoice_is_read(db, session, imap, monkeypatch):
    if db.dialect.name != "sqlite":
        pytest.skip("the write lock a SQLite unit of work takes when it begins")
    _clear(imap)
    _mail(imap, "Invoice", make_invoice(37, "en", "classic").pdf)
    _mail(imap, "Another", make_invoice(38, "de", "compact").pdf)
    # While a PDF is read (up to a minute for a hostile one), the app and the other jobs still write.
    others_could_write = []
    real = invoice_files.parse_document

    def reading(content, name, **options):
        others_could_write.append(another_writer_commits(db, f"written while {name} is read"))
        return real(content, name, **options)

    monkeypatch.setattr(invoice_files, "parse_document", reading)
    assert mailbox.poll_mailbox(session, imap) == 2
    assert others_could_write == [True, True]
    assert count_rows(session, Invoice) == 2 and count_rows(session, JobRun) == 2


def test_a_message_with_too_many_invoices_has_the_first_ones_read_and_the_rest_refused(session, imap, monkeypatch):
    _clear(imap)
    count = mailbox.MAX_ATTACHMENTS_PER_MESSAGE + 3
    _send_raw(imap, _raw("Everything we ever billed", [
        _pdf_part(f"invoice-{n:02d}.pdf", b"not a PDF %d" % n) for n in range(count)]))
    read = []
    real = invoice_files.parse_document
    monkeypatch.setattr(invoice_files, "parse_document", lambda content, name, **options: read.append(name) or real(content, name, **options))
    assert mailbox.poll_mailbox(session, imap) == 1
    assert read == [f"invoice-{n:02d}.pdf" for n in range(mailbox.MAX_ATTACHMENTS_PER_MESSAGE)]
    intakes = session.execute(select(Intake).order_by(Intake.id)).scalars().all()
    assert len(intakes) == mailbox.MAX_ATTACHMENTS_PER_MESSAGE + 1
    assert all("not a PDF" in i.reason for i in intakes[:-1])
    refused = intakes[-1]
    assert refused.status == "failed" and refused.filename == "Everything we ever billed"
    assert refused.reason.startswith(f"3 more invoice attachments were not taken: a message may carry at most "
                                     f"{mailbox.MAX_ATTACHMENTS_PER_MESSAGE}")
    # Done with: the next poll does not read it again.
    assert mailbox.poll_mailbox(session, imap) == 0


def test_the_time_budget_is_checked_between_attachments_and_a_message_left_waits_whole(session, imap, monkeypatch,
                                                                                        caplog):
    _clear(imap)
    first, second, third = (make_invoice(n, "en", "compact") for n in (39, 40, 41))
    _send_raw(imap, _raw("First", [_pdf_part("first.pdf", first.pdf)]))
    _send_raw(imap, _raw("Second", [_pdf_part("second.pdf", second.pdf), _pdf_part("third.pdf", third.pdf)]))
    # Each attachment takes its reader 30 seconds; the budget is 50.
    now = [0.0]
    monkeypatch.setattr(mailbox, "monotonic", lambda: now[0])
    real = invoice_files.parse_document

    def slow(content, name, **options):
        now[0] += 30
        return real(content, name, **options)

    monkeypatch.setattr(invoice_files, "parse_document", slow)
    with caplog.at_level(logging.INFO, logger="vrm.mailbox"):
        assert mailbox.poll_mailbox(session, imap) == 1
    assert "1 of 2 unprocessed messages left" in caplog.text
    # Time ran out after second.pdf was read: nothing of its message was written, and it waits.
    assert [i.filename for i in session.execute(select(Intake)).scalars()] == ["first.pdf"]
    with _box(imap) as box:
        assert [m.subject for m in box.fetch(AND(no_keyword=mailbox.PROCESSED), mark_seen=False)] == ["Second"]
    monkeypatch.undo()
    assert mailbox.poll_mailbox(session, imap) == 1
    taken = session.execute(select(Intake.filename, Intake.status).order_by(Intake.id)).all()
    assert taken == [("first.pdf", "accepted"), ("second.pdf", "accepted"), ("third.pdf", "accepted")]
