"""`/settings`: users, branding, approval controls, mail servers and the permission matrix."""
import reflex as rx

from vrm_dashboard.ui.components.shell import data_table, page_frame
from vrm_dashboard.ui.pages.settings_sections import approval_controls, mail_servers
from vrm_dashboard.ui.states.branding import TRIGGER_OPTIONS, BrandingState
from vrm_dashboard.ui.states.settings import SettingsState


def _matrix_cell(row: rx.Var, role: rx.Var, index: rx.Var) -> rx.Component:
    return rx.table.cell(
        rx.checkbox(
            checked=row[index + 2] == "yes",
            disabled=~SettingsState.can_manage_grants,
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
        rx.select(s.role_options, value=s.invite_form["role"],
                  on_change=lambda value: s.set_invite_field("role", value), data_testid="invite-role"),
        # An organization admin invites into its own organization only: nothing to choose.
        rx.cond(s.can_manage_platform, _organization_select(
            s.invite_form["organization"], lambda value: s.set_invite_field("organization", value))),
        rx.button("Invite", on_click=s.invite, data_testid="invite-send"),
        align="center", wrap="wrap")


def _user_row(u: rx.Var) -> rx.Component:
    s = SettingsState
    return rx.table.row(
        rx.table.cell(u.email), rx.table.cell(u.name),
        rx.table.cell(rx.cond(s.can_manage_users & u.manageable,
                              rx.select(s.role_options, value=u.role, size="1",
                                        on_change=lambda value: s.set_role(u.id, value)),
                              rx.text(u.roles))),
        # Moving a user between organizations is the platform's.
        rx.table.cell(rx.cond(s.can_manage_users & s.can_manage_platform, _organization_select(
            u.organization_id, lambda value: s.set_user_organization(u.id, value)), rx.text(u.organization))),
        rx.table.cell(u.active, data_testid="user-status"), rx.table.cell(u.last_login),
        rx.table.cell(rx.cond(s.can_manage_users & u.manageable, rx.hstack(
            rx.button(rx.cond(u.active == "Active", "Deactivate", "Activate"), size="1", variant="soft",
                      on_click=s.toggle_active(u.id), data_testid="user-toggle-active"),
            rx.button("Reset password", size="1", variant="soft", on_click=s.reset_password(u.id),
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
            # The mail servers serve the whole installation: its platform admins set them.
            rx.cond(SettingsState.can_manage_platform, rx.fragment(
                rx.text("Saved here, a server replaces its VRM_SMTP_*, VRM_IMAP_* or VRM_BOUNCE_IMAP_* environment; "
                        "connectors are set on Intake.", size="2", color_scheme="gray"),
                mail_servers())),
            rx.button("Test connections", variant="soft", on_click=SettingsState.test_connections,
                      disabled=~SettingsState.can_manage_platform, data_testid="test-connections"),
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
