"""What was read off an invoice: each field with its value and how sure the reader is."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from vrm_dashboard.domain.intake_rules import printable

# Confidence levels, highest first: what the reader's evidence was.
FROM_EINVOICE = 0.99  # a structured e-invoice says so
CROSS_CHECKED = 0.97  # read by its label and agrees with the other amounts
LABELLED = 0.9  # read next to its label
INFERRED = 0.6  # found by position or by elimination
GUESSED = 0.4
# Read where a person's correction of this vendor's earlier invoice showed the field to be: above
# any reading of the reader's own, below what an e-invoice states.
LEARNED = 0.98

# What a document is (Invoice.document_type): a credit note's totals are negative.
INVOICE = "invoice"
CREDIT_NOTE = "credit_note"

FIELD_NAMES = (
    "invoice_number", "issue_date", "due_date", "vendor_name", "vendor_tax_id", "iban",
    "currency", "subtotal", "tax_total", "total",
)


@dataclass(frozen=True)
class Evidence:
    """Where a field's value was read: its page (1 = the first) and box (x0, top, x1, bottom in
    PDF points from the page's top left), the label it was read by (or how it was found), the
    text it was read from; an e-invoice field's XML element path instead; for a reading learned
    from a correction, the invoice whose correction taught it."""

    page: int | None = None
    box: tuple[float, float, float, float] | None = None
    label: str | None = None
    text: str | None = None
    path: str | None = None
    learned_from: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.page is not None:
            out["page"] = self.page
        if self.box is not None:
            out["box"] = [round(v, 1) for v in self.box]
        for name in ("label", "text", "path", "learned_from"):
            value = getattr(self, name)
            if value:
                out[name] = printable(str(value))[:400 if name == "path" else 120]
        return out


@dataclass
class ExtractedField:
    value: Any
    confidence: float
    evidence: Evidence | None = None


@dataclass
class Layout:
    """The cells of a read PDF's printed text, kept so a field can be read again at a place a
    person's correction taught (parsing/hints) without reading the file again: each cell as
    (page from 0, x0, top, x1, bottom, text), and each page's (width, height) in points."""

    cells: list[tuple[int, float, float, float, float, str]] = field(default_factory=list)
    pages: list[tuple[float, float]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"pages": [[round(w, 1), round(h, 1)] for w, h in self.pages],
                "cells": [[p, round(x0, 1), round(top, 1), round(x1, 1), round(bottom, 1), text]
                          for p, x0, top, x1, bottom, text in self.cells]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Layout":
        return cls([(int(c[0]), float(c[1]), float(c[2]), float(c[3]), float(c[4]), str(c[5]))
                    for c in data.get("cells", [])],
                   [(float(w), float(h)) for w, h in data.get("pages", [])])


@dataclass
class ExtractedLine:
    description: str
    quantity: Decimal
    unit_price: Decimal | None
    amount: Decimal

    def __post_init__(self) -> None:
        self.description = printable(self.description)


@dataclass
class Extraction:
    method: str  # "einvoice" or "text"
    fields: dict[str, ExtractedField] = field(default_factory=dict)
    lines: list[ExtractedLine] = field(default_factory=list)
    pages: int = 0
    warnings: list[str] = field(default_factory=list)
    # INVOICE or CREDIT_NOTE when the document says which (an e-invoice's type code); None when
    # it does not, and then a negative total makes it a credit note (see kind()).
    document_type: str | None = None
    type_code: str | None = None  # an e-invoice's UNTDID 1001 code (BT-3): 380, 381, 384, ...
    layout: Layout | None = None  # a PDF's printed text with its places (not for an e-invoice)

    def kind(self) -> str:
        """INVOICE or CREDIT_NOTE: what the document says, else what the sign of its total says."""
        if self.document_type in (INVOICE, CREDIT_NOTE):
            return self.document_type
        total = self.value("total")
        return CREDIT_NOTE if isinstance(total, Decimal) and total < 0 else INVOICE

    def value(self, name: str) -> Any:
        found = self.fields.get(name)
        return found.value if found else None

    def put(self, name: str, value: Any, confidence: float, evidence: Evidence | None = None) -> None:
        """Keep the surer of two readings of a field."""
        if isinstance(value, str):
            value = printable(value)
        if value in (None, ""):
            return
        current = self.fields.get(name)
        if current is None or confidence > current.confidence:
            self.fields[name] = ExtractedField(value, confidence, evidence)

    def as_json(self) -> dict[str, Any]:
        """The extraction as plain JSON: ISO dates, amounts as decimal strings."""
        out: dict[str, Any] = {"method": self.method, "pages": self.pages, "document_type": self.kind(),
                               "type_code": self.type_code}
        for name in FIELD_NAMES:
            out[name] = _plain(self.value(name))
        out["confidence"] = {name: round(f.confidence, 2) for name, f in self.fields.items()}
        out["evidence"] = {name: f.evidence.as_json() for name, f in self.fields.items() if f.evidence is not None}
        out["lines"] = [
            {"description": line.description, "quantity": _plain(line.quantity),
             "unit_price": _plain(line.unit_price), "amount": _plain(line.amount)}
            for line in self.lines
        ]
        out["warnings"] = list(self.warnings)
        return out


def describe_evidence(evidence: dict[str, Any] | None) -> str:
    """An evidence (as Evidence.as_json wrote it) in words: "page 1, near 'Rechnungsnummer'",
    "learned from invoice PI-000012", "XML .../rsm:ExchangedDocument/ram:ID"."""
    if not evidence:
        return ""
    parts = []
    if evidence.get("path"):
        steps = str(evidence["path"]).split("/")
        parts.append("XML " + ("…/" if len(steps) > 2 else "") + "/".join(steps[-2:]))
    label = evidence.get("label")
    if evidence.get("page"):
        parts.append(f"page {evidence['page']}" + (f", near '{label}'" if label else ""))
    elif label:
        parts.append(str(label))
    if evidence.get("learned_from"):
        parts.append(f"learned from invoice {evidence['learned_from']}")
    return "; ".join(parts)


def _plain(value: Any) -> Any:
    """`value` as JSON can hold it, whatever a reader put in a field."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return str(value)
