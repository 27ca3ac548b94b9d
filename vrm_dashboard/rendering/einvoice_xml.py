"""Factur-X: the EN 16931 CII XML of an invoice, embedded in its PDF by the factur-x package
(PDF/A-3 with the XML attached), for customers who need EU e-invoices."""
from __future__ import annotations

from decimal import Decimal

import facturx

from vrm_dashboard.domain.money import exponent
from vrm_dashboard.rendering.invoice_document import InvoiceDocument, Party

INVOICE_TYPE, CREDIT_NOTE_TYPE = "380", "381"


def _major(minor: int, currency: str) -> str:
    places = exponent(currency)
    return f"{Decimal(abs(int(minor))).scaleb(-places):.{places}f}"


def _party(party: Party) -> dict:
    data = {"name": party.name, "country_code": party.country or "DE"}
    if party.address_lines:
        data["addr_l1"] = party.address_lines[0]
    if party.tax_id:
        data["vat_identifier"] = party.tax_id
    return data


def invoice_xml(doc: InvoiceDocument) -> bytes:
    """Amounts are positive; a credit note says so by its type code."""
    money = lambda minor: _major(minor, doc.currency)  # noqa: E731
    rate = f"{abs(doc.tax_rate_percent):.2f}"
    data = {
        "BT-1": doc.number, "BT-2": doc.issue_date.isoformat(),
        "BT-3": CREDIT_NOTE_TYPE if doc.is_credit_note else INVOICE_TYPE, "BT-5": doc.currency,
        # The schema wants a delivery: the services are taken as delivered on the day of issue.
        "BT-72": doc.issue_date.isoformat(),
        "BG-4": _party(doc.seller), "BG-7": _party(doc.buyer),
        "BT-106": money(sum(line.amount_minor for line in doc.lines) if doc.lines else doc.subtotal_minor),
        "BT-109": money(doc.subtotal_minor), "BT-110": money(doc.tax_minor),
        "BT-112": money(doc.total_minor),
        "BT-115": "0.00" if doc.payment_status == "Paid" else money(doc.total_minor),
        "BG-23": [{"BT-116": money(doc.subtotal_minor), "BT-117": money(doc.tax_minor),
                   "BT-118": "S" if doc.tax_minor else "Z", "BT-119": rate}],
        "BG-25": [{"BT-126": str(n), "BT-129": str(abs(line.quantity)), "BT-130": "C62",
                   "BT-131": money(line.amount_minor), "BT-146": money(line.unit_price_minor),
                   "BT-151": "S" if doc.tax_minor else "Z", "BT-152": rate, "BT-153": line.description}
                  for n, line in enumerate(doc.lines, start=1)],
    }
    if doc.due_date:
        data["BT-9"] = doc.due_date.isoformat()
    if doc.corrects_number:
        data["BG-3"] = [{"BT-25": doc.corrects_number}]
    return facturx.generate_cii_xml(data, level="en16931", check_schematron=False)


def with_einvoice(pdf: bytes, doc: InvoiceDocument) -> bytes:
    return facturx.generate_from_binary(pdf, invoice_xml(doc), check_xsd=True, level="en16931")
