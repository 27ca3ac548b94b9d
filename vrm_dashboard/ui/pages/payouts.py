"""Smart Payouts: totals, filters, the payout table with selection, approval, retry, manual
confirmation and remittance advice downloads."""
import reflex as rx

from vrm_dashboard.ui.components.filters import filter_select
from vrm_dashboard.ui.components.list_controls import pager
from vrm_dashboard.ui.components.shell import data_table, page_frame
from vrm_dashboard.ui.states.payouts import RAIL_OPTIONS, STATUS_OPTIONS, PayoutsState
from vrm_dashboard.ui.states.reconciliation import ReconciliationState

TOTALS_REFRESH_MS = 10_000
HEADERS = ["Invoice", "Vendor ID", "Vendor", "Payment method", "Due date", "Pay date", "Amount", "Currency",
           "Approver", "Payout approver", "Status", "Reason", "Confirmation"]


def _total(total: rx.Var) -> rx.Component:
    return rx.card(rx.vstack(
        rx.text(total.label, size="2", weight="bold"),
        rx.text(total.count, size="5"),
        rx.text(total.amounts, size="1", color_scheme="gray", data_testid="payout-total-amounts"),
        spacing="1"), width="220px", data_testid="payout-total")


def _select(name: str, label: str, options: list[tuple[str, str]]) -> rx.Component:
    return filter_select(PayoutsState.filters, PayoutsState.set_filter, name, label, options, f"payout-filter-{name}")


def _confirmation(row: rx.Var) -> rx.Component:
    return rx.cond(
        row.paid,
        rx.link("Remittance advice (PDF)", href="/api/v1/payouts/transactions/" + row.transaction_id + "/remittance",
                is_external=True, data_testid="remittance-link"),
        rx.cond(
            row.confirmable & PayoutsState.can_manage,
            rx.hstack(
                rx.input(placeholder="Bank reference", size="1", width="130px",
                         on_change=lambda value: PayoutsState.set_bank_reference(row.transaction_id, value),
                         data_testid="bank-reference"),
                rx.button("Mark paid", size="1", variant="soft",
                          on_click=PayoutsState.mark_paid(row.transaction_id), data_testid="mark-paid"),
                spacing="1"),
            rx.text(row.reference, size="1", color_scheme="gray"),
        ),
    )


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.checkbox(checked=PayoutsState.selected.contains(row.id),
                                  on_change=lambda _c: PayoutsState.toggle_row(row.id),
                                  data_testid="payout-select")),
        rx.table.cell(rx.link(row.invoice, href="/invoice?id=" + row.invoice_id)),
        *[rx.table.cell(getattr(row, k)) for k in ("vendor_code", "vendor", "method", "due_date", "pay_date", "amount",
                                          "currency", "approver", "payout_approver")],
        rx.table.cell(row.status, data_testid="payout-status"),
        rx.table.cell(row.reason, max_width="260px"),
        rx.table.cell(_confirmation(row)),
        data_testid="payout-row",
    )


def payouts_page() -> rx.Component:
    s = PayoutsState
    return page_frame(
        "Smart Payouts",
        rx.vstack(
            rx.hstack(rx.foreach(s.totals, _total),
                      rx.text("Totals as of ", s.totals_at, size="1", color_scheme="gray"),
                      # A timer while the page is open; it stops with the page, nothing runs on after.
                      rx.moment(interval=TOTALS_REFRESH_MS, on_change=s.tick, display="none"),
                      wrap="wrap", spacing="3", align="end"),
            rx.hstack(
                _select("status", "Status", STATUS_OPTIONS),
                _select("rail", "Payment method", RAIL_OPTIONS),
                rx.input(placeholder="Vendor ID or name", width="180px", value=s.filters["vendor"],
                         on_change=lambda v: s.set_filter("vendor", v).debounce(400)),
                rx.button("Refresh", variant="soft", color_scheme="gray", on_click=s.refresh),
                rx.spacer(),
                rx.cond(s.can_approve, rx.button("Approve selected", on_click=s.approve_selected,
                                                 disabled=s.selected.length() == 0, data_testid="approve-payouts")),
                rx.cond(s.can_manage, rx.button("Retry selected", variant="soft", on_click=s.retry_selected,
                                                disabled=s.selected.length() == 0, data_testid="retry-payouts")),
                rx.cond(s.can_manage, rx.button("Run payouts now", variant="outline", on_click=s.run_now,
                                                data_testid="run-payouts")),
                align="center", wrap="wrap", width="100%",
            ),
            rx.cond(s.result != "", rx.callout(s.result, data_testid="payout-result")),
            rx.table.root(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell(rx.checkbox(on_change=s.toggle_page)),
                    *[rx.table.column_header_cell(h) for h in HEADERS])),
                rx.table.body(rx.foreach(s.rows, _row)),
                size="1", variant="surface", data_testid="payouts-table",
            ),
            pager(s, s.total_rows, " payouts"),
            rx.divider(),
            reconciliation_section(),
            spacing="3", width="100%",
        ),
    )


def reconciliation_section() -> rx.Component:
    r = ReconciliationState
    upload_box = dict(border="1px dashed var(--gray-8)", padding="1em", width="320px")
    return rx.vstack(
        rx.heading("Payment reconciliation", size="5"),
        rx.text("Bank statements (camt.053, MT940 or CSV) confirm transfers, report returns and settle customer "
                "payments. Exchange-rate files (ECB layout, or date,currency,rate) add rates for conversions.",
                size="2", color_scheme="gray"),
        rx.cond(PayoutsState.can_manage, rx.hstack(
            rx.vstack(
                rx.upload(rx.text("Drop bank statements here", size="2"), id="statements", multiple=True,
                          max_files=10, **upload_box),
                rx.button("Import statements", size="1", data_testid="import-statements",
                          on_click=r.upload_statements(rx.upload_files(upload_id="statements")))),
            rx.vstack(
                rx.upload(rx.text("Drop exchange-rate files here", size="2"), id="rates", multiple=True,
                          max_files=5, **upload_box),
                rx.checkbox("Confirm rate jumps (I checked them)", size="1", checked=r.confirm_rate_jumps,
                            on_change=r.set_confirm_rate_jumps),
                rx.button("Import rates", size="1", variant="soft",
                          on_click=r.upload_rates(rx.upload_files(upload_id="rates")))),
            spacing="4", wrap="wrap")),
        rx.foreach(r.messages, lambda m: rx.text(m, size="2", data_testid="reconciliation-message")),
        rx.heading("Exceptions", size="4"),
        data_table(["Statement", "Booked", "Amount", "Reference", "Counterparty", "Outcome", "Note"],
                   r.exception_rows, ["statement", "date", "amount", "reference", "counterparty", "outcome", "note"],
                   "reconciliation-exceptions"),
        spacing="2", width="100%",
    )
