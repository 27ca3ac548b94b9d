"""Invoice distribution through the service layer, against a real SMTP server (aiosmtpd) on
127.0.0.1 that also refuses, drops connections and answers 4xx and 5xx."""
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from tests.distribution_book import add_invoice, distribution_book
from tests.helpers import free_port, make_user
from tests.smtp_server import pdf_of, smtp_server
from vrm_dashboard.db.models import (
    AuditEntry,
    EmailDelivery,
    Invoice,
    InvoiceDispute,
    Notification,
    Organization,
    StoredDocument,
    Vendor,
    utcnow,
)
from vrm_dashboard.parsing.reader import parse_document
from vrm_dashboard.services.distribution import (
    bounces,
    delivered_documents,
    dispatch as distribution,
    disputes,
    reports as distribution_reports,
)
from vrm_dashboard.services.mail import outgoing as outgoing_mail
from vrm_dashboard.services.platform import settings as app_settings
from vrm_dashboard.services.platform.errors import Conflict, PermissionDenied


def _deliveries(session):
    session.expire_all()
    return {session.get(Invoice, d.invoice_id).number: d for d in session.exec(select(EmailDelivery)).all()}


def _distribute_and_send(session, inbox=None):
    distribution.distribute(session)
    session.commit()
    return outgoing_mail.send_queued(session)


def test_each_invoice_whose_trigger_holds_is_e_mailed_once_with_its_pdf(session):
    book = distribution_book(session)
    with smtp_server(free_port()) as inbox:
        result = _distribute_and_send(session)
        again = _distribute_and_send(session)
    assert (result.rows, again.rows) == (2, 0)
    deliveries = _deliveries(session)
    # Self-billing waits for the payment; the customer's invoice goes once its order is complete.
    assert set(deliveries) == {"SB-2026-0001", "AR-2026-0042"}
    assert {d.status for d in deliveries.values()} == {"sent"}
    assert [m["To"] for m in inbox.accepted] == ["ap@acme.example", "billing@globex.example"]
    vendor_mail = inbox.to("ap@acme.example")[0]
    assert vendor_mail["Subject"] == "Your VRM Dashboard Demo GmbH invoice SB-2026-0001"
    plain = vendor_mail.get_body(("plain",)).get_content()
    html = vendor_mail.get_body(("html",)).get_content()
    for body in (plain, html):
        assert "SB-2026-0001" in body and "EUR 297.50" in body and "Paid" in body
        assert "/api/v1/distribution/dispute/" in body
    # The archived PDF is the one that was sent, byte for byte, stored once under its hash.
    sent = deliveries["SB-2026-0001"]
    stored = session.get(StoredDocument, sent.document_id)
    assert pdf_of(vendor_mail) == stored.content
    assert len(stored.sha256) == 64
    # The vendor also finds it in the portal, announced by a notification.
    note = session.exec(select(Notification).where(Notification.vendor_id == book.vendor.id)).one()
    assert "SB-2026-0001" in note.subject


def test_the_sent_pdf_parses_back_through_our_own_parser(session):
    book = distribution_book(session)
    with smtp_server(free_port()) as inbox:
        _distribute_and_send(session)
    for message, invoice, seller in ((inbox.to("ap@acme.example")[0], book.paid, "Acme Media"),
                                     (inbox.to("billing@globex.example")[0], book.customer, "VRM Dashboard Demo GmbH")):
        extraction = parse_document(pdf_of(message))
        values = {k: v.value for k, v in extraction.fields.items()}
        assert values["invoice_number"] == invoice.number
        assert values["issue_date"] == invoice.issue_date and values["due_date"] == invoice.due_date
        assert values["currency"] == "EUR" and values["vendor_name"] == seller
        assert [str(values[k]) for k in ("subtotal", "tax_total", "total")] == ["250.00", "47.50", "297.50"]
        assert [(line.description, str(line.quantity), str(line.amount)) for line in extraction.lines] == [
            ("Sponsored post", "2", "200.00"), ("Banner campaign", "1", "50.00")]


def test_a_customer_who_wants_e_invoices_gets_factur_x_inside_the_pdf(session):
    book = distribution_book(session)
    book.organization.wants_einvoice = True
    session.add(book.organization)
    session.commit()
    with smtp_server(free_port()) as inbox:
        _distribute_and_send(session)
    extraction = parse_document(pdf_of(inbox.to("billing@globex.example")[0]))
    assert extraction.method == "einvoice"
    assert extraction.fields["invoice_number"].value == "AR-2026-0042"
    assert str(extraction.fields["total"].value) == "297.50"


def test_the_trigger_is_configurable_per_invoice_type(session):
    distribution_book(session)
    admin = make_user(session, "admin")
    app_settings.put(session, admin, app_settings.DISTRIBUTION_TRIGGERS,
                     {"self_billing": "order_completed", "customer": "payment_confirmed"})
    distribution.distribute(session)
    assert set(_deliveries(session)) == {"SB-2026-0001", "SB-2026-0002"}


def test_invoices_that_fail_the_checks_are_held_with_reasons_and_released_once_fixed(session):
    book = distribution_book(session)
    broken = add_invoice(session, "SB-2026-0003", "paid", vendor_id=book.vendor.id)
    broken.total_minor += 1  # subtotal + tax no longer equals the total
    session.add(broken)
    vendor = session.get(Vendor, book.vendor.id)
    vendor.email = "not-an-address"
    session.add(vendor)
    session.commit()
    distribution.distribute(session)
    deliveries = _deliveries(session)
    assert deliveries["SB-2026-0003"].status == "held"
    assert "Subtotal plus tax does not equal the total" in deliveries["SB-2026-0003"].hold_reasons
    assert "not valid" in deliveries["SB-2026-0001"].hold_reasons
    assert deliveries["AR-2026-0042"].status == "queued"
    vendor.email = "accounts@acme.example"
    session.add(vendor)
    session.commit()
    distribution.distribute(session)
    deliveries = _deliveries(session)
    assert (deliveries["SB-2026-0001"].status, deliveries["SB-2026-0001"].recipient) == ("queued", "accounts@acme.example")
    assert deliveries["SB-2026-0003"].status == "held"


def test_history_from_before_distribution_started_is_never_mailed(session):
    distribution_book(session)
    distribution.record_distribution_start(session, utcnow() + timedelta(minutes=1))
    distribution.distribute(session)
    assert _deliveries(session) == {}


def test_an_invoice_not_sent_within_24_hours_alerts_the_team_once(session):
    distribution_book(session)
    make_user(session, "finance_manager")
    distribution.distribute(session)
    session.commit()
    later = utcnow() + timedelta(hours=25)
    assert distribution.alert_overdue(session, later) == 2
    assert distribution.alert_overdue(session, later) == 0
    alert = session.exec(select(Notification).where(Notification.user_id.is_not(None))).one()
    assert "not sent within 24 hours" in alert.subject and "AR-2026-0042" in alert.body


def test_a_refusing_server_loses_nothing_and_a_later_run_sends_everything(session):
    distribution_book(session)
    distribution.distribute(session)
    session.commit()
    port = free_port()
    import os

    from vrm_dashboard import config
    os.environ.update(VRM_SMTP_HOST="127.0.0.1", VRM_SMTP_PORT=str(port), VRM_SMTP_TLS="false")
    config.settings.cache_clear()
    try:
        refused = outgoing_mail.send_queued(session)  # nothing listens on the port
    finally:
        for name in ("VRM_SMTP_HOST", "VRM_SMTP_PORT", "VRM_SMTP_TLS"):
            os.environ.pop(name)
        config.settings.cache_clear()
    assert refused.rows == 0
    deliveries = _deliveries(session)
    assert {(d.status, d.attempts) for d in deliveries.values()} == {("queued", 0)}
    assert all("unreachable" in d.last_error for d in deliveries.values())
    for d in deliveries.values():  # the retry is due
        d.next_attempt_at = None
        session.add(d)
    session.commit()
    with smtp_server(port) as inbox:
        assert outgoing_mail.send_queued(session).rows == 2
    assert len(inbox.accepted) == 2


def test_4xx_is_retried_with_backoff_5xx_fails_and_a_dropped_connection_is_resumed(session):
    book = distribution_book(session)
    extra = Organization(name="Initech", tier="direct_customer", country="US", billing_email="ap@initech.example")
    gone = Organization(name="Umbrella", tier="direct_customer", country="US", billing_email="nobody@umbrella.example")
    session.add_all([extra, gone])
    session.flush()
    add_invoice(session, "AR-2026-0043", "approved", organization_id=extra.id)
    add_invoice(session, "AR-2026-0044", "approved", organization_id=gone.id)
    session.commit()
    distribution.distribute(session)
    session.commit()
    with smtp_server(free_port()) as inbox:
        inbox.behaviour = {"ap@acme.example": "451", "nobody@umbrella.example": "550",
                           "billing@globex.example": "drop"}
        first = outgoing_mail.send_queued(session)
        deliveries = _deliveries(session)
        assert deliveries["SB-2026-0001"].status == "queued" and deliveries["SB-2026-0001"].attempts == 1
        assert deliveries["SB-2026-0001"].next_attempt_at > utcnow()
        assert deliveries["AR-2026-0044"].status == "failed" and "550" in deliveries["AR-2026-0044"].last_error
        # The connection dropped mid-message: that one waits; the next one went on a new connection.
        assert deliveries["AR-2026-0042"].status == "queued"
        assert deliveries["AR-2026-0043"].status == "sent"
        assert (first.rows, first.errors) == (1, 1)
        # Backoff: nothing is due yet.
        assert outgoing_mail.send_queued(session).rows == 0
        for number in ("SB-2026-0001", "AR-2026-0042"):
            deliveries[number].next_attempt_at = utcnow() - timedelta(seconds=1)
            session.add(deliveries[number])
        session.commit()
        inbox.behaviour = {}
        assert outgoing_mail.send_queued(session).rows == 2
        assert outgoing_mail.send_queued(session).rows == 0
    # Nothing was sent twice, nothing lost, the permanent failure stays failed.
    assert sorted(m["To"] for m in inbox.accepted) == ["ap@acme.example", "ap@initech.example",
                                                       "billing@globex.example"]
    assert book.paid.id in {d.invoice_id for d in _deliveries(session).values() if d.status == "sent"}


def test_a_sender_that_died_mid_run_is_taken_over_after_its_lease(session):
    distribution_book(session)
    distribution.distribute(session)
    session.commit()
    claimed = outgoing_mail.claim(session, 10)
    assert len(claimed) == 2
    assert outgoing_mail.claim(session, 10) == []  # a second sender takes nothing meanwhile
    later = utcnow() + timedelta(minutes=11)
    assert len(outgoing_mail.claim(session, 10, now=later)) == 2


def _bounce(delivery: EmailDelivery, action: str = "failed") -> bytes:
    """A delivery-status notification (RFC 3464) as a mail server sends it back."""
    return (
        "From: MAILER-DAEMON@mx.example\r\nTo: billing@vrm.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n"
        f"Final-Recipient: rfc822; {delivery.recipient}\r\nAction: {action}\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {delivery.message_id}\r\nSubject: {delivery.subject}\r\n--B--\r\n"
    ).encode()


def test_a_bounce_marks_the_delivery_bounced_and_alerts_the_team(session):
    distribution_book(session)
    make_user(session, "finance_manager")
    with smtp_server(free_port()):
        _distribute_and_send(session)
    sent = _deliveries(session)["AR-2026-0042"]
    assert bounces.bounced_delivery(_bounce(sent, action="delayed")) is None
    found = bounces.bounced_delivery(_bounce(sent))
    assert found is not None and found[0] == sent.id
    assert bounces.record_bounce(session, *found)
    assert not bounces.record_bounce(session, *found)  # once
    session.commit()
    bounced = _deliveries(session)["AR-2026-0042"]
    assert bounced.status == "bounced" and "5.1.1" in bounced.last_error
    alert = session.exec(select(Notification).where(Notification.user_id.is_not(None))).one()
    assert "AR-2026-0042 bounced" in alert.subject
    # The team corrects the address and sends it again.
    manager = make_user(session, "admin", "boss@test.example")
    distribution.send_again(session, manager, bounced.id, "accounts@globex.example")
    session.commit()
    with smtp_server(free_port()) as inbox:
        assert outgoing_mail.send_queued(session).rows == 1
    assert inbox.accepted[0]["To"] == "accounts@globex.example"


@pytest.mark.skipif(not __import__("tests.imap_server", fromlist=["x"]).available(),
                    reason="dovecot-imapd is installed by `make test`")
def test_bounces_are_read_from_the_bounce_mailbox(session):
    from imap_tools import MailBoxUnencrypted

    from tests import imap_server

    distribution_book(session)
    with smtp_server(free_port()):
        _distribute_and_send(session)
    sent = _deliveries(session)["SB-2026-0001"]
    with imap_server.dovecot() as imap:
        with MailBoxUnencrypted(imap.host, imap.port).login(imap.username, imap.password) as box:
            box.append(_bounce(sent), "INBOX")
        assert bounces.poll_bounces(session, imap).rows == 1
        assert bounces.poll_bounces(session, imap).rows == 0
    assert _deliveries(session)["SB-2026-0001"].status == "bounced"


def _nested_too_deep(depth: int = 3000) -> bytes:
    """Multiparts inside multiparts, deeper than Python's parser can recurse."""
    head = (b"From: mallory@hostile.example\r\nTo: bounces@vrm.example\r\nSubject: Nested too deep\r\n"
            b"MIME-Version: 1.0\r\n")
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(depth))
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    return head + opening + b"Content-Type: text/plain\r\n\r\nhello" + closing


@pytest.mark.skipif(not __import__("tests.imap_server", fromlist=["x"]).available(),
                    reason="dovecot-imapd is installed by `make test`")
def test_a_bounce_message_that_cannot_be_read_is_quarantined_and_the_next_bounce_is_recorded(session):
    import json

    from imap_tools import AND, MailBoxUnencrypted

    from tests import imap_server

    distribution_book(session)
    with smtp_server(free_port()):
        _distribute_and_send(session)
    sent = _deliveries(session)["SB-2026-0001"]
    with imap_server.dovecot() as imap:
        with MailBoxUnencrypted(imap.host, imap.port).login(imap.username, imap.password) as box:
            box.append(_nested_too_deep(), "INBOX")
            box.append(_bounce(sent), "INBOX")
        assert bounces.poll_bounces(session, imap).rows == 1
        # The poison message is out of the way: later polls neither fail nor read it again.
        assert bounces.poll_bounces(session, imap).rows == 0
        with MailBoxUnencrypted(imap.host, imap.port).login(imap.username, imap.password) as box:
            box.folder.set(bounces.QUARANTINE)
            quarantined = list(box.fetch(AND(all=True), mark_seen=False, headers_only=True))
    assert _deliveries(session)["SB-2026-0001"].status == "bounced"
    assert [m.subject for m in quarantined] == ["Nested too deep"] and "\\Flagged" in quarantined[0].flags
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "bounce.quarantined")).one()
    recorded = json.loads(entry.after)
    assert (entry.actor_label, recorded["subject"], recorded["sender"]) == (
        "system:bounce_mailbox", "Nested too deep", "mallory@hostile.example")
    assert "Quarantine" in recorded["reason"] and "RecursionError" in recorded["reason"]


def test_the_vendor_opens_its_invoice_in_the_portal_which_marks_it_viewed(session):
    book = distribution_book(session)
    vendor_user = make_user(session, "vendor", "me@acme.example", vendor_id=book.vendor.id)
    other = make_user(session, "vendor", "other@else.example")
    with smtp_server(free_port()):
        _distribute_and_send(session)
    documents = delivered_documents.own_documents(session, vendor_user)
    assert [(d.number, d.viewed) for d in documents] == [("SB-2026-0001", False)]
    pdf = delivered_documents.sent_pdf(session, vendor_user, book.paid.id)
    session.commit()
    assert pdf.content.startswith(b"%PDF")
    assert delivered_documents.own_documents(session, vendor_user)[0].viewed
    with pytest.raises(PermissionDenied):
        delivered_documents.sent_pdf(session, other, book.paid.id)
    # The customer's link works without an account, and marks its delivery viewed too.
    link = _deliveries(session)["AR-2026-0042"]
    assert delivered_documents.pdf_by_link(session, link.token).content.startswith(b"%PDF")
    session.commit()
    assert _deliveries(session)["AR-2026-0042"].viewed_at is not None


def test_a_dispute_is_answered_by_a_credit_note_and_a_corrected_revision(session):
    book = distribution_book(session)
    vendor_user = make_user(session, "vendor", "me@acme.example", vendor_id=book.vendor.id)
    manager = make_user(session, "finance_manager")
    viewer = make_user(session, "viewer")
    with smtp_server(free_port()):
        _distribute_and_send(session)
    dispute = disputes.dispute_from_portal(session, vendor_user, book.paid.id, "The banner ran for half a month")
    session.commit()
    rows, total = disputes.list_disputes(session, manager)
    assert total == 1 and rows[0].number == "SB-2026-0001"
    lines, rate = disputes.original_lines(session, manager, dispute.id)
    assert rate == "19" and [l.description for l in lines] == ["Sponsored post", "Banner campaign"]
    with pytest.raises(PermissionDenied):
        disputes.reissue(session, viewer, dispute.id, lines, rate)
    # A paid invoice keeps its payment: a different total is refused and nothing changes.
    cheaper = [lines[0], disputes.CorrectedLine("Banner campaign (half month)", "1", "25.00")]
    with pytest.raises(Conflict, match="paid"):
        disputes.reissue(session, manager, dispute.id, cheaper, rate)
    renamed = [lines[0], disputes.CorrectedLine("Banner campaign, October", "1", "50.00")]
    credit, revised = disputes.reissue(session, manager, dispute.id, renamed, rate, "Corrected the description")
    session.commit()
    assert (credit.number, credit.document_type, credit.total_minor, credit.status) == (
        "CN-SB-2026-0001", "credit_note", -29750, "paid")
    assert (revised.number, revised.revision, revised.total_minor, revised.status) == ("SB-2026-0001-R1", 1, 29750, "paid")
    assert session.get(InvoiceDispute, dispute.id).status == "reissued"
    with smtp_server(free_port()) as inbox:
        assert outgoing_mail.send_queued(session).rows == 2
    subjects = sorted(m["Subject"] for m in inbox.accepted)
    assert subjects == ["Your VRM Dashboard Demo GmbH credit note CN-SB-2026-0001",
                        "Your VRM Dashboard Demo GmbH invoice SB-2026-0001-R1"]
    revision_pdf = parse_document(pdf_of(next(m for m in inbox.accepted if "R1" in m["Subject"])))
    assert revision_pdf.lines[1].description == "Banner campaign, October"
    assert session.exec(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "invoice.reissue")).one() == 1


def test_an_unpaid_invoice_reissued_with_a_new_total_is_approved_afresh_and_its_old_payout_voided(monkeypatch, session):
    import tempfile
    from pathlib import Path

    from tests.payout_book import approved_book, use_payout_environment
    from vrm_dashboard.db.models import Payout

    use_payout_environment(monkeypatch, Path(tempfile.mkdtemp()))
    approved_book(session)
    manager = make_user(session, "finance_manager", "fm2@test.example")
    session.expire_all()  # the book approves in SQL
    invoice = session.exec(select(Invoice).where(Invoice.status == "approved")).first()
    dispute = InvoiceDispute(invoice_id=invoice.id, raised_by_email="ap@acme.example", reason="Wrong amount")
    session.add(dispute)
    session.commit()
    credit, revised = disputes.reissue(session, manager, dispute.id,
                                       [disputes.CorrectedLine("Corrected work", "1", "10.00")], "0")
    session.commit()
    session.expire_all()
    assert session.get(Invoice, invoice.id).status == "archived"
    # A new amount is approved afresh, with approval's controls: its re-issuer sent it, and
    # may not approve it.
    assert (revised.status, revised.total_minor, revised.submitted_by_id) == ("pending", 1000, manager.user_id)
    payouts = {p.invoice_id: p.status for p in session.exec(select(Payout)).all()}
    # The original's payout is voided (never paid, kept in the history); the revision has none yet.
    assert payouts[invoice.id] == "voided" and revised.id not in payouts


def test_the_report_counts_by_day_week_and_month_and_exports_to_excel(session):
    import io

    from openpyxl import load_workbook

    distribution_book(session)
    manager = make_user(session, "finance_manager")
    with smtp_server(free_port()) as inbox:
        inbox.behaviour = {"billing@globex.example": "550"}
        _distribute_and_send(session)
    link = _deliveries(session)["SB-2026-0001"]
    delivered_documents.pdf_by_link(session, link.token)
    session.commit()
    for period in ("day", "week", "month"):
        rows = distribution_reports.report(session, manager, period)
        assert len(rows) == 1
        row = rows[0]
        assert (row.sent, row.delivered, row.bounced, row.failed, row.viewed, row.paid) == (1, 1, 0, 1, 1, 1)
        assert row.success_rate == 50.0
    sheet = load_workbook(io.BytesIO(distribution_reports.report_xlsx(rows, "month"))).active
    assert [c.value for c in sheet[1]][:3] == ["Period starting", "Sent", "Delivered"]
    assert [c.value for c in sheet[2]][1:] == [1, 1, 0, 1, 1, 1, 50.0]


def test_branding_shapes_the_next_invoices_and_a_bad_logo_changes_nothing(session):
    import io

    from PIL import Image

    from vrm_dashboard.services.distribution import branding
    from vrm_dashboard.services.platform.errors import FieldErrors

    distribution_book(session)
    admin = make_user(session, "admin")
    with pytest.raises(FieldErrors, match="PNG or JPEG"):
        branding.update(session, admin, {"company_name": "Nope Ltd"}, (b"GIF89a...", "logo.gif"))
    with pytest.raises(FieldErrors):
        branding.update(session, admin, {"company_name": "Nope Ltd", "colour": "blue"})
    assert branding.current(session).company_name == "VRM Dashboard Demo GmbH"
    png = io.BytesIO()
    Image.new("RGB", (60, 20), (31, 78, 121)).save(png, format="PNG")
    branding.update(session, admin, {"company_name": "Northwind Payables", "colour": "#AA3300",
                                     "address": "1 Harbour Road\nLondon"}, (png.getvalue(), "logo.png"))
    session.commit()
    assert branding.current(session).logo == png.getvalue()
    with smtp_server(free_port()) as inbox:
        _distribute_and_send(session)
    customer = inbox.to("billing@globex.example")[0]
    assert customer["Subject"] == "Your Northwind Payables invoice AR-2026-0042"
    assert parse_document(pdf_of(customer)).fields["vendor_name"].value == "Northwind Payables"


def test_a_large_run_renders_in_worker_processes_with_the_same_result(session, monkeypatch):
    book = distribution_book(session)
    for n in range(3, 7):
        add_invoice(session, f"SB-2026-{n:04d}", "paid", vendor_id=book.vendor.id)
    session.commit()
    monkeypatch.setattr(outgoing_mail, "PARALLEL_FROM", 2)
    monkeypatch.setattr(outgoing_mail, "CHUNK", 2)
    distribution.distribute(session)
    session.commit()
    with smtp_server(free_port()) as inbox:
        assert outgoing_mail.send_queued(session).rows == 6
    numbers = sorted(parse_document(pdf_of(m)).fields["invoice_number"].value for m in inbox.accepted)
    assert numbers == ["AR-2026-0042", "SB-2026-0001", "SB-2026-0003", "SB-2026-0004", "SB-2026-0005",
                       "SB-2026-0006"]
    stored = {d.document_id for d in _deliveries(session).values()}
    assert None not in stored and len(stored) == 6


def test_a_credit_note_is_not_reissued_and_a_revision_is_numbered_on(session):
    book = distribution_book(session)
    manager = make_user(session, "finance_manager")
    with smtp_server(free_port()):
        _distribute_and_send(session)
    first = InvoiceDispute(invoice_id=book.paid.id, raised_by_email="ap@acme.example", reason="Typo")
    session.add(first)
    session.commit()
    lines, rate = disputes.original_lines(session, manager, first.id)
    credit, revised = disputes.reissue(session, manager, first.id, lines, rate)
    session.commit()
    on_credit = InvoiceDispute(invoice_id=credit.id, raised_by_email="ap@acme.example", reason="Why negative?")
    again = InvoiceDispute(invoice_id=revised.id, raised_by_email="ap@acme.example", reason="Still a typo")
    session.add_all([on_credit, again])
    session.commit()
    with pytest.raises(Conflict, match="credit note"):
        disputes.reissue(session, manager, on_credit.id, lines, rate)
    _credit, second = disputes.reissue(session, manager, again.id, lines, rate)
    assert second.number == "SB-2026-0001-R2" and second.revision == 2
