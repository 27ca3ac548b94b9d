"""The hostile-file corpus (tests/hostile_files.py) sent through the intake services: vendor
invoice files, activity imports (files and JSON rows), bank statements, and the watched mailbox
on a real dovecot. Every file gets a clear refusal or a safe result, nothing is half-stored, no
entity is expanded or fetched, and a poison e-mail never holds up the mailbox.

One database per channel and a loop over its files, collecting every failure, so one run
reports them all."""
from __future__ import annotations

import socket
import threading
from email.message import EmailMessage
from urllib.parse import quote

import pandas as pd
import pytest
from imap_tools import AND, MailBoxUnencrypted, MailMessage
from sqlmodel import SQLModel, select

from tests import imap_server
from tests.helpers import count_rows, make_user, vendor_input
from tests.hostile_files import ACTIVITY_VENDOR, POISON_NUMBERS, HostileFile, expected, hostile_files
from tests.invoice_corpus import make_invoice
from vrm_dashboard.db.models import (
    ActivityRecord,
    BankStatement,
    Intake,
    Invoice,
    InvoiceExtraction,
    InvoiceLine,
    StatementLine,
    StoredDocument,
)
from vrm_dashboard.services.intake import activity_import, invoice_files, mailbox
from vrm_dashboard.services.payouts import bank_statements
from vrm_dashboard.services.platform.errors import Conflict, FieldErrors
from vrm_dashboard.services.vendors import rate_rules, records as vendor_service

PASSWD_LINE = "root:x:0:0"  # what file:///etc/passwd would leak
UNPRINTABLE = [chr(c) for c in (*range(32), 127)]


class Listener:
    """A TCP port the corpus points its external entities and DTDs at: nothing may connect."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.connections = 0
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            connection.close()


@pytest.fixture(scope="module")
def listener():
    probe = Listener()
    yield probe
    probe.server.close()


@pytest.fixture(scope="module")
def corpus(listener) -> list[HostileFile]:
    files = hostile_files(listener.url)
    assert len(files) >= 300
    return files


def _for(corpus: list[HostileFile], channel: str) -> list[HostileFile]:
    return [f for f in corpus if f.kind.split(":")[0] in (channel, "any")]


def _counts(session, models: tuple[type[SQLModel], ...]) -> dict[str, int]:
    return {model.__name__: count_rows(session, model) for model in models}


def _clear(message: str) -> str | None:
    """Why a refusal message is not one a person can act on (None when it is)."""
    if not message.strip():
        return "no reason given"
    if "Traceback" in message or len(message) > 2000:
        return "a traceback or a wall of text instead of a reason"
    return None


def _outcome_failures(item: HostileFile, channel: str, refused: bool, message: str) -> list[str]:
    want = expected(item.kind, channel)
    problems = []
    if want == "refused" and not refused:
        problems.append(f"was accepted ({message})")
    if want == "accepted" and refused:
        problems.append(f"was refused: {message}")
    if refused and (unclear := _clear(message)):
        problems.append(f"refused with {unclear}: {message[:300]!r}")
    attack = item.kind.split(":")[1]
    if refused and attack in ("non_finite", "huge_amount", "embedded_non_finite") and not any(
            words in message for words in ("not a number", "too large", "not an amount", "negative", "no transactions")):
        problems.append(f"refused without saying the amount is the problem: {message[:300]!r}")
    if refused and attack in ("xxe", "billion_laughs", "dtd", "embedded_xxe") and "DOCTYPE" not in message:
        problems.append(f"refused without naming the DOCTYPE: {message[:300]!r}")
    return [f"{item.name[:60]!r} ({item.kind}): {p}" for p in problems]


INVOICE_TABLES = (Intake, StoredDocument, Invoice, InvoiceLine, InvoiceExtraction)


def test_every_hostile_invoice_file_is_refused_clearly_or_read_safely(session, corpus, listener):
    finance = make_user(session, "finance_manager")
    failures: list[str] = []
    for item in _for(corpus, "invoice"):
        before = _counts(session, INVOICE_TABLES)
        try:
            outcome = invoice_files.receive_invoice(session, finance, item.content, item.name)
            session.commit()
        except Exception as error:  # noqa: BLE001 - every error is a finding
            session.rollback()
            failures.append(f"{item.name[:60]!r} ({item.kind}): raised {type(error).__name__}: {str(error)[:200]}")
            continue
        grown = {name: n - before[name] for name, n in _counts(session, INVOICE_TABLES).items() if n != before[name]}
        if grown.get("Intake") != 1:
            failures.append(f"{item.name[:60]!r} ({item.kind}): {grown.get('Intake', 0)} intakes recorded")
        if outcome.status in ("failed", "duplicate") and set(grown) - {"Intake"}:
            failures.append(f"{item.name[:60]!r} ({item.kind}): refused, yet stored {grown}")
        failures += _outcome_failures(item, "invoice", outcome.status == "failed", outcome.message)
    # Names are stored printable; nothing from an entity reached a field.
    for intake in session.execute(select(Intake)).scalars():
        if any(c in intake.filename for c in UNPRINTABLE) or any(c in (intake.reason or "") for c in UNPRINTABLE):
            failures.append(f"intake {intake.id} keeps control characters: {intake.filename[:60]!r}")
    for document in session.execute(select(StoredDocument)).scalars():
        if any(c in document.filename for c in UNPRINTABLE):
            failures.append(f"stored document {document.id} keeps control characters: {document.filename[:60]!r}")
    for extraction in session.execute(select(InvoiceExtraction)).scalars():
        if PASSWD_LINE in extraction.fields or "lollol" in extraction.fields:
            failures.append(f"an entity was expanded into invoice {extraction.invoice_id}")
    assert listener.connections == 0, "an external entity or DTD was fetched"
    assert not failures, "\n".join(failures)


@pytest.fixture
def rated(session):
    finance = make_user(session, "finance_manager")
    vendor = vendor_service.create_vendor(session, finance, vendor_input(vendor_code=ACTIVITY_VENDOR, name="Hostile Media"))
    rate_rules.set_rate_card(session, finance, vendor.id, "EUR")
    rate_rules.set_rate_rule(session, finance, vendor.id, "clicks", per_unit_rate="0.015")
    rate_rules.set_rate_rule(session, finance, vendor.id, "sales", revenue_share_percent="10")
    session.commit()
    return finance


ACTIVITY_TABLES = (Intake, ActivityRecord, Invoice, InvoiceLine)


def test_every_hostile_activity_file_is_refused_clearly_or_imported_safely(session, corpus, rated):
    failures: list[str] = []
    for item in _for(corpus, "activity"):
        before = _counts(session, ACTIVITY_TABLES)
        try:
            result = activity_import.import_activity_file(session, rated, item.content, item.name)
            session.commit()
        except Exception as error:  # noqa: BLE001 - every error is a finding
            session.rollback()
            failures.append(f"{item.name[:60]!r} ({item.kind}): raised {type(error).__name__}: {str(error)[:200]}")
            continue
        grown = {name: n - before[name] for name, n in _counts(session, ACTIVITY_TABLES).items() if n != before[name]}
        if grown.get("Intake") != 1:
            failures.append(f"{item.name[:60]!r} ({item.kind}): {grown.get('Intake', 0)} intakes recorded")
        if result.refused and set(grown) - {"Intake"}:
            failures.append(f"{item.name[:60]!r} ({item.kind}): refused, yet stored {grown}")
        failures += _outcome_failures(item, "activity", result.refused, result.message)
    assert not failures, "\n".join(failures)


def test_activity_rows_as_json_with_hostile_amounts_are_refused(session, rated):
    """The API's JSON rows arrive as text cells, as a file's do."""
    source = activity_import.source_named(session, "api", kind="api")
    for number in POISON_NUMBERS:
        for column, other in (("revenue", {"activity_type": "sales", "quantity": "1"}),
                              ("quantity", {"activity_type": "clicks"})):
            row = {"vendor": ACTIVITY_VENDOR, "date": "2026-10-03", "currency": "EUR", **other, column: number}
            result = activity_import.import_activity_rows(session, rated, pd.DataFrame([row]).astype(str), source,
                                                          "api", "api-batch")
            session.commit()
            assert result.refused, (column, number)
            assert any(words in result.message for words in ("not a number", "not an amount", "too large", "negative")), \
                result.message
    assert count_rows(session, ActivityRecord) == 0


STATEMENT_TABLES = (BankStatement, StatementLine, StoredDocument)


def test_every_hostile_bank_statement_is_refused_clearly_or_imported_safely(session, corpus, listener):
    finance = make_user(session, "finance_manager")
    failures: list[str] = []
    for item in _for(corpus, "statement"):
        before = _counts(session, STATEMENT_TABLES)
        refused, message = False, ""
        try:
            report = bank_statements.import_statement(session, finance, item.name, item.content)
            session.commit()
            message = f"{report.lines} lines"
        except (FieldErrors, Conflict) as refusal:
            session.rollback()
            refused, message = True, " ".join(getattr(refusal, "errors", {}).values()) or str(refusal)
        except Exception as error:  # noqa: BLE001 - every error is a finding
            session.rollback()
            failures.append(f"{item.name[:60]!r} ({item.kind}): raised {type(error).__name__}: {str(error)[:200]}")
            continue
        grown = {name: n - before[name] for name, n in _counts(session, STATEMENT_TABLES).items() if n != before[name]}
        if refused and grown:
            failures.append(f"{item.name[:60]!r} ({item.kind}): refused, yet stored {grown}")
        failures += _outcome_failures(item, "statement", refused, message)
    for line in session.execute(select(StatementLine)).scalars():
        if PASSWD_LINE in line.counterparty or "lollol" in line.counterparty:
            failures.append(f"an entity was expanded into statement line {line.id}")
    assert listener.connections == 0, "an external entity or DTD was fetched"
    assert not failures, "\n".join(failures)


# --- the mailbox -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def imap():
    if not imap_server.available():
        pytest.skip("dovecot-imapd is installed by `make test`")
    with imap_server.dovecot() as settings:
        yield settings


def _box(imap) -> MailBoxUnencrypted:
    return MailBoxUnencrypted(imap.host, imap.port).login(imap.username, imap.password)


def _reset(imap) -> None:
    with _box(imap) as box:
        for folder in ("INBOX", mailbox.QUARANTINE):
            if box.folder.exists(folder):
                box.folder.set(folder)
                box.delete([m.uid for m in box.fetch(AND(all=True), mark_seen=False)])


def _message(subject: str, attachments: list[tuple[str, bytes, str]], sender: str = "billing@hostile.example") -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "invoices@vrm.example", subject
    message.set_content("Invoices attached.")
    for name, content, content_type in attachments:
        maintype, subtype = content_type.split("/", 1)
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename="placeholder")
        # The name as RFC 2231 encodes it, so quotes, CR/LF, NUL and any script arrive as sent.
        del message.get_payload()[-1]["Content-Disposition"]
        message.get_payload()[-1]["Content-Disposition"] = f"attachment; filename*=utf-8''{quote(name, safe='')}"
    return message.as_bytes()


def _send(imap, *messages: bytes) -> None:
    with _box(imap) as box:
        for raw in messages:
            box.append(raw, "INBOX")


def _unprocessed(imap) -> int:
    with _box(imap) as box:
        return len(box.uids(AND(no_keyword=mailbox.PROCESSED)))


def test_hostile_mail_is_taken_or_refused_and_never_blocks_the_next_message(session, corpus, imap):
    _reset(imap)
    invoices = [f for f in _for(corpus, "invoice") if f.name.lower().endswith((".pdf", ".xml"))]
    # A few files of every kind, three to a message; then odd headers; then a good invoice.
    picked: dict[str, list[HostileFile]] = {}
    for item in invoices:
        picked.setdefault(item.kind, [])
        if len(picked[item.kind]) < 3:
            picked[item.kind].append(item)
    chosen = [item for group in picked.values() for item in group]
    batches = [chosen[i:i + 3] for i in range(0, len(chosen), 3)]
    good = make_invoice(41, "en", "classic")
    _send(imap, *[_message(f"Hostile {n}", [(f.name, f.content, f.content_type) for f in batch])
                  for n, batch in enumerate(batches)],
          _message("ODD-SUBJECT", [("fine.pdf", make_invoice(42, "de", "compact").pdf, "application/pdf")],
                   sender=f"{'x' * 300}@hostile.example").replace(
              b"Subject: ODD-SUBJECT", b"Subject: =?utf-8?q?Nul=00_in_the_subject=0D=0A_=E2=80=AE_and_a_long_sender?="),
          _message("The good one", [("good.pdf", good.pdf, "application/pdf")]))
    assert mailbox.poll_mailbox(session, imap) == len(batches) + 2
    assert _unprocessed(imap) == 0
    intakes = session.execute(select(Intake).where(Intake.channel == "mailbox")).scalars().all()
    assert len(intakes) == len(chosen) + 2
    by_name = {i.filename: i for i in intakes}
    failures = []
    for item in chosen:
        want = expected(item.kind, "invoice")
        found = [i for i in intakes if i.sha256 and i.sha256 == _sha(item.content)]
        if not found:
            failures.append(f"{item.name[:60]!r}: no intake recorded")
        elif want == "refused" and found[0].status != "failed":
            failures.append(f"{item.name[:60]!r} ({item.kind}): {found[0].status}")
    assert not failures, "\n".join(failures)
    taken = session.execute(select(Invoice).join(Intake, Intake.invoice_id == Invoice.id)
                            .where(Intake.filename == "good.pdf")).scalar_one()
    assert taken.vendor_invoice_number == good.truth["invoice_number"]
    assert by_name["fine.pdf"].status == "accepted" and len(by_name["fine.pdf"].sender) <= 254
    # Nothing half-stored: every stored document and invoice belongs to an accepted intake.
    accepted = [i for i in intakes if i.status == "accepted"]
    assert count_rows(session, StoredDocument) == len({i.document_id for i in accepted})
    assert count_rows(session, Invoice) == len(accepted)
    assert mailbox.poll_mailbox(session, imap) == 0


def _sha(content: bytes) -> str:
    import hashlib

    return hashlib.sha256(content).hexdigest()


def test_a_poison_message_is_quarantined_and_the_next_one_is_taken(session, imap, monkeypatch):
    _reset(imap)
    real = MailMessage.attachments.func

    def attachments(message):  # type: ignore[no-untyped-def]
        if message.subject == "Poison":  # a message whose parts cannot be told apart
            raise RuntimeError("a parser bug nobody foresaw")
        return real(message)

    monkeypatch.setattr(MailMessage, "attachments", property(attachments))
    first, second = make_invoice(43, "fr", "classic"), make_invoice(44, "es", "classic")
    _send(imap, _message("First", [("first.pdf", first.pdf, "application/pdf")]),
          _message("Poison", [("before-poison.pdf", make_invoice(45, "nl", "classic").pdf, "application/pdf"),
                              ("poison.pdf", b"%PDF-1.7 whatever", "application/pdf")]),
          _message("Second", [("second.pdf", second.pdf, "application/pdf")]))
    assert mailbox.poll_mailbox(session, imap) == 3
    numbers = sorted(n for (n,) in session.execute(select(Invoice.vendor_invoice_number)).all())
    assert numbers == sorted([first.truth["invoice_number"], second.truth["invoice_number"]])
    poison = session.execute(select(Intake).where(Intake.filename == "Poison")).scalar_one()
    assert poison.status == "failed" and "Quarantine" in poison.reason and "a parser bug nobody foresaw" in poison.reason
    with _box(imap) as box:
        assert len(box.uids(AND(no_keyword=mailbox.PROCESSED))) == 0
        box.folder.set(mailbox.QUARANTINE)
        quarantined = list(box.fetch(AND(all=True), mark_seen=False))
    assert [m.subject for m in quarantined] == ["Poison"] and "\\Flagged" in quarantined[0].flags
    # The next poll takes nothing again, the quarantined message included.
    assert mailbox.poll_mailbox(session, imap) == 0
    assert count_rows(session, Intake) == 3
