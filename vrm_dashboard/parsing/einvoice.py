"""Structured e-invoices: CII in every ZUGFeRD/Factur-X version (1.0, 2.0 to 2.4, XRechnung CII)
and UBL (Peppol BIS 3, XRechnung UBL), in a PDF or as a bare XML file. What they say is trusted:
every field gets the e-invoice confidence.

The XML is always parsed here, with the hardened parser (parsing/xml_safety), and its fields are
read from that tree by parsing/en16931, one mapping per syntax. (The factur-x package reads
neither ZUGFeRD 1.0 nor the line statuses of Extended sub-lines, and refuses a whole invoice
for one malformed optional date; it still writes our own e-invoices, rendering/einvoice_xml.)

Amounts come out signed: a credit note (type 381 and the other credit note codes, or a UBL
CreditNote) states positive amounts that credit the buyer and is read with negative totals, as
the app stores its own credit notes; a corrected invoice (384) keeps the sign it states. Either
way a document whose total is negative is reported as document type "credit_note"."""
from __future__ import annotations

import io
from decimal import Decimal, InvalidOperation
from typing import Any

from pypdf import PdfReader

from vrm_dashboard.domain.intake_rules import MAX_QUANTITY, printable
from vrm_dashboard.domain.money import MoneyError, check_finite
from vrm_dashboard.parsing import en16931
from vrm_dashboard.parsing.extraction import (
    CREDIT_NOTE,
    FROM_EINVOICE,
    INVOICE,
    Evidence,
    ExtractedLine,
    Extraction,
)
from vrm_dashboard.parsing.xml_safety import HostileXml, XmlRefused, parse_xml

# An e-invoice is a few hundred kilobytes; a PDF attachment that decodes to more is not one.
MAX_XML_BYTES = 20 * 1024 * 1024
# A real invoice has at most a few hundred lines; each one becomes a stored row and is checked
# again on every change, so a file of many thousands is refused rather than read.
MAX_LINES = 1_000


class AmountRefused(ValueError):
    """The e-invoice states something that cannot be taken: an amount or quantity that is not a
    usable number, or more lines than MAX_LINES."""


def embedded_xml(pdf: bytes) -> bytes | None:
    """The e-invoice XML attached to a PDF, if it carries one. Raises HostileXml when an
    attachment is built to attack its reader: such a PDF is refused, not read another way."""
    try:
        attachments = PdfReader(io.BytesIO(pdf)).attachment_list
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - a PDF pypdf cannot read is simply not an e-invoice
        return None
    for attachment in attachments:
        try:
            name, content = str(attachment.name or ""), attachment.content
        except MemoryError:
            raise
        except Exception:  # noqa: BLE001 - a broken attachment stream: look at the next one
            continue
        if not name.lower().endswith(".xml") or not content or len(content) > MAX_XML_BYTES:
            continue
        try:
            root = parse_xml(content, f"The PDF's attachment {name}")
        except HostileXml:
            raise
        except XmlRefused:
            continue  # not well-formed: not the e-invoice
        if en16931.syntax_of(root) is not None:
            return content
    return None


def _decimal(value: Any, what: str) -> Decimal | None:
    """The number an e-invoice states, None when it states none; ValueError for NaN, Infinity or
    a number too large for any amount (1E+999999)."""
    if value in (None, ""):
        return None
    try:
        return check_finite(Decimal(str(value).strip()), what)
    except InvalidOperation:
        return None
    except MoneyError as error:
        raise AmountRefused(f"The e-invoice cannot be read: {error}") from None


def _quantity(value: Any) -> Decimal | None:
    quantity = _decimal(value, "The quantity")
    if quantity is not None and abs(quantity) >= MAX_QUANTITY:
        raise AmountRefused(f"The e-invoice cannot be read: the quantity {quantity} is too large")
    return quantity


def _check_line_count(count: int) -> None:
    if count > MAX_LINES:
        raise AmountRefused(f"The e-invoice has {count:,} lines; the limit is {MAX_LINES:,}: "
                            "send it as several invoices")


def read_einvoice(xml: bytes, pages: int = 0) -> Extraction:
    """Raises ValueError when the XML is neither CII nor UBL, is hostile (XmlRefused), states
    an amount that is not a number, or has more than MAX_LINES lines (AmountRefused)."""
    root = parse_xml(xml, "The e-invoice XML")
    syntax = en16931.syntax_of(root)
    if syntax is None:
        shown = printable(en16931.root_name(root))[:200]
        raise ValueError(f"The XML is not a readable e-invoice: its root element {shown} is neither CII "
                         "(Factur-X, ZUGFeRD 1.0 to 2.4, XRechnung) nor UBL (Peppol BIS 3, XRechnung)")
    # Counted in the tree before any line is read.
    _check_line_count(len(en16931.line_elements(root, syntax)))
    return _extraction(en16931.read(root, syntax), pages)


def _extraction(doc: en16931.Document, pages: int) -> Extraction:
    subtotal = _decimal(doc.subtotal, "The subtotal")
    tax = _decimal(doc.tax_total, "The tax total")
    total = _decimal(doc.total, "The total")
    lines = [line for line in map(_line, doc.lines) if line is not None]
    lines += _allowances_charges(doc.allowances_charges, lines, subtotal)
    extraction = Extraction(method="einvoice", pages=pages, type_code=doc.type_code)
    credit_note = doc.credit_note_root or doc.type_code in en16931.CREDIT_NOTE_CODES
    stated = total if total is not None else subtotal
    if credit_note and stated is not None and stated < 0:
        extraction.warnings.append("The credit note states negative amounts; they were taken as already signed")
    elif credit_note:
        subtotal, tax, total = _negated(subtotal), _negated(tax), _negated(total)
        lines = [ExtractedLine(line.description, line.quantity, _negated(line.unit_price), _flipped(line.amount))
                 for line in lines]
    signed_total = total if total is not None else subtotal
    extraction.document_type = CREDIT_NOTE if credit_note or (signed_total or 0) < 0 else INVOICE
    paths = en16931.paths(doc.syntax, doc.credit_note_root)

    def put(name: str, value: object) -> None:
        extraction.put(name, value, FROM_EINVOICE, Evidence(path=paths.get(name)))

    put("invoice_number", doc.number)
    put("issue_date", doc.issue_date)
    # An invoice paid in instalments states several due dates: the invoice is due from the first.
    put("due_date", min(doc.due_dates) if doc.due_dates else None)
    put("currency", doc.currency)
    put("vendor_name", _one_line(doc.seller_name))
    put("vendor_tax_id", doc.seller_vat_id or doc.seller_tax_id)
    # An IBAN is exchanged without the spaces it is printed with.
    put("iban", "".join(doc.iban.split()).upper() if doc.iban else None)
    put("subtotal", subtotal)
    # An e-invoice that states no tax total charges none.
    put("tax_total", tax if tax is not None else Decimal("0"))
    put("total", total)
    extraction.lines = lines
    return extraction


def _line(line: en16931.Line) -> ExtractedLine | None:
    amount = _decimal(line.amount, "A line amount")
    if amount is None:
        return None
    return ExtractedLine(description=_one_line(line.description) or "", quantity=_quantity(line.quantity) or Decimal(1),
                         unit_price=_decimal(line.unit_price, "A unit price"), amount=amount)


def _allowances_charges(entries: list[en16931.AllowanceCharge], lines: list[ExtractedLine],
                        subtotal: Decimal | None) -> list[ExtractedLine]:
    """Document-level allowances and charges as lines of their own, so that the lines add up to
    the amount taxed (BT-109 = lines - allowances + charges). An allowance states the amount it
    takes off; some senders write it with a minus sign as well, which is read as the same
    allowance when only that reading adds up. None when neither reading adds up."""
    if not entries or subtotal is None or _sum(lines) == subtotal:
        return []
    stated = [(entry, _decimal(entry.amount, "An allowance or charge")) for entry in entries]
    for magnitude in (False, True):
        extras = []
        for entry, amount in stated:
            if amount is None:
                continue
            amount = abs(amount) if magnitude else amount
            label = "Charge" if entry.is_charge else "Allowance"
            signed = amount if entry.is_charge else _flipped(amount)
            extras.append(ExtractedLine(f"{label}: {entry.reason}" if entry.reason else label, Decimal(1), signed,
                                        signed))
        if _sum(lines + extras) == subtotal:
            return extras
    return []


def _one_line(text: str | None) -> str | None:
    """A name as one line: the XML may break it over several."""
    return " ".join(text.split()) if text else text


def _flipped(value: Decimal) -> Decimal:
    return -value if value else value  # never "-0.00"


def _negated(value: Decimal | None) -> Decimal | None:
    return None if value is None else _flipped(value)


def _sum(lines: list[ExtractedLine]) -> Decimal:
    return sum((line.amount for line in lines), Decimal(0))
