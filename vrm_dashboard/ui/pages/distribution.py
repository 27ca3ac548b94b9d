"""Distribution: how invoice e-mails went (chart, table, Excel), each delivery with what held
or failed it, and the dispute queue with re-issue."""
import reflex as rx

from vrm_dashboard.ui.components.list_controls import pager
from vrm_dashboard.ui.components.shell import data_table, page_frame
from vrm_dashboard.ui.states.distribution import PERIOD_OPTIONS, STATUS_OPTIONS, DistributionState

HEADERS = ["Invoice", "Type", "Recipient", "Status", "Why", "Attempts", "Queued", "Sent", "Viewed", "Invoice status",
           "Action"]


def _count(item: rx.Var) -> rx.Component:
    return rx.card(rx.vstack(rx.text(item.label, size="2", weight="bold"), rx.text(item.count, size="5"),
                             spacing="1"), width="130px", data_testid="delivery-count")


def _choice(value: rx.Var, on_change, options: list[tuple[str, str]], testid: str, with_all: bool) -> rx.Component:  # type: ignore[no-untyped-def]
    items = ([rx.select.item("All", value="all")] if with_all else []) + \
        [rx.select.item(text, value=v) for v, text in options]
    return rx.select.root(rx.select.trigger(data_testid=testid), rx.select.content(*items),
                          value=value, on_change=on_change)


def _action(row: rx.Var) -> rx.Component:
    s = DistributionState
    return rx.cond(
        row.can_resend & s.can_manage,
        rx.hstack(
            rx.input(placeholder="Corrected address", size="1", width="170px",
                     on_change=lambda value: s.set_address(row.id, value), data_testid="resend-address"),
            rx.button("Send again", size="1", variant="soft", on_click=s.send_again(row.id),
                      data_testid="send-again"),
            spacing="1"),
        rx.cond(row.sent != "",
                rx.link("PDF", href="/api/v1/distribution/invoices/" + row.invoice_id + "/pdf", is_external=True),
                rx.text("")),
    )


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(row.number, href="/invoice?id=" + row.invoice_id)),
        rx.table.cell(row.type), rx.table.cell(row.recipient),
        rx.table.cell(row.status, data_testid="delivery-status"),
        rx.table.cell(rx.text(row.why, size="1", white_space="pre-line"), max_width="280px"),
        *[rx.table.cell(getattr(row, k)) for k in ("attempts", "queued", "sent", "viewed", "invoice_status")],
        rx.table.cell(_action(row)),
        data_testid="delivery-row",
    )


def _report() -> rx.Component:
    s = DistributionState
    return rx.vstack(
        rx.hstack(
            rx.heading("Delivery report", size="4"),
            _choice(s.period, s.set_period, PERIOD_OPTIONS, "report-period", with_all=False),
            rx.link(rx.button("Export to Excel", size="1", variant="soft"),
                    href="/api/v1/distribution/report.xlsx?period=" + s.period, is_external=True,
                    data_testid="report-export"),
            align="center", spacing="3"),
        rx.plotly(data=s.figure, width="100%"),
        data_table(["Period starting", "Sent", "Delivered", "Bounced", "Failed", "Viewed", "Paid", "Success rate"],
                   s.report_rows, ["period", "sent", "delivered", "bounced", "failed", "viewed", "paid", "rate"],
                   "distribution-report"),
        spacing="2", width="100%",
    )


def _dispute(row: rx.Var) -> rx.Component:
    s = DistributionState
    return rx.table.row(
        rx.table.cell(rx.link(row.number, href="/invoice?id=" + row.invoice_id)),
        rx.table.cell(row.raised_by), rx.table.cell(row.at),
        rx.table.cell(rx.text(row.reason, size="2"), max_width="320px"),
        rx.table.cell(rx.cond(s.can_manage, rx.hstack(
            rx.button("Re-issue corrected", size="1", on_click=s.open_reissue(row.id), data_testid="open-reissue"),
            rx.input(placeholder="Answer (the invoice stands)", size="1", width="200px",
                     on_change=lambda value: s.set_answer(row.id, value)),
            rx.button("Dismiss", size="1", variant="soft", color_scheme="gray", on_click=s.dismiss(row.id)),
            spacing="1"))),
        data_testid="dispute-row",
    )


def _line_editor(line: rx.Var, index: rx.Var) -> rx.Component:
    s = DistributionState
    return rx.hstack(
        rx.input(value=line.description, on_change=lambda v: s.set_line(index, "description", v),
                 width="280px", size="1", data_testid="reissue-description"),
        rx.input(value=line.quantity, on_change=lambda v: s.set_line(index, "quantity", v), width="70px",
                 size="1", data_testid="reissue-quantity"),
        rx.input(value=line.unit_price, on_change=lambda v: s.set_line(index, "unit_price", v), width="100px",
                 size="1", data_testid="reissue-price"),
        spacing="2")


def _reissue_dialog() -> rx.Component:
    s = DistributionState
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("Re-issue invoice ", s.reissue_number),
        rx.text("The original is cancelled by a credit note; the corrected invoice is a numbered revision. "
                "Both are e-mailed to the recipient at once.", size="2", color_scheme="gray"),
        rx.hstack(rx.text("Description", width="280px", size="1"), rx.text("Qty", width="70px", size="1"),
                  rx.text("Unit price", width="100px", size="1"), spacing="2"),
        rx.foreach(s.reissue_lines, _line_editor),
        rx.button("Add a line", size="1", variant="ghost", on_click=s.add_line),
        rx.hstack(rx.text("VAT %", size="2"), rx.input(value=s.reissue_tax, on_change=s.set_reissue_tax, width="70px",
                                                       size="1"), align="center"),
        rx.text_area(placeholder="Note to the recipient", value=s.reissue_note, on_change=s.set_reissue_note),
        rx.cond(s.reissue_error != "", rx.callout(s.reissue_error, color_scheme="red", data_testid="reissue-error")),
        rx.hstack(rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                  rx.button("Re-issue", on_click=s.reissue, data_testid="confirm-reissue"), justify="end"),
        spacing="3", max_width="640px"),
        open=s.reissue_open, on_open_change=s.set_reissue_open)


def distribution_page() -> rx.Component:
    s = DistributionState
    return page_frame(
        "Distribution",
        rx.vstack(
            rx.hstack(rx.foreach(s.counts, _count), wrap="wrap", spacing="3"),
            rx.cond(s.result != "", rx.callout(s.result, data_testid="distribution-result")),
            _report(),
            rx.divider(),
            rx.heading("Invoice e-mails", size="4"),
            rx.hstack(
                rx.text("Status", size="2"),
                _choice(rx.cond(s.status_filter == "", "all", s.status_filter), s.set_status_filter, STATUS_OPTIONS,
                        "delivery-filter-status", with_all=True),
                rx.input(placeholder="Invoice number or recipient", width="220px", value=s.search,
                         on_change=s.set_search.debounce(400)),
                rx.button("Refresh", variant="soft", color_scheme="gray", on_click=s.refresh),
                rx.spacer(),
                rx.cond(s.can_manage, rx.button("Send due invoices now", on_click=s.run_now,
                                                data_testid="run-distribution")),
                align="center", wrap="wrap", width="100%"),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in HEADERS])),
                rx.table.body(rx.foreach(s.rows, _row)),
                size="1", variant="surface", data_testid="deliveries-table"),
            pager(s, s.total_rows, " e-mails"),
            rx.divider(),
            rx.heading("Disputes", size="4"),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("Invoice", "Raised by", "When", "What is wrong", "")])),
                rx.table.body(rx.foreach(s.dispute_rows, _dispute)),
                size="1", variant="surface", data_testid="disputes-table"),
            _reissue_dialog(),
            spacing="3", width="100%",
        ),
    )
