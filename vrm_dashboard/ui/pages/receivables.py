"""Customer Invoices: outgoing and incoming lists with terms and due dates, Collect Payment,
reminder switches, and the AR aging report (chart, table, Excel)."""
import reflex as rx

from vrm_dashboard.domain.invoice_status import STATUS_LABELS
from vrm_dashboard.services.receivables.aging import BUCKET_KEYS, BUCKET_LABELS
from vrm_dashboard.ui.components.filters import filter_select
from vrm_dashboard.ui.components.list_controls import pager
from vrm_dashboard.ui.components.shell import data_table, page_frame
from vrm_dashboard.ui.components.sortable_header import sort_label
from vrm_dashboard.ui.states.receivables import METHOD_OPTIONS, ReceivablesState

S = ReceivablesState
COLUMNS = [("number", "Invoice", "number"), ("organization", "Organization", "organization"),
           ("issue_date", "Invoice date", "issue_date"), ("posting_date", "Posting date", "posting_date"),
           ("terms", "Payment terms", "terms"), ("due_date", "Due date", "due_date"),
           ("method", "Payment method", "payment_method"), ("amount", "Amount", "amount"),
           ("status", "Status", "status")]


def _filters() -> rx.Component:
    return rx.hstack(
        rx.segmented_control.root(
            rx.segmented_control.item("Outgoing (we bill)", value="outgoing"),
            rx.segmented_control.item("Incoming (we are billed)", value="incoming"),
            value=S.direction, on_change=S.set_direction, data_testid="receivables-direction"),
        rx.input(placeholder="Search number or organization", width="220px", value=S.filters["search"],
                 on_change=lambda value: S.set_filter("search", value).debounce(400), data_testid="receivables-search"),
        filter_select(S.filters, S.set_filter, "status", "Status",
                      [(s.value, label) for s, label in STATUS_LABELS.items()], "receivables-filter-status"),
        filter_select(S.filters, S.set_filter, "payment_method", "Method", METHOD_OPTIONS, "receivables-filter-method"),
        *[item for label, low, high in (("Due", "due_from", "due_to"), ("Posted", "posted_from", "posted_to"))
          for item in (rx.text(label, size="2"),
                       rx.input(type="date", width="140px", value=S.filters[low],
                                on_change=lambda value, low=low: S.set_filter(low, value)),
                       rx.input(type="date", width="140px", value=S.filters[high],
                                on_change=lambda value, high=high: S.set_filter(high, value)))],
        rx.input(placeholder="Terms (days)", width="110px", value=S.filters["terms"],
                 on_change=lambda value: S.set_filter("terms", value).debounce(400), data_testid="receivables-filter-terms"),
        rx.checkbox("Overdue only", checked=S.overdue_only, on_change=S.set_overdue_only,
                    data_testid="receivables-overdue"),
        rx.spacer(),
        rx.cond(S.can_collect & (S.direction == "outgoing"),
                rx.button("Collect Payment", on_click=S.open_collect, data_testid="collect-open")),
        align="center", wrap="wrap", width="100%")


def _header(key: str, label: str, sort_key: str) -> rx.Component:
    return rx.table.column_header_cell(sort_label(S, label, sort_key, testid=f"receivables-sort-{key}"))


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        *[rx.table.cell(rx.cond(key == "due_date",
                                rx.text(getattr(row, key), color=rx.cond(row.overdue, rx.color("red", 11), "inherit")),
                                rx.text(getattr(row, key))), data_testid=f"receivables-cell-{key}")
          for key, _label, _sort in COLUMNS],
        rx.table.cell(rx.switch(checked=row.reminders, disabled=~S.can_collect | (S.direction != "outgoing"),
                                on_change=lambda _c: S.toggle_reminders(row.id), data_testid="receivables-reminders")),
        data_testid="receivables-row")


def _table() -> rx.Component:
    return rx.vstack(
        rx.table.root(
            rx.table.header(rx.table.row(*[_header(k, label, sort) for k, label, sort in COLUMNS],
                                         rx.table.column_header_cell("Reminders"))),
            rx.table.body(rx.foreach(S.rows, _row)),
            size="1", variant="surface", width="100%", data_testid="receivables-table"),
        pager(S, S.total_rows, " invoices · open ", S.open_amounts, testid="receivables-count"),
        width="100%")


def _collect_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("Collect Payment"),
        rx.text("Charge every applicable open invoice through the customer's card or direct-debit mandate.", size="2"),
        rx.radio_group.root(
            rx.vstack(
                rx.radio_group.item("By Due Date: invoices due on or before the date", value="due_date"),
                rx.radio_group.item("By Invoice Date: invoices issued on or before the date", value="invoice_date"),
                spacing="2"),
            value=S.collect_by, on_change=S.set_collect_by, data_testid="collect-by"),
        rx.hstack(rx.text("Date", size="2"),
                  rx.input(type="date", value=S.collect_on, on_change=S.set_collect_on, data_testid="collect-on"),
                  align="center", margin_top="0.75em"),
        rx.cond(S.collect_summary.length() > 0, rx.callout(rx.vstack(
            rx.foreach(S.collect_summary, lambda line: rx.text(line, size="2", data_testid="collect-summary")),
            spacing="1"), icon="info", margin_top="0.75em")),
        rx.hstack(
            rx.button("Close", variant="soft", color_scheme="gray", on_click=S.set_collect_open(False)),
            rx.button("Confirm and collect", on_click=S.collect, data_testid="collect-confirm"),
            justify="end", spacing="3", margin_top="1em"),
    ), open=S.collect_open, on_open_change=S.set_collect_open)


def _aging() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("AR aging", size="4"),
            rx.link(rx.button("Export to Excel", size="1", variant="soft"), href="/api/v1/receivables/aging.xlsx",
                    is_external=True, data_testid="aging-export"),
            align="center", spacing="3"),
        rx.plotly(data=S.aging_figure, width="100%"),
        data_table(["Organization", "Currency", *[BUCKET_LABELS[k] for k in BUCKET_KEYS], "Total"], S.aging_rows,
                   ["organization", "currency", *BUCKET_KEYS, "total"], "aging-table"),
        spacing="2", width="100%")


def receivables_page() -> rx.Component:
    return page_frame(
        "Customer Invoices",
        rx.vstack(
            _filters(),
            rx.cond(S.message != "", rx.callout(S.message, icon="check", color_scheme="green")),
            rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red",
                                              data_testid="receivables-error")),
            _table(), _collect_dialog(), _aging(),
            spacing="4", width="100%"),
    )
