"""Structured e-invoices (Factur-X / ZUGFeRD CII and UBL / XRechnung), read with the factur-x
package. What they say is trusted: every field gets the e-invoice confidence.

The XML is always parsed here, with the hardened parser (parsing/xml_safety), and handed to
factur-x as a tree: its own get_xml_from_pdf and parse_ubl_cii_xml would parse the bytes with
lxml's default parser, whose entity handling depends on the installed lxml."""
from __future__ import annotations

import io
from decimal import Decimal, InvalidOperation
from typing import Any

from facturx import get_flavor, parse_ubl_cii_xml
from lxml import etree
from pypdf import PdfReader

from vrm_dashboard.domain.intake_rules import MAX_QUANTITY
from vrm_dashboard.domain.money import MoneyError, check_finite
from vrm_dashboard.parsing.extraction import FROM_EINVOICE, ExtractedLine, Extraction
from vrm_dashboard.parsing.xml_safety import HostileXml, XmlRefused, parse_xml

# The invoice flavours factur-x reads (Order-X and ZUGFeRD 1 are other documents).
_INVOICE_FLAVORS = ("factur-x", "ubl")
# An e-invoice is a few hundred kilobytes; a PDF attachment that decodes to more is not one.
MAX_XML_BYTES = 20 * 1024 * 1024
# A real invoice has at most a few hundred lines; each one becomes a stored row and is checked
# again on every change, so a file of many thousands is refused rather than read.
MAX_LINES = 1_000
# What holds an invoice line in CII (Factur-X/ZUGFeRD) and in UBL (an invoice or a credit note).
_LINE_ELEMENTS = ("{*}IncludedSupplyChainTradeLineItem", "{*}InvoiceLine", "{*}CreditNoteLine")


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
        if _flavor(root):
            return content
    return None


def _flavor(root: etree._Element) -> str | None:
    try:
        flavor = get_flavor(root)
    except Exception:  # noqa: BLE001 - factur-x raises bare Exceptions for XML it does not know
        return None
    return flavor if isinstance(flavor, str) and flavor.startswith(_INVOICE_FLAVORS) else None


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
    if _flavor(root) is None:
        raise ValueError("The XML is not a readable e-invoice (Factur-X/ZUGFeRD or UBL)")
    # Counted in the tree before factur-x turns every line into dictionaries.
    _check_line_count(sum(1 for _line in root.iter(*_LINE_ELEMENTS)))
    try:
        data = parse_ubl_cii_xml(root, check_xsd=False, float_as="string", date_as="date")
    except Exception as error:  # noqa: BLE001 - factur-x raises bare Exceptions for bad XML
        raise ValueError(f"The XML is not a readable e-invoice (Factur-X/ZUGFeRD or UBL): {error}") from error
    extraction = Extraction(method="einvoice", pages=pages)
    seller = data.get("BG-4") or {}
    put = lambda name, value: extraction.put(name, value, FROM_EINVOICE)  # noqa: E731
    put("invoice_number", data.get("BT-1"))
    put("issue_date", data.get("BT-2"))
    # An invoice paid in instalments states several due dates: the invoice is due from the first.
    due = data.get("BT-9")
    put("due_date", min(due) if isinstance(due, list) and due else (None if isinstance(due, list) else due))
    put("currency", data.get("BT-5"))
    put("vendor_name", seller.get("name"))
    put("vendor_tax_id", seller.get("vat_identifier") or seller.get("tax_identifier"))
    iban = data.get("BT-84")
    put("iban", iban[0] if isinstance(iban, list) else iban)
    put("subtotal", _decimal(data.get("BT-109"), "The subtotal"))
    tax = _decimal(data.get("BT-110"), "The tax total")
    put("tax_total", tax if tax is not None else Decimal("0"))
    put("total", _decimal(data.get("BT-112"), "The total"))
    lines = data.get("BG-25") or []
    _check_line_count(len(lines))
    for line in lines:
        amount = _decimal(line.get("BT-131"), "A line amount")
        if amount is None:
            continue
        extraction.lines.append(ExtractedLine(
            description=str(line.get("BT-153") or ""),
            quantity=_quantity(line.get("BT-129")) or Decimal(1),
            unit_price=_decimal(line.get("BT-146"), "A unit price"),
            amount=amount,
        ))
    return extraction
