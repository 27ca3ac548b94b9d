"""`/invoice`: one invoice: the original document beside the normalized invoice, its lines,
reconciliation, approvals and history; edit, submit, approve, reject, archive, delete."""
import reflex as rx

from vrm_dashboard.ui.components.facts import fact_list
from vrm_dashboard.ui.components.form_field import form_field
from vrm_dashboard.ui.components.reject_dialog import reject_dialog
from vrm_dashboard.ui.components.shell import data_table, page_frame
from vrm_dashboard.ui.states.invoice_detail import InvoiceDetailState


def _edit_field(label: str, name: str, kind: str = "text") -> rx.Component:
    s = InvoiceDetailState
    return form_field(label, s.form[name], lambda value: s.set_field(name, value), s.form_errors, name,
                      testid=f"edit-{name}", error_testid=f"edit-error-{name}", type=kind)


def _edit_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Edit invoice", size="3"),
            rx.grid(
                _edit_field("Invoice number", "number"), _edit_field("Currency", "currency"),
                _edit_field("Vendor's invoice no. (parsed invoices)", "vendor_invoice_number"),
                _edit_field("Issue date", "issue_date", "date"), _edit_field("Due date", "due_date", "date"),
                _edit_field("Subtotal", "subtotal"), _edit_field("Tax", "tax"), _edit_field("Total", "total"),
                columns="2", spacing="3", width="100%",
            ),
            rx.cond(InvoiceDetailState.form_errors.contains("form"),
                    rx.callout(InvoiceDetailState.form_errors["form"], color_scheme="red")),
            rx.hstack(
                rx.button("Cancel", variant="soft", color_scheme="gray", on_click=InvoiceDetailState.cancel_edit),
                rx.button("Save", on_click=InvoiceDetailState.save_edit, data_testid="save-invoice"),
                justify="end", width="100%",
            ),
            spacing="3",
        ),
    )


def _actions() -> rx.Component:
    s = InvoiceDetailState
    return rx.hstack(
        rx.cond(s.can_edit & s.is_editable, rx.button("Edit", variant="soft", on_click=s.start_edit, data_testid="edit-invoice")),
        rx.cond(s.can_edit & (s.status_value == "draft_valid"),
                rx.button("Submit for approval", on_click=s.submit, data_testid="submit-invoice")),
        rx.cond(s.can_approve & s.is_pending, rx.button("Approve", on_click=s.approve, data_testid="approve-invoice")),
        rx.cond(s.can_reject & s.is_pending,
                rx.button("Reject", color_scheme="red", on_click=s.open_reject, data_testid="reject-invoice")),
        rx.cond(s.can_edit & s.is_draft,
                rx.button("Delete draft", color_scheme="red", variant="soft", on_click=s.delete_draft)),
        rx.cond(s.can_edit & ~s.is_draft & (s.status_value != "archived"),
                rx.button("Archive", color_scheme="gray", variant="soft", on_click=s.archive)),
        wrap="wrap",
    )


def _vendor_field(label: str, name: str) -> rx.Component:
    s = InvoiceDetailState
    return form_field(label, s.vendor_form[name], lambda value: s.set_vendor_field(name, value), s.vendor_errors,
                      name, testid=f"new-vendor-{name}")


def _new_vendor_dialog() -> rx.Component:
    s = InvoiceDetailState
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New vendor profile from this invoice"),
            rx.grid(_vendor_field("Vendor ID", "vendor_code"), _vendor_field("Name", "name"),
                    _vendor_field("E-mail", "email"), _vendor_field("Country (ISO)", "country"),
                    _vendor_field("Currency", "currency"), _vendor_field("Payment method", "payment_method"),
                    _vendor_field("IBAN", "iban"), _vendor_field("VAT ID", "vat_id"), _vendor_field("Tax ID", "tax_id"),
                    columns="2", spacing="3", width="100%"),
            rx.cond(s.vendor_errors.contains("form"), rx.callout(s.vendor_errors["form"], color_scheme="red")),
            rx.hstack(
                rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button("Create vendor", on_click=s.save_new_vendor, data_testid="save-new-vendor"),
                justify="end", margin_top="1em",
            ),
        ),
        open=s.new_vendor_open, on_open_change=s.set_new_vendor_open,
    )


def _extraction() -> rx.Component:
    s = InvoiceDetailState
    return rx.vstack(
        rx.heading("Extracted from the document (" + s.extraction_method + ")", size="4"),
        rx.foreach(s.problems, lambda p: rx.callout(p, icon="triangle_alert", color_scheme="amber", size="1",
                                                   data_testid="draft-problem")),
        data_table(["Field", "Read", "Confidence", "Read from"], s.extracted, ["field", "value", "confidence", "evidence"],
                   "extracted-fields"),
        rx.cond(
            (s.invoice.vendor == "") & s.can_edit,
            rx.vstack(
                rx.heading("Which vendor sent it?", size="3"),
                rx.foreach(s.suggestions, lambda v: rx.hstack(
                    rx.text(v.label, weight="medium"), rx.badge("score " + v.score),
                    rx.text(v.reason, size="1", color_scheme="gray"),
                    rx.button("Use this vendor", size="1", on_click=s.use_vendor(v.vendor_id),
                              data_testid="use-vendor"),
                    align="center", data_testid="vendor-suggestion",
                )),
                rx.button("Create a new vendor profile", variant="soft", on_click=s.open_new_vendor,
                          data_testid="create-vendor-from-invoice"),
                spacing="2",
            ),
        ),
        _new_vendor_dialog(),
        spacing="2", width="100%",
    )


def _original() -> rx.Component:
    """The original beside the invoice. A PDF in a frame: the file is served sandboxed (no
    script, no origin; web.downloads), and Chrome shows no PDF in a frame with a `sandbox`
    attribute. An XML e-invoice as escaped text, never as a document of its own: a browser would
    run an XHTML <script> inside it. Anything else as a download."""
    s = InvoiceDetailState
    url = "/api/v1/invoices/" + s.invoice.id + "/original"
    download = rx.link("Download the original", href=url + "?download=true", is_external=True, size="2",
                       data_testid="original-download")
    return rx.match(
        s.original_view,
        ("pdf", rx.el.iframe(src=url, width="100%", height="480px", title="Original document")),
        ("text", rx.vstack(
            rx.box(rx.code_block(s.original_text, language="markup", wrap_long_lines=True, width="100%"),
                   max_height="480px", overflow="auto", width="100%", title="Original document",
                   data_testid="original-text"),
            rx.cond(s.original_shortened,
                    rx.text("Only the beginning is shown; download the original for all of it.",
                            color_scheme="gray", size="1")),
            download, spacing="2", width="100%")),
        download,
    )


def invoice_detail_page() -> rx.Component:
    s = InvoiceDetailState
    return page_frame(
        "Invoice",
        rx.cond(
            s.error != "",
            rx.callout(s.error, color_scheme="red"),
            rx.vstack(
                rx.hstack(rx.heading(s.invoice.number, size="6", data_testid="detail-number"),
                          rx.badge(s.invoice.status, size="3", data_testid="detail-status"), align="center"),
                _actions(),
                rx.cond(s.message != "", rx.callout(s.message, icon="info", data_testid="detail-message")),
                rx.cond(s.editing, _edit_form()),
                rx.grid(
                    rx.card(
                        rx.heading("Original", size="3"),
                        rx.cond(
                            s.has_original,
                            _original(),
                            rx.text("No original document: this invoice was generated from activity data.",
                                    color_scheme="gray", size="2"),
                        ),
                    ),
                    rx.card(
                        rx.heading("Normalized invoice", size="3"),
                        fact_list(InvoiceDetailState.invoice, [("Type", "kind"), ("Vendor", "vendor"), ("Vendor's invoice no.", "vendor_number"), ("Issue date", "issue_date"),
                                ("Due date", "due_date"), ("Currency", "currency"), ("Subtotal", "subtotal"),
                                ("Tax", "tax"), ("Total", "total"), ("Source amount", "source"),
                                ("Submitted by", "submitted_by"), ("Rejection reason", "rejection_reason")], "detail"),
                    ),
                    columns="2", spacing="4", width="100%",
                ),
                rx.cond(s.is_parsed, _extraction()),
                rx.heading("Lines", size="4"),
                data_table(["#", "Description", "Quantity", "Unit price", "Amount"], s.lines,
                           ["position", "description", "quantity", "unit_price", "amount"], "detail-lines"),
                rx.heading("Reconciliation", size="4"),
                rx.cond(s.flags.length() == 0,
                        rx.text("Matches its source.", color_scheme="green", size="2", data_testid="recon-ok"),
                        data_table(["Flag", "Detail"], s.flags, ["flag", "detail"], "detail-flags")),
                rx.heading("Approvals", size="4"),
                data_table(["Approver", "When"], s.approvals, ["who", "at"], "detail-approvals"),
                rx.heading("History", size="4"),
                data_table(["When", "Who", "Action", "Changes"], s.history, ["at", "who", "action", "changes"],
                           "detail-history"),
                reject_dialog(s),
                spacing="3", width="100%",
            ),
        ),
    )
