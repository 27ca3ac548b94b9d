"""`/portal`: the vendor's own portal: messages, invoices sent to it and disputes, its invoices,
payments, the embed code and sending invoices."""
import reflex as rx

from vrm_dashboard.domain.invoice_status import VENDOR_PAYMENT_LABELS
from vrm_dashboard.ui.components.facts import fact_list
from vrm_dashboard.ui.components.list_controls import pager
from vrm_dashboard.ui.components.shell import data_table, page_frame
from vrm_dashboard.ui.states.directory import PortalState


def _sent_document(d: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(d.number, href="/api/v1/distribution/invoices/" + d.invoice_id + "/pdf",
                              is_external=True, data_testid="portal-open-invoice")),
        *[rx.table.cell(getattr(d, k)) for k in ("type", "amount", "status", "sent", "viewed")],
        rx.table.cell(rx.cond(d.disputed, rx.badge("Reported"),
                              rx.cond(d.type == "Invoice",
                                      rx.button("Report a problem", size="1", variant="soft",
                                                on_click=PortalState.open_dispute(d.invoice_id, d.number),
                                                data_testid="portal-dispute")))),
        data_testid="portal-sent-row",
    )


def _dispute_dialog() -> rx.Component:
    s = PortalState
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("Report a problem with ", s.dispute_number),
        rx.text_area(placeholder="What is wrong with this invoice?", value=s.dispute_reason,
                     on_change=s.set_dispute_reason, data_testid="portal-dispute-reason"),
        rx.cond(s.dispute_message != "", rx.callout(s.dispute_message, color_scheme="red")),
        rx.hstack(rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                  rx.button("Send report", on_click=s.submit_dispute, data_testid="portal-dispute-send"),
                  justify="end"),
        spacing="3"), open=s.dispute_open, on_open_change=s.set_dispute_open)


def _invoice_filter_input(name: str, placeholder: str, width: str) -> rx.Component:
    return rx.input(placeholder=placeholder, value=PortalState.invoice_filters[name], width=width,
                    type="date" if name.startswith("issued") else "text",
                    on_change=lambda value: PortalState.set_invoice_filter(name, value),
                    data_testid=f"portal-filter-{name}")


def _portal_invoice_row(i: rx.Var) -> rx.Component:
    base = "/api/v1/portal/invoices/" + i.id
    return rx.table.row(
        *[rx.table.cell(getattr(i, k)) for k in ("number", "your_number", "issue_date", "due_date", "amount")],
        rx.table.cell(rx.badge(i.status)),
        rx.table.cell(rx.hstack(
            rx.link("View", href=base + "/file", is_external=True, data_testid="portal-invoice-view"),
            rx.link("Download", href=base + "/file?download=true", is_external=True,
                    data_testid="portal-invoice-download"),
            rx.link("Print", href=base + "/print", is_external=True, data_testid="portal-invoice-print"),
            spacing="3")),
        data_testid="portal-invoice-row")


def _my_invoices() -> rx.Component:
    s = PortalState
    return rx.vstack(
        rx.heading("My invoices", size="4"),
        rx.hstack(
            _invoice_filter_input("number", "Invoice number", "180px"),
            rx.text("Issued from", size="2"), _invoice_filter_input("issued_from", "", "150px"),
            rx.text("to", size="2"), _invoice_filter_input("issued_to", "", "150px"),
            rx.select.root(rx.select.trigger(data_testid="portal-filter-payment_status"), rx.select.content(
                rx.select.item("Any payment status", value="all"),
                *[rx.select.item(label, value=value.value) for value, label in VENDOR_PAYMENT_LABELS.items()]),
                value=s.invoice_filters["payment_status"],
                on_change=lambda value: s.set_invoice_filter("payment_status", value)),
            rx.button("Clear", size="1", variant="soft", on_click=s.clear_invoice_filters),
            align="center", wrap="wrap"),
        rx.cond(s.invoice_message != "", rx.text(s.invoice_message, size="2", color_scheme="red")),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "Number", "Your number", "Issued", "Due", "Amount", "Payment status", "")])),
            rx.table.body(rx.foreach(s.invoices, _portal_invoice_row)),
            size="1", variant="surface", width="100%", data_testid="portal-invoices"),
        pager(s, s.invoice_total, " invoices", testid="portal-invoice-pages"),
        spacing="2", width="100%")


def _widget_link_row(link: rx.Var) -> rx.Component:
    return rx.table.row(
        *[rx.table.cell(getattr(link, k)) for k in ("made", "made_by", "expires", "state")],
        rx.table.cell(rx.cond(link.active, rx.button(
            "Revoke", size="1", variant="soft", color_scheme="red", on_click=PortalState.revoke_widget(link.id),
            data_testid="portal-widget-revoke"))),
        data_testid="portal-widget-link")


def _widget_links() -> rx.Component:
    """Embed codes: make one, see every link made, revoke one that should stop working."""
    s = PortalState
    return rx.vstack(
        rx.heading("Show your payouts on your own site", size="4"),
        rx.hstack(rx.button("Make an embed code", variant="soft", on_click=s.make_widget, data_testid="portal-widget"),
                  rx.text("A frame with your balance and payout status, valid 30 days unless you revoke it.",
                          size="2"),
                  align="center"),
        rx.cond(s.widget_message != "", rx.text(s.widget_message, size="2", data_testid="portal-widget-message")),
        rx.cond(s.widget_iframe != "",
                rx.code_block(s.widget_iframe, language="markup", wrap_long_lines=True,
                              data_testid="portal-widget-code")),
        rx.cond(s.widget_links.length() > 0, rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("Made", "By", "Expires", "State", "")])),
            rx.table.body(rx.foreach(s.widget_links, _widget_link_row)),
            size="1", variant="surface", data_testid="portal-widget-links")),
        spacing="2", width="100%")


def portal_page() -> rx.Component:
    return page_frame(
        "My Portal",
        rx.cond(
            PortalState.error != "",
            rx.callout(PortalState.error, color_scheme="red"),
            rx.vstack(
                rx.heading(PortalState.vendor.name, size="5", data_testid="portal-vendor"),
                rx.cond(PortalState.onboarding, rx.callout(
                    rx.hstack(rx.text("Your profile is not approved yet: complete it and submit it for review. "
                                      "You can send invoices once it is approved.", size="2"),
                              rx.link("Open My Profile", href="/profile", data_testid="portal-open-profile")),
                    color_scheme="amber", icon="list-todo", data_testid="portal-onboarding")),
                fact_list(PortalState.vendor, [("Vendor ID", "vendor_code"), ("E-mail", "email"),
                                            ("Payment method", "payment_method"), ("Status", "status")]),
                rx.heading("Messages", size="4"),
                data_table(["When", "Subject", "Message"], PortalState.notifications, ["at", "subject", "body"],
                           "portal-notifications"),
                rx.heading("Invoices sent to you", size="4"),
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                                   ("Number", "Type", "Amount", "Status", "Sent", "Opened", "")])),
                    rx.table.body(rx.foreach(PortalState.sent_documents, _sent_document)),
                    size="1", variant="surface", data_testid="portal-sent"),
                _dispute_dialog(),
                _my_invoices(),
                rx.heading("Payments", size="4"),
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                                   ("Reference", "Paid", "Amount", "Invoices", "Remittance advice")])),
                    rx.table.body(rx.foreach(PortalState.payments, lambda p: rx.table.row(
                        rx.table.cell(p.reference), rx.table.cell(p.paid_at), rx.table.cell(p.amount),
                        rx.table.cell(p.invoices),
                        rx.table.cell(rx.link("PDF", href="/api/v1/payouts/transactions/" + p.id + "/remittance",
                                              is_external=True))))),
                    size="1", variant="surface", data_testid="portal-payments"),
                _widget_links(),
                rx.heading("Send an invoice", size="4"),
                rx.upload(rx.text("Drop PDF or e-invoice XML files here, or click to choose", size="2"),
                          id="portal-invoices", multiple=True, max_files=20,
                          accept={"application/pdf": [".pdf"], "application/xml": [".xml"], "text/xml": [".xml"]},
                          border="1px dashed var(--gray-8)", padding="1.5em"),
                rx.foreach(rx.selected_files("portal-invoices"), lambda name: rx.text(name, size="1")),
                rx.button("Send", data_testid="portal-upload",
                          on_click=PortalState.upload_invoices(rx.upload_files(upload_id="portal-invoices"))),
                rx.foreach(PortalState.upload_results, lambda r: rx.text(r, size="2", data_testid="portal-upload-result")),
                spacing="3",
            ),
        ),
    )
