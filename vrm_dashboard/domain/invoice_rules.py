"""What a valid invoice is: required fields, amounts that add up, sensible dates."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from vrm_dashboard.domain.money import Money, MoneyError, check_currency
from vrm_dashboard.domain.vendor_rules import FieldErrors

NUMBER_MAX = 64


@dataclass
class InvoiceEdit:
    """The editable header of an invoice, as text from a form or an API."""

    number: str
    issue_date: str
    due_date: str
    currency: str
    subtotal: str
    tax: str
    total: str
    # The number printed on a vendor's own invoice (parsed invoices); ours is `number`.
    vendor_invoice_number: str = ""


@dataclass(frozen=True)
class CleanInvoice:
    number: str
    issue_date: date
    due_date: date | None
    currency: str
    subtotal_minor: int
    tax_minor: int
    total_minor: int
    vendor_invoice_number: str | None = None


def _date(value: str, label: str, errors: dict[str, str], key: str, required: bool) -> date | None:
    text = (value or "").strip()
    if not text:
        if required:
            errors[key] = f"{label} is required"
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[key] = f"{label} must be a date like 2026-11-30, got {text!r}"
        return None


def validate_invoice(edit: InvoiceEdit, lines_total_minor: int | None = None) -> CleanInvoice:
    """The cleaned invoice header, or FieldErrors with one message per bad field."""
    errors: dict[str, str] = {}
    number = " ".join((edit.number or "").split())
    if not number:
        errors["number"] = "Invoice number is required"
    elif len(number) > NUMBER_MAX:
        errors["number"] = f"Invoice number is at most {NUMBER_MAX} characters"
    vendor_number = " ".join((edit.vendor_invoice_number or "").split())
    if len(vendor_number) > NUMBER_MAX:
        errors["vendor_invoice_number"] = f"The vendor's invoice number is at most {NUMBER_MAX} characters"
    issued = _date(edit.issue_date, "Issue date", errors, "issue_date", required=True)
    due = _date(edit.due_date, "Due date", errors, "due_date", required=False)
    if issued and due and due < issued:
        errors["due_date"] = "Due date cannot be before the issue date"
    currency = ""
    try:
        currency = check_currency(edit.currency)
    except MoneyError as exc:
        errors["currency"] = str(exc)
    amounts: dict[str, int] = {}
    for key, label in (("subtotal", "Subtotal"), ("tax", "Tax"), ("total", "Total")):
        if not currency:
            break
        try:
            amounts[key] = Money.parse(getattr(edit, key) or "", currency).minor
        except MoneyError as exc:
            errors[key] = f"{label}: {exc}"
            continue
        if amounts[key] < 0:
            errors[key] = f"{label} cannot be negative"
    if len(amounts) == 3 and "total" not in errors:
        if amounts["subtotal"] + amounts["tax"] != amounts["total"]:
            expected = Money(amounts["subtotal"] + amounts["tax"], currency).format()
            errors["total"] = f"Subtotal plus tax is {expected}; the total must match it"
        elif lines_total_minor is not None and lines_total_minor != amounts["subtotal"]:
            errors["subtotal"] = (f"The lines add up to {Money(lines_total_minor, currency).format()}; "
                                  "the subtotal must match them")
    if errors:
        raise FieldErrors(errors)
    assert issued is not None
    return CleanInvoice(number, issued, due, currency, amounts["subtotal"], amounts["tax"], amounts["total"],
                        vendor_number or None)
