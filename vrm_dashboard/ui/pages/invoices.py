"""Pending Invoices: totals per status, filters, column chooser, selectable table, bulk
actions and exports; and the invoice detail page."""
import reflex as rx

from vrm_dashboard.domain.invoice_status import STATUS_LABELS
from vrm_dashboard.domain.vendor_rules import PAYMENT_METHOD_LABELS
from vrm_dashboard.services.invoices.flags import FLAG_LABELS
from vrm_dashboard.ui.components.filters import filter_select
from vrm_dashboard.ui.components.list_controls import column_chooser, pager
from vrm_dashboard.ui.components.shell import data_table, page_frame
from vrm_dashboard.ui.states.invoice_detail import InvoiceDetailState
from vrm_dashboard.ui.states.invoices import COLUMNS, InvoicesState

_SORT_KEYS = {"number": "number", "kind": "kind", "vendor": "vendor", "amount": "amount",
              "currency": "currency", "issue_date": "issue_date", "due_date": "due_date", "status": "status"}


def _status_card(total: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(total["label"], size="2", weight="bold"),
            rx.text(total["count"], size="5", data_testid="status-count"),
            rx.text(total["amounts"], size="1", color_scheme="gray"),
            spacing="1",
        ),
        on_click=InvoicesState.show_status(total["status"]),
        cursor="pointer",
        width="200px",
        background=rx.cond(InvoicesState.filters["status"] == total["status"], rx.color("accent", 3), "transparent"),
        data_testid="status-total",
    )


def _select(name: str, label: str, options: list[tuple[str, str]]) -> rx.Component:
    return filter_select(InvoicesState.filters, InvoicesState.set_filter, name, label, options, f"filter-{name}")


def _text_filter(name: str, placeholder: str, width: str = "140px", kind: str = "text") -> rx.Component:
    return rx.input(
        placeholder=placeholder, type=kind, width=width,
        value=InvoicesState.filters[name],
        on_change=lambda value: InvoicesState.set_filter(name, value).debounce(400),
        data_testid=f"filter-{name}",
    )


def _filters() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            _text_filter("search", "Search number or vendor", "240px"),
            _select("status", "Status", [(s.value, label) for s, label in STATUS_LABELS.items()]),
            _text_filter("vendor", "Vendor ID or name", "180px"),
            _select("kind", "Type", [("self_generated", "Self-generated"), ("parsed", "Parsed")]),
            _select("payment_method", "Payment method", [(k.value, v) for k, v in PAYMENT_METHOD_LABELS.items()]),
            _select("flag", "Flags", [*FLAG_LABELS.items(), ("none", "No flags")]),
            wrap="wrap",
        ),
        rx.hstack(
            rx.text("Issued", size="2"), _text_filter("issued_from", "from", "150px", "date"),
            _text_filter("issued_to", "to", "150px", "date"),
            rx.text("Amount", size="2"), _text_filter("amount_min", "min", "110px"),
            _text_filter("amount_max", "max", "110px"),
            rx.button("Clear filters", variant="soft", color_scheme="gray", on_click=InvoicesState.clear_filters),
            rx.spacer(),
            _column_chooser(),
            _export_menu(),
            align="center", wrap="wrap", width="100%",
        ),
        rx.cond(InvoicesState.filter_error != "",
                rx.callout(InvoicesState.filter_error, color_scheme="red", data_testid="filter-error")),
        width="100%",
    )


def _column_chooser() -> rx.Component:
    return column_chooser(InvoicesState, COLUMNS, "column-chooser", "column-")


def _export_menu() -> rx.Component:
    return rx.hstack(
        rx.menu.root(
            rx.menu.trigger(rx.button("Export", disabled=InvoicesState.exporting, data_testid="export-menu")),
            rx.menu.content(
                rx.menu.item("Excel — this view", on_click=InvoicesState.export("xlsx", "view"),
                             data_testid="export-xlsx-view"),
                rx.menu.item("CSV — this view", on_click=InvoicesState.export("csv", "view")),
                rx.menu.item("Excel — all invoices", on_click=InvoicesState.export("xlsx", "all")),
                rx.menu.item("CSV — all invoices", on_click=InvoicesState.export("csv", "all")),
            ),
        ),
        rx.cond(InvoicesState.exporting,
                rx.progress(value=InvoicesState.export_progress, width="120px", data_testid="export-progress")),
        rx.cond(InvoicesState.export_message != "",
                rx.text(InvoicesState.export_message, size="1", data_testid="export-message")),
        align="center",
    )


def _header(key: str, label: str) -> rx.Component:
    sort_key = _SORT_KEYS.get(key)
    arrow = rx.cond(InvoicesState.sort == sort_key, rx.cond(InvoicesState.descending, " ↓", " ↑"), "") if sort_key else ""
    content = rx.text(label, arrow, cursor="pointer", on_click=InvoicesState.sort_by(sort_key)) if sort_key else rx.text(label)
    return rx.cond(InvoicesState.visible_columns.contains(key), rx.table.column_header_cell(content))


def _cell(row: rx.Var, key: str) -> rx.Component:
    if key == "number":
        content = rx.link(row["number"], href="/invoice?id=" + row["id"])
    elif key == "status":
        content = rx.badge(row["status"], data_testid="row-status")
    elif key == "flags":
        content = rx.cond(row["flags"] != "", rx.badge(row["flags"], color_scheme="orange"), "")
    else:
        content = rx.text(row[key])
    return rx.cond(InvoicesState.visible_columns.contains(key), rx.table.cell(content, data_testid=f"cell-{key}"))


def _table() -> rx.Component:
    return rx.vstack(
        rx.table.root(
            rx.table.header(rx.table.row(
                rx.table.column_header_cell(rx.checkbox(on_change=InvoicesState.toggle_page, data_testid="select-page")),
                *[_header(key, label) for key, label in COLUMNS],
            )),
            rx.table.body(rx.foreach(InvoicesState.rows, lambda row: rx.table.row(
                rx.table.cell(rx.checkbox(checked=InvoicesState.selected.contains(row["id"]),
                                          on_change=lambda _c: InvoicesState.toggle_row(row["id"]),
                                          data_testid="select-row")),
                *[_cell(row, key) for key, _ in COLUMNS],
                data_testid="invoice-row",
            ))),
            size="1", variant="surface", width="100%", data_testid="invoice-table",
        ),
        pager(InvoicesState, InvoicesState.total_rows, " invoices", testid="invoice-count"),
        width="100%",
    )


def _bulk_bar() -> rx.Component:
    return rx.hstack(
        rx.text(InvoicesState.selected.length(), " selected", size="2"),
        rx.cond(InvoicesState.can_approve, rx.hstack(
            rx.button("Approve selected", on_click=InvoicesState.approve("selected"),
                      disabled=InvoicesState.selected.length() == 0, data_testid="approve-selected"),
            rx.button("Approve all matching", variant="soft", on_click=InvoicesState.approve("filter"),
                      data_testid="approve-filter"),
        )),
        rx.cond(InvoicesState.can_reject, rx.hstack(
            rx.button("Reject selected", color_scheme="red", on_click=InvoicesState.open_reject("selected"),
                      disabled=InvoicesState.selected.length() == 0, data_testid="reject-selected"),
            rx.button("Reject all matching", color_scheme="red", variant="soft",
                      on_click=InvoicesState.open_reject("filter")),
        )),
        align="center", wrap="wrap",
    )


def _result() -> rx.Component:
    return rx.cond(
        InvoicesState.result != "",
        rx.callout(
            rx.vstack(
                rx.text(InvoicesState.result, data_testid="bulk-result"),
                rx.foreach(InvoicesState.refused, lambda r: rx.text(r["number"], ": ", r["reason"], size="1",
                                                                    data_testid="refused-row")),
                spacing="1",
            ),
            icon="info",
        ),
    )


def _reject_dialog(state) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Reject invoices"),
            rx.text("The vendor is told this reason.", size="2"),
            rx.text_area(value=state.reject_reason, on_change=state.set_reject_reason,
                         placeholder="What is wrong with the invoice?", data_testid="reject-reason"),
            rx.cond(state.reject_error != "", rx.text(state.reject_error, color_scheme="red", size="1",
                                                      data_testid="reject-error")),
            rx.hstack(
                rx.button("Cancel", variant="soft", color_scheme="gray", on_click=state.close_reject),
                rx.button("Reject", color_scheme="red", on_click=state.reject, data_testid="confirm-reject"),
                justify="end", spacing="3", margin_top="1em",
            ),
        ),
        open=state.reject_open,
        on_open_change=lambda _open: state.close_reject(),
    )


def invoices_page() -> rx.Component:
    return page_frame(
        "Pending Invoices",
        rx.vstack(
            rx.hstack(rx.foreach(InvoicesState.totals, _status_card), wrap="wrap", spacing="2"),
            _filters(),
            _bulk_bar(),
            _result(),
            _table(),
            _reject_dialog(InvoicesState),
            spacing="4",
            width="100%",
        ),
    )


def _facts(items: list[tuple[str, str]]) -> rx.Component:
    v = InvoiceDetailState.invoice
    return rx.data_list.root(*[
        rx.data_list.item(rx.data_list.label(label), rx.data_list.value(v[key], data_testid=f"detail-{key}"))
        for label, key in items
    ])


def _edit_field(label: str, name: str, kind: str = "text") -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2"),
        rx.input(value=InvoiceDetailState.form[name], type=kind,
                 on_change=lambda value: InvoiceDetailState.set_field(name, value), data_testid=f"edit-{name}"),
        rx.cond(InvoiceDetailState.form_errors.contains(name),
                rx.text(InvoiceDetailState.form_errors[name], color_scheme="red", size="1", data_testid=f"edit-error-{name}")),
        spacing="1", width="100%",
    )


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
    return rx.vstack(
        rx.text(label, size="2"),
        rx.input(value=s.vendor_form[name], on_change=lambda value: s.set_vendor_field(name, value),
                 data_testid=f"new-vendor-{name}"),
        rx.cond(s.vendor_errors.contains(name), rx.text(s.vendor_errors[name], color_scheme="red", size="1")),
        spacing="1", width="100%",
    )


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
        data_table(["Field", "Read", "Confidence"], s.extracted, ["field", "value", "confidence"], "extracted-fields"),
        rx.cond(
            (s.invoice["vendor"] == "") & s.can_edit,
            rx.vstack(
                rx.heading("Which vendor sent it?", size="3"),
                rx.foreach(s.suggestions, lambda v: rx.hstack(
                    rx.text(v["label"], weight="medium"), rx.badge("score " + v["score"]),
                    rx.text(v["reason"], size="1", color_scheme="gray"),
                    rx.button("Use this vendor", size="1", on_click=s.use_vendor(v["vendor_id"]),
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


def invoice_detail_page() -> rx.Component:
    s = InvoiceDetailState
    return page_frame(
        "Invoice",
        rx.cond(
            s.error != "",
            rx.callout(s.error, color_scheme="red"),
            rx.vstack(
                rx.hstack(rx.heading(s.invoice["number"], size="6", data_testid="detail-number"),
                          rx.badge(s.invoice["status"], size="3", data_testid="detail-status"), align="center"),
                _actions(),
                rx.cond(s.message != "", rx.callout(s.message, icon="info", data_testid="detail-message")),
                rx.cond(s.editing, _edit_form()),
                rx.grid(
                    rx.card(
                        rx.heading("Original", size="3"),
                        rx.cond(
                            s.has_original,
                            rx.el.iframe(src="/api/v1/invoices/" + s.invoice["id"] + "/original",
                                         width="100%", height="480px", title="Original document"),
                            rx.text("No original document: this invoice was generated from activity data.",
                                    color_scheme="gray", size="2"),
                        ),
                    ),
                    rx.card(
                        rx.heading("Normalized invoice", size="3"),
                        _facts([("Type", "kind"), ("Vendor", "vendor"), ("Vendor's invoice no.", "vendor_number"), ("Issue date", "issue_date"),
                                ("Due date", "due_date"), ("Currency", "currency"), ("Subtotal", "subtotal"),
                                ("Tax", "tax"), ("Total", "total"), ("Source amount", "source"),
                                ("Submitted by", "submitted_by"), ("Rejection reason", "rejection_reason")]),
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
                _reject_dialog(s),
                spacing="3", width="100%",
            ),
        ),
    )
