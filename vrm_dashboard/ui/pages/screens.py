"""The vendor card, settings and the vendor portal."""
import reflex as rx

from vrm_dashboard.domain.invoice_status import VENDOR_PAYMENT_LABELS
from vrm_dashboard.ui.components.list_controls import pager
from vrm_dashboard.ui.components.shell import data_table, page_frame
from vrm_dashboard.ui.pages.settings_sections import approval_controls, mail_servers
from vrm_dashboard.ui.pages.vendor_review import review_panel
from vrm_dashboard.ui.states.directory import PortalState
from vrm_dashboard.ui.states.branding import TRIGGER_OPTIONS, BrandingState
from vrm_dashboard.ui.states.settings import ROLE_OPTIONS, SettingsState
from vrm_dashboard.ui.states.vendor_card import VendorCardState


def _facts(source: rx.Var, items: list[tuple[str, str]]) -> rx.Component:
    return rx.data_list.root(
        *[rx.data_list.item(rx.data_list.label(label), rx.data_list.value(source[key]))
          for label, key in items]
    )


def _rate_input(source: rx.Var, setter, name: str, width: str = "120px") -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.input(value=source[name], on_change=lambda value: setter(name, value), width=width, size="1",
                    placeholder=name.replace("_", " "),
                    data_testid=f"rate-{name}")


def _rates() -> rx.Component:
    s = VendorCardState
    return rx.vstack(
        rx.heading("Self-billing rates", size="4"),
        rx.text("What this vendor's activity earns: a rate per unit and/or a share of revenue per activity type; "
                "a flat fee per month; nothing is invoiced below the minimum payout.", size="2", color_scheme="gray"),
        rx.hstack(rx.text("Currency", size="2"), _rate_input(s.rate_card, s.set_rate_card_field, "currency", "70px"),
                  rx.text("Flat fee", size="2"), _rate_input(s.rate_card, s.set_rate_card_field, "flat_fee"),
                  rx.text("Minimum payout", size="2"), _rate_input(s.rate_card, s.set_rate_card_field, "minimum_payout"),
                  rx.cond(s.can_edit_rates, rx.button("Save rate card", size="1", on_click=s.save_rate_card,
                                                      data_testid="save-rate-card")),
                  align="center", wrap="wrap"),
        data_table(["Activity", "Rate per unit", "Revenue share %"], s.rate_rules,
                   ["activity_type", "per_unit_rate", "revenue_share_percent"], "rate-rules"),
        rx.cond(s.can_edit_rates, rx.hstack(
            _rate_input(s.new_rule, s.set_new_rule_field, "activity_type", "140px"),
            _rate_input(s.new_rule, s.set_new_rule_field, "per_unit_rate"),
            _rate_input(s.new_rule, s.set_new_rule_field, "revenue_share_percent"),
            rx.button("Add or update rule", size="1", variant="soft", on_click=s.save_rule, data_testid="save-rate-rule"),
            align="center")),
        rx.cond(s.rates_message != "", rx.text(s.rates_message, size="2", data_testid="rates-message")),
        spacing="2", width="100%",
    )


def vendor_card_page() -> rx.Component:
    v = VendorCardState.vendor
    return page_frame(
        "Vendor",
        rx.cond(
            VendorCardState.error != "",
            rx.callout(VendorCardState.error, color_scheme="red"),
            rx.vstack(
                rx.heading(v["name"], size="6", data_testid="card-name"),
                review_panel(),
                rx.grid(
                    rx.card(rx.heading("Details", size="3"), _facts(v, [
                        ("Vendor ID", "vendor_code"), ("Legal name", "legal_name"), ("E-mail", "email"),
                        ("Country", "country"), ("Currency", "currency"), ("Status", "activity_status"),
                        ("Tax ID", "tax_id"), ("VAT ID", "vat_id")])),
                    rx.card(
                        rx.heading("Payment", size="3"),
                        _facts(v, [("Method", "payment_method"), ("Source", "payment_source")]),
                        data_table(["Detail", "Value"], VendorCardState.payment_details,
                                   ["field", "value"], "payment-details"),
                    ),
                    columns="2", spacing="4", width="100%",
                ),
                _rates(),
                rx.heading("Balances", size="4"),
                data_table(["Currency", "Invoices", "Invoiced", "Paid", "Open"], VendorCardState.balances,
                           ["currency", "invoices", "invoiced", "paid", "open"], "card-balances"),
                rx.heading("Contacts", size="4"),
                data_table(["Name", "E-mail", "Role"], VendorCardState.contacts, ["name", "email", "role"], "card-contacts"),
                rx.heading("Recent invoices", size="4"),
                data_table(["Number", "Issued", "Due", "Amount", "Status"], VendorCardState.invoices,
                           ["number", "issue_date", "due_date", "amount", "status"], "card-invoices"),
                rx.heading("Payouts", size="4"),
                data_table(["Pay date", "Amount", "Rail", "Status"], VendorCardState.payouts,
                           ["pay_date", "amount", "rail", "status"], "card-payouts"),
                rx.heading("History", size="4"),
                data_table(["When", "Who", "Action", "Changes"], VendorCardState.history,
                           ["at", "who", "action", "changes"], "card-history"),
                spacing="3", width="100%",
            ),
        ),
    )


def _matrix_cell(row: rx.Var, role: rx.Var, index: rx.Var) -> rx.Component:
    return rx.table.cell(
        rx.checkbox(
            checked=row[index + 2] == "yes",
            disabled=~SettingsState.can_manage_roles,
            on_change=lambda _checked: SettingsState.toggle_grant(role, row[0]),
        )
    )


def _brand_input(label: str, name: str) -> rx.Component:
    return rx.hstack(rx.text(label, size="2", width="150px"),
                     rx.input(value=BrandingState.fields[name], width="360px", data_testid=f"brand-{name}",
                              on_change=lambda value: BrandingState.set_field(name, value)), align="center")


def _trigger_select(label: str, invoice_type: str) -> rx.Component:
    return rx.hstack(
        rx.text(label, size="2", width="150px"),
        rx.select.root(rx.select.trigger(), rx.select.content(
            *[rx.select.item(text, value=value) for value, text in TRIGGER_OPTIONS]),
            value=BrandingState.triggers[invoice_type],
            on_change=lambda value: BrandingState.set_trigger(invoice_type, value)),
        align="center")


def _branding() -> rx.Component:
    s = BrandingState
    return rx.vstack(
        rx.heading("Invoice branding and distribution", size="4"),
        _brand_input("Company name", "company_name"),
        rx.hstack(rx.text("Address", size="2", width="150px"),
                  rx.text_area(value=s.fields["address"], width="360px",
                               on_change=lambda value: s.set_field("address", value)), align="start"),
        _brand_input("Contact e-mail", "contact_email"),
        _brand_input("Colour (#RRGGBB)", "colour"),
        rx.hstack(rx.text("Terms and conditions", size="2", width="150px"),
                  rx.text_area(value=s.fields["terms"], width="360px",
                               on_change=lambda value: s.set_field("terms", value)), align="start"),
        rx.hstack(rx.text("Logo (PNG or JPEG)", size="2", width="150px"),
                  rx.upload(rx.text(rx.cond(s.has_logo, "Replace the logo", "Drop a logo here"), size="2"),
                            id="brand-logo", max_files=1, border="1px dashed var(--gray-8)", padding="0.6em"),
                  rx.foreach(rx.selected_files("brand-logo"), lambda name: rx.text(name, size="1")),
                  align="center"),
        _trigger_select("Self-billing sent when", "self_billing"),
        _trigger_select("Customer invoices sent when", "customer"),
        rx.button("Save branding", on_click=s.save(rx.upload_files(upload_id="brand-logo")),
                  disabled=~SettingsState.can_manage_roles, data_testid="save-branding"),
        rx.cond(s.branding_message != "", rx.text(s.branding_message, size="2", data_testid="branding-message")),
        spacing="2",
    )


def _organization_select(value: rx.Var, on_change) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.select.root(rx.select.trigger(placeholder="Organization"), rx.select.content(
        rx.foreach(SettingsState.organization_options, lambda o: rx.select.item(o[1], value=o[0]))),
        value=value, on_change=on_change, size="1")


def _invite_form() -> rx.Component:
    s = SettingsState
    return rx.hstack(
        rx.input(placeholder="E-mail", value=s.invite_form["email"], width="220px", data_testid="invite-email",
                 on_change=lambda value: s.set_invite_field("email", value)),
        rx.input(placeholder="Full name", value=s.invite_form["name"], width="180px", data_testid="invite-name",
                 on_change=lambda value: s.set_invite_field("name", value)),
        rx.select(ROLE_OPTIONS, value=s.invite_form["role"], on_change=lambda value: s.set_invite_field("role", value),
                  data_testid="invite-role"),
        _organization_select(s.invite_form["organization"], lambda value: s.set_invite_field("organization", value)),
        rx.button("Invite", on_click=s.invite, data_testid="invite-send"),
        align="center", wrap="wrap")


def _user_row(u: rx.Var) -> rx.Component:
    s = SettingsState
    return rx.table.row(
        rx.table.cell(u["email"]), rx.table.cell(u["name"]),
        rx.table.cell(rx.cond(s.can_manage_users,
                              rx.select(ROLE_OPTIONS, value=u["role"], size="1",
                                        on_change=lambda value: s.set_role(u["id"], value)),
                              rx.text(u["roles"]))),
        rx.table.cell(rx.cond(s.can_manage_users, _organization_select(
            u["organization_id"], lambda value: s.set_user_organization(u["id"], value)), rx.text(u["organization"]))),
        rx.table.cell(u["active"], data_testid="user-status"), rx.table.cell(u["last_login"]),
        rx.table.cell(rx.cond(s.can_manage_users, rx.hstack(
            rx.button(rx.cond(u["active"] == "Active", "Deactivate", "Activate"), size="1", variant="soft",
                      on_click=s.toggle_active(u["id"]), data_testid="user-toggle-active"),
            rx.button("Reset password", size="1", variant="soft", on_click=s.reset_password(u["id"]),
                      data_testid="user-reset"),
            spacing="1"))),
        data_testid="user-row")


def _users() -> rx.Component:
    s = SettingsState
    return rx.vstack(
        rx.cond(s.can_manage_users, _invite_form()),
        rx.cond(s.user_message != "", rx.callout(rx.text(s.user_message, size="2", data_testid="user-message",
                                                         word_break="break-all"), icon="info")),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "E-mail", "Name", "Role", "Organization", "Status", "Last sign-in", "")])),
            rx.table.body(rx.foreach(s.users, _user_row)),
            size="1", variant="surface", data_testid="users-table"),
        spacing="2", width="100%")


def settings_page() -> rx.Component:
    return page_frame(
        "Settings",
        rx.vstack(
            rx.cond(SettingsState.message != "", rx.callout(SettingsState.message, color_scheme="red")),
            rx.heading("Users", size="4"),
            _users(),
            _branding(),
            approval_controls(),
            rx.heading("Mail servers and connectors", size="4"),
            rx.text("Saved here, a server replaces its VRM_SMTP_*, VRM_IMAP_* or VRM_BOUNCE_IMAP_* environment; "
                    "connectors are set on Intake.", size="2", color_scheme="gray"),
            rx.cond(SettingsState.can_manage_roles, mail_servers()),
            rx.button("Test connections", variant="soft", on_click=SettingsState.test_connections,
                      disabled=~SettingsState.can_manage_roles, data_testid="test-connections"),
            rx.cond(SettingsState.connection_rows.length() > 0,
                    data_table(["Connection", "Where", "Result", "Answer"], SettingsState.connection_rows,
                               ["name", "target", "result", "message"], "connection-checks")),
            rx.heading("Roles and permissions", size="4"),
            rx.table.root(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell("Action"),
                    rx.table.column_header_cell("What it allows"),
                    rx.foreach(SettingsState.role_columns, lambda r: rx.table.column_header_cell(r)),
                )),
                rx.table.body(rx.foreach(SettingsState.matrix, lambda row: rx.table.row(
                    rx.table.cell(row[0]),
                    rx.table.cell(row[1]),
                    rx.foreach(SettingsState.role_columns, lambda role, i: _matrix_cell(row, role, i)),
                ))),
                size="1", variant="surface", data_testid="permission-matrix",
            ),
            spacing="3", width="100%",
        ),
    )


def _sent_document(d: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(d["number"], href="/api/v1/distribution/invoices/" + d["invoice_id"] + "/pdf",
                              is_external=True, data_testid="portal-open-invoice")),
        *[rx.table.cell(d[k]) for k in ("type", "amount", "status", "sent", "viewed")],
        rx.table.cell(rx.cond(d["disputed"] == "yes", rx.badge("Reported"),
                              rx.cond(d["type"] == "Invoice",
                                      rx.button("Report a problem", size="1", variant="soft",
                                                on_click=PortalState.open_dispute(d["invoice_id"], d["number"]),
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
    base = "/api/v1/portal/invoices/" + i["id"]
    return rx.table.row(
        *[rx.table.cell(i[k]) for k in ("number", "your_number", "issue_date", "due_date", "amount")],
        rx.table.cell(rx.badge(i["status"])),
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


def portal_page() -> rx.Component:
    return page_frame(
        "My Portal",
        rx.cond(
            PortalState.error != "",
            rx.callout(PortalState.error, color_scheme="red"),
            rx.vstack(
                rx.heading(PortalState.vendor["name"], size="5", data_testid="portal-vendor"),
                rx.cond(PortalState.onboarding, rx.callout(
                    rx.hstack(rx.text("Your profile is not approved yet: complete it and submit it for review. "
                                      "You can send invoices once it is approved.", size="2"),
                              rx.link("Open My Profile", href="/profile", data_testid="portal-open-profile")),
                    color_scheme="amber", icon="list-todo", data_testid="portal-onboarding")),
                _facts(PortalState.vendor, [("Vendor ID", "vendor_code"), ("E-mail", "email"),
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
                        rx.table.cell(p["reference"]), rx.table.cell(p["paid_at"]), rx.table.cell(p["amount"]),
                        rx.table.cell(p["invoices"]),
                        rx.table.cell(rx.link("PDF", href="/api/v1/payouts/transactions/" + p["id"] + "/remittance",
                                              is_external=True))))),
                    size="1", variant="surface", data_testid="portal-payments"),
                rx.heading("Show your payouts on your own site", size="4"),
                rx.hstack(rx.button("Make an embed code", variant="soft", on_click=PortalState.make_widget,
                                    data_testid="portal-widget"),
                          rx.text("A frame with your balance and payout status, valid 30 days.", size="2"),
                          align="center"),
                rx.cond(PortalState.widget_iframe != "",
                        rx.code_block(PortalState.widget_iframe, language="markup", wrap_long_lines=True,
                                      data_testid="portal-widget-code")),
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
