"""One invoice: original beside normalized, lines, approvals, flags, history, and actions."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import reflex as rx

from vrm_dashboard.domain.invoice_rules import InvoiceEdit
from vrm_dashboard.domain.invoice_status import InvoiceStatus
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.domain.vendor_rules import VendorInput
from vrm_dashboard.parsing.extraction import describe_evidence
from vrm_dashboard.services.intake import invoice_files as invoice_intake
from vrm_dashboard.services.invoices import approvals, queries as invoice_queries, records as invoices
from vrm_dashboard.services.invoices.flags import FLAG_LABELS
from vrm_dashboard.services.platform import audit, documents
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import FieldErrors, ServiceError
from vrm_dashboard.ui import formatting as fmt
from vrm_dashboard.ui.states.reject_dialog import RejectDialogMixin
from vrm_dashboard.ui.states.rows import HistoryEntry
from vrm_dashboard.ui.states.session import SessionState, page_load

EDIT_FIELDS = list(InvoiceEdit.__dataclass_fields__)
VENDOR_FIELDS = ["vendor_code", "name", "email", "country", "currency", "payment_method", "iban", "vat_id", "tax_id"]
FIELD_LABELS = {
    "invoice_number": "Invoice number", "issue_date": "Issue date", "due_date": "Due date",
    "vendor_name": "Vendor name", "vendor_tax_id": "Vendor tax/VAT ID", "iban": "IBAN", "currency": "Currency",
    "subtotal": "Subtotal", "tax_total": "Tax", "total": "Total",
}


@dataclass
class InvoiceDetails:
    """The invoice the page is about, as its facts show it."""

    id: str = ""
    number: str = ""
    vendor_number: str = ""
    kind: str = ""
    status: str = ""
    status_value: str = ""
    vendor: str = ""
    vendor_id: str = ""
    currency: str = ""
    subtotal: str = ""
    tax: str = ""
    total: str = ""
    issue_date: str = ""
    due_date: str = ""
    source: str = ""
    submitted_by: str = ""
    rejection_reason: str = ""
    document: str = ""


@dataclass
class InvoiceLine:
    """One line of the invoice."""

    position: str = ""
    description: str = ""
    quantity: str = ""
    unit_price: str = ""
    amount: str = ""


@dataclass
class ApprovalEntry:
    """An approval the invoice received: by whom and when."""

    who: str = ""
    at: str = ""


@dataclass
class InvoiceFlag:
    """Something reconciliation found wrong with the invoice."""

    flag: str = ""
    detail: str = ""


@dataclass
class ExtractedField:
    """A field read from the invoice's document, and how sure the reading is."""

    field: str = ""
    value: str = ""
    confidence: str = ""
    evidence: str = ""  # where it was read: "page 1, near 'Rechnungsnummer'", an XML path, a learned place


@dataclass
class VendorSuggestion:
    """A known vendor that may have sent the invoice, with its score and why."""

    vendor_id: str = ""
    label: str = ""
    score: str = ""
    reason: str = ""


class InvoiceDetailState(RejectDialogMixin, SessionState):
    invoice_id: int = 0
    invoice: InvoiceDetails = InvoiceDetails()
    has_original: bool = False
    # How the original is shown: "pdf" in a frame, "text" as escaped text, "file" as a download.
    original_view: str = ""
    original_text: str = ""
    original_shortened: bool = False
    _original_type: str = ""
    lines: list[InvoiceLine] = []
    approvals: list[ApprovalEntry] = []
    flags: list[InvoiceFlag] = []
    history: list[HistoryEntry] = []
    error: str = ""
    message: str = ""
    can_edit: bool = False
    can_approve: bool = False
    can_reject: bool = False
    editing: bool = False
    form: dict[str, str] = {k: "" for k in EDIT_FIELDS}
    form_errors: dict[str, str] = {}
    extracted: list[ExtractedField] = []
    extraction_method: str = ""
    problems: list[str] = []
    suggestions: list[VendorSuggestion] = []
    new_vendor_open: bool = False
    vendor_form: dict[str, str] = {k: "" for k in VENDOR_FIELDS}
    vendor_errors: dict[str, str] = {}

    @rx.event
    @page_load
    def load(self, actor: Actor) -> Any:
        try:
            self.invoice_id = int(self.router.page.params.get("id", "0"))
        except ValueError:
            self.invoice_id = 0
        self.can_edit = actor.can(Action.INVOICE_EDIT)
        self.can_approve = actor.can(Action.INVOICE_APPROVE)
        self.can_reject = actor.can(Action.INVOICE_REJECT)
        self.message, self.editing = "", False
        self._refresh()
        self._load_original()
        return None

    def _refresh(self) -> None:
        try:
            with self._acting(read_only=True) as (session, actor):
                d = invoice_queries.invoice_detail(session, actor, self.invoice_id)
        except ServiceError as exc:
            self.error, self.invoice, self.has_original, self._original_type = str(exc), InvoiceDetails(), False, ""
            return
        inv = d.invoice
        self.error = ""
        self.has_original = d.document is not None
        self._original_type = d.document.content_type if d.document else ""
        if inv.source_amount_minor is not None:
            source = (fmt.money(inv.source_amount_minor, inv.currency)
                      + f" ({(inv.source_kind or '').replace('_', ' ')})")
        else:
            source = "None recorded"
        self.invoice = InvoiceDetails(
            id=str(inv.id), number=inv.number, vendor_number=inv.vendor_invoice_number or "",
            kind="Self-generated" if inv.kind == "self_generated" else "Parsed",
            status=fmt.status_label(inv.status), status_value=inv.status,
            vendor=f"{d.vendor.name} ({d.vendor.vendor_code})" if d.vendor else "",
            vendor_id=str(d.vendor.id) if d.vendor else "",
            currency=inv.currency, subtotal=fmt.money(inv.subtotal_minor, inv.currency),
            tax=fmt.money(inv.tax_minor, inv.currency), total=fmt.money(inv.total_minor, inv.currency),
            issue_date=fmt.day(inv.issue_date), due_date=fmt.day(inv.due_date), source=source,
            submitted_by=d.submitted_by, rejection_reason=inv.rejection_reason or "",
            document=d.document_name,
        )
        self.lines = [
            InvoiceLine(position=str(l.position), description=l.description, quantity=f"{l.quantity.normalize():f}",
                        unit_price=fmt.money(l.unit_price_minor, inv.currency),
                        amount=fmt.money(l.amount_minor, inv.currency))
            for l in d.lines
        ]
        self._load_extraction()
        self.approvals = [ApprovalEntry(who=a.user_label, at=fmt.day(a.at)) for a in d.approvals]
        self.flags = [InvoiceFlag(flag=FLAG_LABELS.get(f.flag, f.flag), detail=f.detail) for f in d.flags]
        self.history = [
            HistoryEntry(at=fmt.day(h.at), who=h.actor_label, action=h.action,
                         changes="; ".join(f"{k}: {b} → {a}" for k, (b, a) in audit.changed_fields(h).items()
                                           if k not in ("updated_at", "created_at"))[:300])
            for h in d.history
        ]

    def _load_original(self) -> None:
        """Once per visit: a stored original never changes. An XML e-invoice is shown as text,
        never as a document of its own that could run script in the page's origin."""
        self.original_text, self.original_shortened = "", False
        if not documents.is_text(self._original_type):
            self.original_view = "pdf" if self._original_type == "application/pdf" else "file"
            return
        try:
            with self._acting(read_only=True) as (session, actor):
                shown = documents.invoice_original_text(session, actor, self.invoice_id)
        except ServiceError:
            shown = None
        if shown is None:
            self.original_view = "file"
            return
        self.original_view, self.original_text, self.original_shortened = "text", shown.text, shown.shortened

    def _load_extraction(self) -> None:
        with self._acting(read_only=True) as (session, actor):
            data = invoice_intake.extraction_of(session, actor, self.invoice_id)
        if data is None:
            self.extracted, self.problems, self.suggestions, self.extraction_method = [], [], [], ""
            return
        fields = data["fields"]
        self.extraction_method = "e-invoice XML" if data["method"] == "einvoice" else "PDF text"
        self.extracted = [
            ExtractedField(
                field=label, value="" if fields.get(name) is None else str(fields.get(name)),
                confidence=f"{fields['confidence'][name]:.0%}" if name in fields.get("confidence", {}) else "not found",
                evidence=describe_evidence(fields.get("evidence", {}).get(name)))
            for name, label in FIELD_LABELS.items()
        ]
        self.problems = list(data["problems"])
        self.suggestions = [
            VendorSuggestion(vendor_id=str(s["vendor_id"]), label=f"{s['name']} ({s['vendor_code']})",
                             score=f"{s['score']:.0f}", reason=s["reason"])
            for s in data["suggestions"]
        ]

    @rx.var
    def is_parsed(self) -> bool:
        return self.extraction_method != ""

    @rx.event
    def use_vendor(self, vendor_id: str) -> None:
        def work(session, actor) -> str:  # type: ignore[no-untyped-def]
            invoice_intake.resolve_vendor(session, actor, self.invoice_id, int(vendor_id))
            return "Vendor assigned; the invoice was checked again."

        self._run(work)

    @rx.event
    def open_new_vendor(self) -> None:
        try:
            with self._acting(read_only=True) as (session, actor):
                data = invoice_intake.vendor_prefill(session, actor, self.invoice_id)
        except ServiceError as exc:
            self.message = str(exc)
            return
        self.vendor_form = {k: str(getattr(data, k)) for k in VENDOR_FIELDS}
        self.vendor_errors, self.new_vendor_open = {}, True

    @rx.event
    def set_new_vendor_open(self, value: bool) -> None:
        self.new_vendor_open = value

    @rx.event
    def set_vendor_field(self, name: str, value: str) -> None:
        if name in VENDOR_FIELDS:
            self.vendor_form[name] = value

    @rx.event
    def save_new_vendor(self) -> None:
        data = VendorInput(**{k: self.vendor_form.get(k, "") for k in VENDOR_FIELDS}, legal_name=self.vendor_form.get("name", ""))
        try:
            with self._acting() as (session, actor):
                invoice_intake.create_vendor_from_invoice(session, actor, self.invoice_id, data)
        except FieldErrors as exc:
            self.vendor_errors = exc.errors
            return
        except ServiceError as exc:
            self.vendor_errors = {"form": str(exc)}
            return
        self.new_vendor_open = False
        self.message = "Vendor created and assigned; the invoice was checked again."
        self._refresh()

    def _run(self, work) -> None:  # type: ignore[no-untyped-def]
        self.message = self._attempt(work)
        self._refresh()

    @rx.event
    def approve(self) -> None:
        def work(session, actor):  # type: ignore[no-untyped-def]
            outcome = approvals.approve(session, actor, approvals.Selection([self.invoice_id]))
            if outcome.refused:
                return f"Not approved: {outcome.refused[0].reason}"
            if outcome.awaiting_second_approval:
                return "Your approval is recorded; this amount needs a second approver."
            return "Approved. The invoice now waits in Pending Payouts."
        self._run(work)

    @rx.event
    def submit(self) -> None:
        def work(session, actor) -> str:  # type: ignore[no-untyped-def]
            invoices.submit_invoice(session, actor, self.invoice_id)
            return "Submitted for approval."

        self._run(work)

    @rx.event
    def archive(self) -> None:
        def work(session, actor) -> str:  # type: ignore[no-untyped-def]
            invoices.archive_invoice(session, actor, self.invoice_id)
            return "Archived."

        self._run(work)

    @rx.event
    def delete_draft(self):  # type: ignore[no-untyped-def]
        try:
            with self._acting() as (session, actor):
                invoices.delete_draft(session, actor, self.invoice_id)
        except ServiceError as exc:
            self.message = str(exc)
            return None
        return rx.redirect("/invoices")

    @rx.event
    def open_reject(self) -> None:
        self._open_reject_dialog()

    @rx.event
    def reject(self) -> None:
        outcome = self._reject(approvals.Selection([self.invoice_id]))
        if outcome is None:
            return
        if outcome.refused:
            self.message = f"Not rejected: {outcome.refused[0].reason}"
        else:
            self.message = "Rejected; the vendor has been told why."
        self._refresh()

    @rx.event
    def start_edit(self) -> None:
        try:
            with self._acting(Action.INVOICE_EDIT, read_only=True) as (session, _actor):
                data = invoices.edit_input_of(invoices.get_invoice(session, self.invoice_id))
        except ServiceError as exc:
            self.message = str(exc)
            return
        self.form = {k: str(v) for k, v in asdict(data).items()}
        self.form_errors, self.editing = {}, True

    @rx.event
    def cancel_edit(self) -> None:
        self.editing = False

    @rx.event
    def set_field(self, name: str, value: str) -> None:
        if name in EDIT_FIELDS:
            self.form[name] = value

    @rx.event
    def save_edit(self) -> None:
        try:
            with self._acting() as (session, actor):
                invoices.edit_invoice(session, actor, self.invoice_id,
                                      InvoiceEdit(**{k: self.form.get(k, "") for k in EDIT_FIELDS}))
        except FieldErrors as exc:
            self.form_errors = exc.errors
            return
        except ServiceError as exc:
            self.form_errors = {"form": str(exc)}
            return
        self.editing, self.form_errors = False, {}
        self.message = "Saved. The invoice is Draft Valid again; submit it for approval."
        self._refresh()

    @rx.var
    def status_value(self) -> str:
        return self.invoice.status_value

    @rx.var
    def is_pending(self) -> bool:
        return self.invoice.status_value == InvoiceStatus.PENDING.value

    @rx.var
    def is_draft(self) -> bool:
        return self.invoice.status_value in (InvoiceStatus.DRAFT.value, InvoiceStatus.DRAFT_VALID.value)

    @rx.var
    def is_editable(self) -> bool:
        return self.invoice.status_value in invoices.EDITABLE
