"""`/invoices`: Pending Invoices: totals per status, filters, column chooser, selectable table, bulk
actions and exports."""
import reflex as rx

from vrm_dashboard.domain.invoice_status import STATUS_LABELS
from vrm_dashboard.domain.vendor_rules import PAYMENT_METHOD_LABELS
from vrm_dashboard.services.invoices.flags import FLAG_LABELS
from vrm_dashboard.ui.components.filters import filter_select
from vrm_dashboard.ui.components.list_controls import column_chooser, pager
from vrm_dashboard.ui.components.reject_dialog import reject_dialog
from vrm_dashboard.ui.components.shell import page_frame
from vrm_dashboard.ui.components.sortable_header import sort_label
from vrm_dashboard.ui.states.invoices import COLUMNS, InvoicesState

_SORT_KEYS = {"number": "number", "kind": "kind", "vendor": "vendor", "amount": "amount",
              "currency": "currency", "issue_date": "issue_date", "due_date": "due_date", "status": "status"}


def _status_card(total: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(total.label, size="2", weight="bold"),
            rx.text(total.count, size="5", data_testid="status-count"),
            rx.text(total.amounts, size="1", color_scheme="gray"),
            spacing="1",
        ),
        on_click=InvoicesState.show_status(total.key),
        cursor="pointer",
        width="200px",
        background=rx.cond(InvoicesState.filters["status"] == total.key, rx.color("accent", 3), "transparent"),
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
    content = sort_label(InvoicesState, label, sort_key) if sort_key else rx.text(label)
    return rx.cond(InvoicesState.visible_columns.contains(key), rx.table.column_header_cell(content))


def _cell(row: rx.Var, key: str) -> rx.Component:
    if key == "number":
        content = rx.link(row.number, href="/invoice?id=" + row.id)
    elif key == "status":
        content = rx.badge(row.status, data_testid="row-status")
    elif key == "flags":
        content = rx.cond(row.flags != "", rx.badge(row.flags, color_scheme="orange"), "")
    else:
        content = rx.text(getattr(row, key))
    return rx.cond(InvoicesState.visible_columns.contains(key), rx.table.cell(content, data_testid=f"cell-{key}"))


def _table() -> rx.Component:
    return rx.vstack(
        rx.table.root(
            rx.table.header(rx.table.row(
                rx.table.column_header_cell(rx.checkbox(on_change=InvoicesState.toggle_page, data_testid="select-page")),
                *[_header(key, label) for key, label in COLUMNS],
            )),
            rx.table.body(rx.foreach(InvoicesState.rows, lambda row: rx.table.row(
                rx.table.cell(rx.checkbox(checked=InvoicesState.selected.contains(row.id),
                                          on_change=lambda _c: InvoicesState.toggle_row(row.id),
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
                rx.foreach(InvoicesState.refused, lambda r: rx.text(r.number, ": ", r.reason, size="1",
                                                                    data_testid="refused-row")),
                spacing="1",
            ),
            icon="info",
        ),
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
            reject_dialog(InvoicesState),
            spacing="4",
            width="100%",
        ),
    )
