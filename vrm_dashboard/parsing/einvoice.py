"""Structured e-invoices (Factur-X / ZUGFeRD CII and UBL / XRechnung), read with the factur-x
package. What they say is trusted: every field gets the e-invoice confidence."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from facturx import get_xml_from_pdf, parse_ubl_cii_xml

from vrm_dashboard.parsing.extraction import FROM_EINVOICE, ExtractedLine, Extraction


def embedded_xml(pdf: bytes) -> bytes | None:
    """The e-invoice XML attached to a PDF, if it carries one."""
    try:
        _name, xml = get_xml_from_pdf(pdf, check_xsd=False)
    except Exception:  # noqa: BLE001 - a PDF factur-x cannot read is simply not an e-invoice
        return None
    return xml or None


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def read_einvoice(xml: bytes, pages: int = 0) -> Extraction:
    """Raises ValueError when the XML is neither CII nor UBL."""
    try:
        data = parse_ubl_cii_xml(xml, check_xsd=False, float_as="string", date_as="date")
    except Exception as error:  # noqa: BLE001 - factur-x raises bare Exceptions for bad XML
        raise ValueError(f"The XML is not a readable e-invoice (Factur-X/ZUGFeRD or UBL): {error}") from error
    extraction = Extraction(method="einvoice", pages=pages)
    seller = data.get("BG-4") or {}
    put = lambda name, value: extraction.put(name, value, FROM_EINVOICE)  # noqa: E731
    put("invoice_number", data.get("BT-1"))
    put("issue_date", data.get("BT-2"))
    put("due_date", data.get("BT-9"))
    put("currency", data.get("BT-5"))
    put("vendor_name", seller.get("name"))
    put("vendor_tax_id", seller.get("vat_identifier") or seller.get("tax_identifier"))
    iban = data.get("BT-84")
    put("iban", iban[0] if isinstance(iban, list) else iban)
    put("subtotal", _decimal(data.get("BT-109")))
    put("tax_total", _decimal(data.get("BT-110")) if data.get("BT-110") is not None else Decimal("0"))
    put("total", _decimal(data.get("BT-112")))
    for line in data.get("BG-25") or []:
        amount = _decimal(line.get("BT-131"))
        if amount is None:
            continue
        extraction.lines.append(ExtractedLine(
            description=str(line.get("BT-153") or ""),
            quantity=_decimal(line.get("BT-129")) or Decimal(1),
            unit_price=_decimal(line.get("BT-146")),
            amount=amount,
        ))
    return extraction
