"""Payment Terms: search, filters, sortable columns with a chooser, terms edited in place or
for many organizations at once, each organization's history, and Excel exports."""
import reflex as rx

from vrm_dashboard.ui.components.filters import filter_select
from vrm_dashboard.ui.components.list_controls import column_chooser, pager
from vrm_dashboard.ui.components.shell import data_table, page_frame
from vrm_dashboard.ui.components.sortable_header import sort_label
from vrm_dashboard.ui.states.terms import COLLECTION_OPTIONS, COLUMNS, TIER_OPTIONS, TermsState

S = TermsState
_SORTABLE = {"status", "name", "erp_id", "id", "country", "tier", "terms", "default", "updated_at", "updated_by"}


def _filters() -> rx.Component:
    return rx.hstack(
        rx.input(placeholder="Search name, ERP ID or ID", width="240px", value=S.filters["search"],
                 on_change=lambda value: S.set_filter("search", value).debounce(400), data_testid="terms-search"),
        filter_select(S.filters, S.set_filter, "tier", "Tier", TIER_OPTIONS, "terms-filter-tier"),
        rx.input(placeholder="Country", width="90px", value=S.filters["country"],
                 on_change=lambda value: S.set_filter("country", value).debounce(400), data_testid="terms-filter-country"),
        filter_select(S.filters, S.set_filter, "uses_default", "Default terms", [("yes", "Yes"), ("no", "No")],
                      "terms-filter-default"),
        filter_select(S.filters, S.set_filter, "status", "Status", [("active", "Active"), ("inactive", "Inactive")],
                      "terms-filter-status"),
        rx.button("Clear filters", variant="soft", color_scheme="gray", on_click=S.clear_filters),
        rx.spacer(),
        column_chooser(S, COLUMNS, "terms-columns", "terms-column-"),
        rx.button("Export view to Excel", variant="soft", on_click=S.export("view"), data_testid="terms-export-view"),
        rx.button("Export all to Excel", variant="soft", on_click=S.export("all"), data_testid="terms-export-all"),
        align="center", wrap="wrap", width="100%",
    )


def _header(key: str, label: str) -> rx.Component:
    if key in _SORTABLE:
        content = sort_label(S, label, key, testid=f"terms-sort-{key}")
    else:
        content = rx.text(label)
    return rx.cond(S.visible_columns.contains(key), rx.table.column_header_cell(content))


def _terms_cell(row: rx.Var) -> rx.Component:
    editable = rx.hstack(
        rx.input(value=row.draft, width="70px", size="1", data_testid="terms-input",
                 on_change=lambda value: S.set_draft(row.id, value),
                 on_blur=lambda _value: S.save_terms(row.id),
                 on_key_down=lambda key: S.key_in_terms(row.id, key)),
        rx.text("days", size="1"),
        spacing="1", align="center")
    return rx.vstack(
        rx.cond(S.can_edit, editable, rx.text(row.days, " days")),
        rx.cond(row.pending != "", rx.text(row.pending, size="1", color_scheme="gray")),
        spacing="0")


def _cell(row: rx.Var, key: str) -> rx.Component:
    if key == "name":
        # A button, not a link: a link would navigate and reload the page under the click.
        content = rx.button(row.name, variant="ghost", size="1", on_click=S.show_history(row.id, row.name),
                            data_testid="terms-history-link")
    elif key == "terms":
        content = _terms_cell(row)
    elif key == "default":
        content = rx.badge(row.default, color_scheme=rx.cond(row.default == "Yes", "gray", "blue"),
                           data_testid="terms-default")
    elif key == "reminders":
        content = rx.switch(checked=row.reminders, disabled=~S.can_collect,
                            on_change=lambda _c: S.toggle_reminders(row.id), data_testid="terms-reminders")
    else:
        content = rx.text(getattr(row, key))
    return rx.cond(S.visible_columns.contains(key), rx.table.cell(content, data_testid=f"terms-cell-{key}"))


def _table() -> rx.Component:
    return rx.vstack(
        rx.table.root(
            rx.table.header(rx.table.row(
                rx.table.column_header_cell(rx.checkbox(on_change=S.toggle_page, data_testid="terms-select-page")),
                *[_header(key, label) for key, label in COLUMNS])),
            rx.table.body(rx.foreach(S.rows, lambda row: rx.table.row(
                rx.table.cell(rx.checkbox(checked=S.selected.contains(row.id),
                                          on_change=lambda _c: S.toggle_row(row.id), data_testid="terms-select-row")),
                *[_cell(row, key) for key, _ in COLUMNS],
                data_testid="terms-row"))),
            size="1", variant="surface", width="100%", data_testid="terms-table"),
        pager(S, S.total_rows, " organizations", testid="terms-count"),
        width="100%")


def _bulk_bar() -> rx.Component:
    return rx.cond(S.can_edit, rx.hstack(
        rx.text(S.selected.length(), " selected", size="2"),
        rx.input(placeholder="Days", width="80px", value=S.bulk_value, on_change=S.set_bulk_value,
                 data_testid="terms-bulk-value"),
        rx.button("Set terms for selected", on_click=S.apply_bulk(False), disabled=S.selected.length() == 0,
                  data_testid="terms-bulk-apply"),
        rx.button("Use default for selected", variant="soft", on_click=S.apply_bulk(True),
                  disabled=S.selected.length() == 0, data_testid="terms-bulk-default"),
        rx.text("A change applies to invoices generated from the first day of next month; issued invoices keep "
                "their terms.", size="1", color_scheme="gray"),
        align="center", wrap="wrap"))


def _messages() -> rx.Component:
    return rx.fragment(
        rx.cond(S.message != "", rx.callout(S.message, icon="check", color_scheme="green", data_testid="terms-message")),
        rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red", data_testid="terms-error")),
    )


def _billing() -> rx.Component:
    b = S.billing
    field = lambda label, name: rx.hstack(  # noqa: E731
        rx.text(label, size="2", width="160px"),
        rx.input(value=b[name], width="320px", on_change=lambda value: S.set_billing_field(name, value),
                 data_testid=f"billing-{name}"), align="center")
    return rx.vstack(
        rx.heading("Billing", size="3"),
        field("Billing e-mail", "billing_email"),
        field("Billing address", "billing_address"),
        rx.hstack(rx.text("Collected by", size="2", width="160px"),
                  rx.select.root(rx.select.trigger(data_testid="billing-collection-method"), rx.select.content(
                      *[rx.select.item(text, value=value) for value, text in COLLECTION_OPTIONS]),
                      value=b["collection_method"], on_change=lambda value: S.set_billing_field("collection_method", value)),
                  align="center"),
        rx.checkbox("Consolidate its invoices monthly", checked=b["consolidates_monthly"] == "yes",
                    on_change=lambda value: S.set_billing_field("consolidates_monthly", value)),
        rx.checkbox("Send e-invoices (Factur-X)", checked=b["wants_einvoice"] == "yes",
                    on_change=lambda value: S.set_billing_field("wants_einvoice", value)),
        rx.cond(S.can_collect, rx.button("Save billing settings", size="2", on_click=S.save_billing,
                                         data_testid="billing-save")),
        spacing="2")


def _history() -> rx.Component:
    return rx.cond(S.history_name != "", rx.vstack(
        rx.heading(S.history_name, size="4", data_testid="terms-detail-name"),
        rx.heading("History of terms", size="3"),
        rx.cond(S.history.length() == 0, rx.text("Always on the default terms.", size="2"),
                data_table(["In force from", "Before", "After", "Changed", "By"], S.history,
                           ["effective_from", "was", "now", "at", "by"], "terms-history")),
        _billing(),
        spacing="2", width="100%"))


def terms_page() -> rx.Component:
    return page_frame(
        "Payment Terms",
        rx.vstack(_filters(), _bulk_bar(), _messages(), _table(), _history(), spacing="4", width="100%"),
    )
