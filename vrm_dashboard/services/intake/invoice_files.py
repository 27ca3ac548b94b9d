"""Vendor invoice files in: kept once, read, matched to a vendor, checked for duplicates, and
entered as a Draft (or Draft Valid when nothing is missing). An invoice that cannot be read
(encrypted, damaged, too long, a scan OCR cannot read, an e-invoice of an unknown kind) is a
Draft that says why, for a person to complete; whatever else cannot be read (not an invoice
file, a bomb) is recorded as a failed intake with its reason and changes nothing else.

A scan received in a web request is not read there (OCR takes about a second a page): it is a
Draft waiting for OCR, which the intake job reads (read_scanned) and fills in.

Reading a file (read_invoice) touches no database, and entering what was read (take_invoice)
runs only short statements: where files arrive, each is read before its unit of work begins,
so a hostile document that keeps its reader busy for a minute holds no lock meanwhile."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlmodel import Session, col

from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import (
    AuditEntry,
    Intake,
    Invoice,
    InvoiceExtraction,
    InvoiceKind,
    InvoiceLine,
    StoredDocument,
    Vendor,
    stored_id,
    utcnow,
)
from vrm_dashboard.domain.intake_rules import MAX_QUANTITY, ParsedFacts, draft_problems, printable
from vrm_dashboard.domain.invoice_status import InvoiceStatus
from vrm_dashboard.domain.money import MoneyError, check_currency, to_minor_units
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.domain.vendor_rules import VendorInput
from vrm_dashboard.parsing import Extraction, UnreadableDocument, parse_document
from vrm_dashboard.parsing.reader import MAX_BYTES, SCANNED, CompleteByHand, OcrLimits
from vrm_dashboard.services.intake import reading_hints
from vrm_dashboard.services.invoices import flags as invoice_flags, rollup as invoice_rollup
from vrm_dashboard.services.platform import audit, documents
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import Conflict, NotFound, PermissionDenied
from vrm_dashboard.services.vendors import onboarding as vendor_onboarding, records as vendor_service
from vrm_dashboard.services.vendors.matching import Suggestion, match_vendor

S = InvoiceStatus
_DEAD = (S.ARCHIVED.value, S.REJECTED.value)
_CONTENT_TYPES = {b"%PDF": "application/pdf", b"<": "application/xml"}
# The largest invoice file the reader reads: where files arrive, no more than this is read.
MAX_FILE_BYTES = MAX_BYTES
# The extraction of an invoice file that could not be read: a person completes its draft.
UNREAD = "unread"


@dataclass
class IntakeOutcome:
    intake_id: int
    status: str  # accepted, duplicate, failed
    message: str
    invoice_id: int | None = None
    invoice_status: str | None = None
    problems: list[str] = field(default_factory=list)


def may_send(actor: Actor) -> None:
    """What may_receive asks of the actor alone, without the database: staff who import, or a
    vendor's login. PermissionDenied otherwise."""
    if actor.can(Action.INTAKE_IMPORT) or (actor.can(Action.PORTAL_USE) and actor.vendor_id is not None):
        return
    require(actor, Action.INTAKE_IMPORT)


def may_receive(session: Session, actor: Actor, vendor_id: int | None = None) -> int | None:
    """Staff who import, or an approved vendor sending its own invoice (which is then its own
    by force); PermissionDenied otherwise. Callers check it before reading any file."""
    may_send(actor)
    if actor.can(Action.INTAKE_IMPORT):
        return vendor_id
    return vendor_onboarding.require_approved(session, actor).id


@dataclass(frozen=True)
class ReceivedFile:
    """An invoice file as received, and what reading it gave: its extraction, or why it could
    not be read."""

    filename: str
    sha256: str  # "" when the file was refused unread
    size_bytes: int
    content: bytes | None  # None when the file was refused unread, for its size
    extraction: Extraction | None = None
    refusal: str | None = None


def read_invoice(content: bytes, filename: str, ocr: OcrLimits | None = None) -> ReceivedFile:
    """Read a received file, touching no database. Reading a PDF may take its worker's whole
    deadline, so callers read with no unit of work open (on SQLite one holds the write lock from
    its first statement, and every other writer would wait on this file), then enter the result
    with take_invoice in a short one. ReadersUnavailable when no reader can be started.

    `ocr` (the intake job, the CLI; never a web request) reads scanned pages within its
    limits; without it a scan is read as SCANNED, a draft the intake job reads later."""
    name = printable(filename or "")[:255] or "invoice"
    try:
        extraction, refusal = parse_document(content, name, ocr=ocr), None
    except CompleteByHand as error:
        extraction, refusal = unread(str(error)), None
    except UnreadableDocument as error:
        extraction, refusal = None, str(error)
    return ReceivedFile(name, hashlib.sha256(content).hexdigest(), len(content), content, extraction, refusal)


def unread(reason: str) -> Extraction:
    """The extraction of an invoice that could not be read: no fields, and why."""
    return Extraction(method=UNREAD, warnings=[reason])


def _reading_note(extraction: Extraction) -> str | None:
    """Why an invoice was taken with nothing read (a scan waiting for OCR, or unreadable)."""
    if extraction.method in (UNREAD, SCANNED) and extraction.warnings:
        return extraction.warnings[0]
    return None


def too_large(filename: str, size: int | None) -> ReceivedFile:
    """A file refused unread because it is larger than MAX_FILE_BYTES; `size` None when only
    that is known (the rest was never read)."""
    limit = MAX_FILE_BYTES // 1_048_576
    refusal = (f"The file is {size / 1_048_576:.1f} MB; the limit is {limit} MB" if size is not None
               else f"The file is larger than the limit of {limit} MB")
    return ReceivedFile(printable(filename or "")[:255] or "invoice", "", size or 0, None, refusal=refusal)


def receive_invoice(session: Session, actor: Actor, content: bytes, filename: str, channel: str = "upload",
                    sender: str | None = None, vendor_id: int | None = None) -> IntakeOutcome:
    """read_invoice, then take_invoice. The file is read before the session runs a statement:
    given a session with no transaction open, nothing is locked while it is read. Whoever may
    send no invoice file at all is refused before it is read."""
    may_send(actor)
    return take_invoice(session, actor, read_invoice(content, filename), channel, sender, vendor_id)


def take_invoice(session: Session, actor: Actor, received: ReceivedFile, channel: str = "upload",
                 sender: str | None = None, vendor_id: int | None = None) -> IntakeOutcome:
    """Enter a file read by read_invoice: a failed or duplicate intake, or a new draft. Only
    short statements, so the unit of work that holds the write lock ends quickly."""
    forced_vendor = may_receive(session, actor, vendor_id)
    scope = tenancy.scope_of(session)
    if scope is None or (scope.organizations is None and scope.home is None):
        # The installation's own channels (its invoice mailbox, drop folder, the CLI) act for
        # no one: the file belongs to the payer of the vendor it names (the installation's own
        # organization when none is clear), and everything after is done for that organization
        # alone: its duplicates, its vendors as suggestions, its intake and its invoice.
        with tenancy.acting_for(session, _addressee(session, received, sender, forced_vendor)):
            return _take(session, actor, received, channel, sender, forced_vendor)
    return _take(session, actor, received, channel, sender, forced_vendor)


def _addressee(session: Session, received: ReceivedFile, sender: str | None, vendor_id: int | None) -> int:
    """The organization a file sent to the installation is for: its vendor's payer."""
    if vendor_id is None and received.extraction is not None:
        extraction = received.extraction
        vendor_id = match_vendor(session, extraction.value("vendor_name"), extraction.value("vendor_tax_id"),
                                 extraction.value("iban"), printable(sender or "")[:254] or None).vendor_id
    vendor = session.get(Vendor, vendor_id) if vendor_id else None
    return tenancy.owner(vendor) if vendor is not None else tenancy.root_organization_id(session)


def _take(session: Session, actor: Actor, received: ReceivedFile, channel: str, sender: str | None,
          forced_vendor: int | None) -> IntakeOutcome:
    sender = printable(sender or "")[:254] or None
    intake = Intake(channel=channel, kind="invoice", filename=received.filename, sha256=received.sha256,
                    size_bytes=received.size_bytes, status="failed", sender=sender, created_by_id=actor.user_id)
    earlier = session.execute(
        select(col(Invoice.id), col(Invoice.number))
        .join(StoredDocument, col(StoredDocument.id) == Invoice.document_id)
        .where(col(StoredDocument.sha256) == received.sha256)
    ).first() if received.content is not None else None
    if earlier:
        return _closed(session, actor, intake, "duplicate", f"The same file was already received as invoice {earlier[1]}",
                       invoice_id=earlier[0])
    extraction, content = received.extraction, received.content
    if extraction is None or content is None:
        return _closed(session, actor, intake, "failed", received.refusal or "The file could not be read")
    match = match_vendor(session, extraction.value("vendor_name"), extraction.value("vendor_tax_id"),
                         extraction.value("iban"), sender)
    vendor_id = forced_vendor or match.vendor_id
    vendor = session.get(Vendor, vendor_id) if vendor_id else None
    # Once the vendor is known, the fields its earlier corrections placed are read there.
    reading_hints.read_with_hints(session, vendor.id if vendor else None, extraction)
    # Every amount is checked before anything is stored: a refused invoice leaves only its intake.
    try:
        amounts = _amounts(extraction, _known_currency(extraction.value("currency")) or
                           (vendor.currency if vendor else "EUR"))
    except MoneyError as error:
        return _closed(session, actor, intake, "failed", f"The invoice was not taken: {error}")
    document = _store(session, content, received.filename)
    intake.status, intake.document_id = "accepted", document.id
    session.add(intake)
    session.flush()
    invoice = _new_invoice(session, actor, intake, document, extraction, vendor, amounts)
    session.add(InvoiceExtraction(
        invoice_id=stored_id(invoice), intake_id=stored_id(intake), method=extraction.method,
        fields=json.dumps(extraction.as_json()), sender_email=sender, layout=reading_hints.stored_layout(extraction),
        suggestions=json.dumps([s.as_dict() for s in match.suggestions]),
    ))
    intake.invoice_id = invoice.id
    session.add(intake)
    session.flush()
    problems = revalidate(session, invoice)
    audit.record(session, actor, "invoice.intake", "invoice", invoice.id, after=invoice)
    message = f"Received as {invoice.number} ({S(invoice.status).label})"
    if (note := _reading_note(extraction)) is not None:
        message += f": {note}"
    return IntakeOutcome(stored_id(intake), "accepted", message, invoice.id, invoice.status, problems)


def failed_intake(session: Session, actor: Actor, filename: str, reason: str, channel: str,
                  sender: str | None = None, content: bytes | None = None, action: str = "intake.failed") -> Intake:
    """A failed intake for what could not be taken at all (not even refused by take_invoice),
    audited like take_invoice's refusals."""
    intake = Intake(channel=channel, kind="invoice", filename=printable(filename)[:255] or "attachment",
                    sha256=hashlib.sha256(content).hexdigest() if content is not None else "",
                    size_bytes=len(content or b""), status="failed", sender=sender, reason=reason,
                    created_by_id=actor.user_id)
    session.add(intake)
    session.flush()
    audit.record(session, actor, action, "intake", intake.id, after=intake)
    return intake


def _closed(session: Session, actor: Actor, intake: Intake, status: str, reason: str,
            invoice_id: int | None = None) -> IntakeOutcome:
    intake.status, intake.reason = status, reason
    session.add(intake)
    session.flush()
    audit.record(session, actor, f"intake.{status}", "intake", intake.id, after=intake)
    return IntakeOutcome(stored_id(intake), status, reason, invoice_id)


def _store(session: Session, content: bytes, filename: str) -> StoredDocument:
    head = content[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    kind = next((t for prefix, t in _CONTENT_TYPES.items() if head.startswith(prefix)), "application/octet-stream")
    return documents.store(session, content, filename or "invoice", kind)


@dataclass(frozen=True)
class _Amounts:
    """A parsed invoice's amounts in minor units of its currency, as they will be stored."""

    currency: str
    subtotal_minor: int
    tax_minor: int
    total_minor: int
    lines: list[tuple[Decimal, int, int]]  # quantity, unit price and amount of each line


def _amounts(extraction: Extraction, currency: str) -> _Amounts:
    """MoneyError naming the amount when one is not a number or is too large to store."""
    total = extraction.value("total")
    tax = extraction.value("tax_total")
    subtotal = extraction.value("subtotal")
    minor = lambda value, what: 0 if value is None else to_minor_units(Decimal(value), currency, what=what)  # noqa: E731
    try:
        if subtotal is None and total is not None:
            subtotal = Decimal(total) - Decimal(tax or 0)
        lines = []
        for line in extraction.lines:
            if abs(line.quantity) >= MAX_QUANTITY:
                raise MoneyError(f"The quantity {line.quantity} of '{line.description[:40]}' is too large")
            unit_price = line.unit_price if line.unit_price is not None else line.amount / (line.quantity or 1)
            lines.append((line.quantity, minor(unit_price, "A unit price"), minor(line.amount, "A line amount")))
        return _Amounts(currency, minor(subtotal, "The subtotal"), minor(tax, "The tax total"),
                        minor(total, "The total"), lines)
    except ArithmeticError as error:  # decimal's overflow or invalid operation on a hostile number
        raise MoneyError(f"the amounts cannot be worked out ({type(error).__name__})") from None


def _new_invoice(session: Session, actor: Actor, intake: Intake, document: StoredDocument, extraction: Extraction,
                 vendor: Vendor | None, amounts: _Amounts) -> Invoice:
    invoice = Invoice(
        number=f"PI-{intake.id:06d}", kind=InvoiceKind.PARSED.value,
        vendor_invoice_number=(extraction.value("invoice_number") or None),
        # A vendor's invoice is its payer's; one not matched yet, the receiving organization's.
        vendor_id=vendor.id if vendor else None, owner_id=vendor.owner_id if vendor else None, currency=amounts.currency,
        subtotal_minor=amounts.subtotal_minor, tax_minor=amounts.tax_minor,
        total_minor=amounts.total_minor, issue_date=extraction.value("issue_date") or date.today(),
        due_date=extraction.value("due_date"), status=S.DRAFT.value, document_id=document.id,
        # A credit note is read with negative totals, and stored as the credit note it is.
        document_type=extraction.kind(), created_by_id=actor.user_id,
    )
    if invoice.vendor_invoice_number:
        invoice.vendor_invoice_number = invoice.vendor_invoice_number[:64]
    session.add(invoice)
    session.flush()
    for position, (line, (quantity, unit_price_minor, amount_minor)) in enumerate(
            zip(extraction.lines, amounts.lines), start=1):
        session.add(InvoiceLine(
            invoice_id=stored_id(invoice), position=position, description=(line.description or "-")[:255],
            quantity=quantity, unit_price_minor=unit_price_minor, amount_minor=amount_minor))
    session.flush()
    return invoice


def _known_currency(code: str | None) -> str | None:
    try:
        return check_currency(code) if code else None
    except MoneyError:
        return None


def _duplicate_of(session: Session, invoice: Invoice) -> str | None:
    if invoice.vendor_id is None:
        return None
    same_number = and_(col(Invoice.vendor_invoice_number) == invoice.vendor_invoice_number) \
        if invoice.vendor_invoice_number else None
    same_amount_day = and_(col(Invoice.total_minor) == invoice.total_minor,
                           col(Invoice.issue_date) == invoice.issue_date, col(Invoice.currency) == invoice.currency)
    for condition in (c for c in (same_number, same_amount_day) if c is not None):
        other = session.execute(select(col(Invoice.number)).where(
            col(Invoice.vendor_id) == invoice.vendor_id, col(Invoice.id) != invoice.id,
            col(Invoice.status).not_in(_DEAD), condition,
        ).order_by(col(Invoice.id))).first()
        if other:
            return other[0]
    return None


def revalidate(session: Session, invoice: Invoice) -> list[str]:
    """Check a parsed draft again: Draft Valid when nothing is missing, else Draft with reasons."""
    extraction = session.get(InvoiceExtraction, invoice.id)
    if extraction is None or invoice.status not in (S.DRAFT.value, S.DRAFT_VALID.value):
        return []
    fields = json.loads(extraction.fields)
    # Once a person has edited the invoice's fields, they are what counts, not what was read.
    edited = _edited(session, stored_id(invoice))
    lines = session.execute(select(func.count(), func.sum(col(InvoiceLine.amount_minor)))
                            .where(col(InvoiceLine.invoice_id) == invoice.id)).one()
    facts = ParsedFacts(
        has_number=bool(invoice.vendor_invoice_number) or edited,
        has_issue_date=bool(fields.get("issue_date")) or edited,
        has_total=fields.get("total") is not None or (edited and invoice.total_minor > 0),
        currency_known=_known_currency(invoice.currency if edited else fields.get("currency")) is not None,
        vendor_matched=invoice.vendor_id is not None,
        lines_total_minor=int(lines[1]) if lines[0] else None, line_count=int(lines[0]),
        tax_minor=invoice.tax_minor, total_minor=invoice.total_minor, duplicate_of=_duplicate_of(session, invoice),
    )
    # Why nothing was read (unreadable, or a scan waiting for OCR) heads the list until a person
    # has completed the invoice by hand.
    note = None
    if not edited and extraction.method in (UNREAD, SCANNED):
        note = next(iter(fields.get("warnings") or []), None)
    problems = ([note] if note else []) + draft_problems(facts)
    target = S.DRAFT if problems else S.DRAFT_VALID
    if invoice.status != target.value:
        invoice.status = target.value
        invoice.updated_at = utcnow()
        session.add(invoice)
    extraction.problems = json.dumps(problems)
    session.add(extraction)
    session.flush()
    if invoice.vendor_id is not None:
        invoice_rollup.refresh(session, [invoice.vendor_id])
    invoice_flags.reconcile(session, [stored_id(invoice)])
    return problems


def _edited(session: Session, invoice_id: int) -> bool:
    return session.execute(select(col(AuditEntry.id)).where(
        col(AuditEntry.object_type) == "invoice", col(AuditEntry.object_id) == str(invoice_id),
        col(AuditEntry.action) == "invoice.edit",
    ).limit(1)).first() is not None


def waiting_for_ocr(session: Session, limit: int) -> list[int]:
    """The drafts taken from scans in a web request, not read yet, oldest first."""
    return list(session.execute(
        select(col(InvoiceExtraction.invoice_id)).join(Invoice, col(Invoice.id) == InvoiceExtraction.invoice_id)
        .where(col(InvoiceExtraction.method) == SCANNED,
               col(Invoice.status).in_((S.DRAFT.value, S.DRAFT_VALID.value)))
        .order_by(col(InvoiceExtraction.invoice_id)).limit(limit)).scalars())


def scan_of(session: Session, invoice_id: int) -> tuple[bytes, str] | None:
    """The stored file of a draft waiting for OCR, and its name."""
    row = session.execute(select(col(StoredDocument.content), col(StoredDocument.filename))
                          .join(Invoice, col(Invoice.document_id) == StoredDocument.id)
                          .where(col(Invoice.id) == invoice_id)).first()
    return (bytes(row[0]), str(row[1])) if row else None


def fill_scanned(session: Session, actor: Actor, invoice_id: int, extraction: Extraction) -> list[str] | None:
    """Fill a draft waiting for OCR with what OCR read (or why it could not), within the
    invoice's organization; its problems, or None when it no longer waits (taken up by a person,
    read already, gone). Fields a person already edited are kept."""
    invoice = session.get(Invoice, invoice_id)
    row = session.get(InvoiceExtraction, invoice_id)
    if invoice is None or row is None or row.method != SCANNED or \
            invoice.status not in (S.DRAFT.value, S.DRAFT_VALID.value):
        return None
    with tenancy.acting_for(session, tenancy.owner(invoice)):
        return _fill(session, actor, invoice, row, extraction)


def _fill(session: Session, actor: Actor, invoice: Invoice, row: InvoiceExtraction,
          extraction: Extraction) -> list[str]:
    before = audit.snapshot(invoice)
    match = match_vendor(session, extraction.value("vendor_name"), extraction.value("vendor_tax_id"),
                         extraction.value("iban"), row.sender_email)
    vendor = session.get(Vendor, invoice.vendor_id or match.vendor_id) if (invoice.vendor_id or match.vendor_id) else None
    try:
        amounts = _amounts(extraction, _known_currency(extraction.value("currency")) or
                           (vendor.currency if vendor else invoice.currency))
    except MoneyError as error:
        extraction, amounts = unread(f"The invoice was read by OCR but not taken: {error}"), None
    if not _edited(session, stored_id(invoice)) and amounts is not None:
        invoice.vendor_invoice_number = (extraction.value("invoice_number") or None)
        if invoice.vendor_invoice_number:
            invoice.vendor_invoice_number = invoice.vendor_invoice_number[:64]
        invoice.issue_date = extraction.value("issue_date") or invoice.issue_date
        invoice.due_date = extraction.value("due_date") or invoice.due_date
        invoice.currency = amounts.currency
        invoice.subtotal_minor, invoice.tax_minor = amounts.subtotal_minor, amounts.tax_minor
        invoice.total_minor, invoice.document_type = amounts.total_minor, extraction.kind()
        if vendor is not None and invoice.vendor_id is None:
            invoice.vendor_id = vendor.id
        invoice.updated_at = utcnow()
        session.add(invoice)
        session.flush()
        if not session.execute(select(func.count()).where(col(InvoiceLine.invoice_id) == invoice.id)).scalar():
            for position, (line, (quantity, unit_price_minor, amount_minor)) in enumerate(
                    zip(extraction.lines, amounts.lines), start=1):
                session.add(InvoiceLine(
                    invoice_id=stored_id(invoice), position=position, description=(line.description or "-")[:255],
                    quantity=quantity, unit_price_minor=unit_price_minor, amount_minor=amount_minor))
    row.method, row.fields = extraction.method, json.dumps(extraction.as_json())
    row.suggestions = json.dumps([s.as_dict() for s in match.suggestions])
    session.add(row)
    session.flush()
    problems = revalidate(session, invoice)
    audit.record(session, actor, "invoice.ocr", "invoice", invoice.id, before=before, after=invoice)
    return problems


def suggestions_for(session: Session, actor: Actor, invoice_id: int) -> list[Suggestion]:
    require(actor, Action.INVOICE_VIEW)
    extraction = session.get(InvoiceExtraction, invoice_id)
    if extraction is None:
        return []
    return [Suggestion(**s) for s in json.loads(extraction.suggestions)]


def resolve_vendor(session: Session, actor: Actor, invoice_id: int, vendor_id: int) -> Invoice:
    """Settle which vendor sent a parsed invoice, then check it again."""
    require(actor, Action.INVOICE_EDIT)
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or invoice.kind != InvoiceKind.PARSED.value:
        raise NotFound(f"No parsed invoice with id {invoice_id}")
    if invoice.status not in (S.DRAFT.value, S.DRAFT_VALID.value):
        raise Conflict("Only a draft's vendor can be changed")
    vendor = session.get(Vendor, vendor_id)
    if vendor is None:
        raise NotFound(f"No vendor with id {vendor_id}")
    if actor.vendor_id is not None and actor.vendor_id != vendor_id:
        raise PermissionDenied("You may not assign another vendor's invoice")
    before = audit.snapshot(invoice)
    previous_vendor = invoice.vendor_id
    invoice.vendor_id = vendor.id
    invoice.updated_by_id = actor.user_id
    invoice.updated_at = utcnow()
    session.add(invoice)
    session.flush()
    if previous_vendor is not None:
        invoice_rollup.refresh(session, [previous_vendor])
    revalidate(session, invoice)
    # Corrections made before the vendor was known teach it now.
    reading_hints.learn_from(session, invoice, actor.user_id)
    audit.record(session, actor, "invoice.resolve_vendor", "invoice", invoice.id, before=before, after=invoice)
    return invoice


def extraction_of(session: Session, actor: Actor, invoice_id: int) -> dict | None:
    """What the parser read, the suggestions and the open problems, for the side-by-side view."""
    require(actor, Action.INVOICE_VIEW)
    extraction = session.get(InvoiceExtraction, invoice_id)
    if extraction is None:
        return None
    return {"method": extraction.method, "fields": json.loads(extraction.fields),
            "suggestions": json.loads(extraction.suggestions), "problems": json.loads(extraction.problems),
            "sender": extraction.sender_email}


def vendor_prefill(session: Session, actor: Actor, invoice_id: int) -> VendorInput:
    """A new vendor profile filled from what the invoice says about its sender."""
    require(actor, Action.VENDOR_CREATE)
    extraction = session.get(InvoiceExtraction, invoice_id)
    invoice = session.get(Invoice, invoice_id)
    if extraction is None or invoice is None:
        raise NotFound("This invoice has no extracted data")
    fields = json.loads(extraction.fields)
    name = (fields.get("vendor_name") or "").strip()
    vat = (fields.get("vendor_tax_id") or "").strip()
    iban = (fields.get("iban") or "").strip()
    code = re.sub(r"[^A-Z0-9]+", "-", name.upper()).strip("-")[:20] or f"V-{invoice_id}"
    country = vat[:2] if vat[:2].isalpha() else (iban[:2] if iban else "")
    return VendorInput(vendor_code=code, name=name, legal_name=name, email=extraction.sender_email or "",
                       country=country, currency=invoice.currency, payment_method="sepa" if iban else "wire",
                       iban=iban, vat_id=vat if vat[:2].isalpha() else "", tax_id="" if vat[:2].isalpha() else vat)


def create_vendor_from_invoice(session: Session, actor: Actor, invoice_id: int, data: VendorInput) -> Invoice:
    """Add the sender as a new vendor (validated like any vendor) and assign the invoice to it."""
    vendor = vendor_service.create_vendor(session, actor, data)
    return resolve_vendor(session, actor, invoice_id, stored_id(vendor))
