"""Settings sections: approval controls and mail servers."""
import reflex as rx

from vrm_dashboard.services.mail import settings as mail_settings
from vrm_dashboard.ui.states.controls import ControlsState as C
from vrm_dashboard.ui.states.mail_servers import LABELS, MailServersState as M


def _switch(name: str, label: str) -> rx.Component:
    return rx.hstack(rx.switch(checked=C.switches[name], disabled=~C.can_edit, data_testid=f"control-{name}",
                               on_change=lambda value: C.set_switch(name, value)),
                     rx.text(label, size="2"), align="center")


def _thresholds(name: str, label: str) -> rx.Component:
    return rx.vstack(rx.text(label, size="2", weight="medium"),
                     rx.text_area(value=C.texts[name], rows="4", width="260px", disabled=~C.can_edit,
                                  on_change=lambda value: C.set_text(name, value), data_testid=f"control-{name}"),
                     spacing="1")


def approval_controls() -> rx.Component:
    return rx.vstack(
        rx.heading("Approval controls", size="4"),
        _switch("sod_invoice", "Segregation of duties: whoever submitted or last edited an invoice may not approve it"),
        _switch("sod_payout", "Segregation of duties: whoever approved, submitted or edited an invoice may not "
                              "approve its payout"),
        _switch("payout_approval", "Payouts above their currency's threshold wait in Payout Approval"),
        _switch("pay_immediately", "Pay approved invoices at once instead of on their due date"),
        rx.hstack(
            _thresholds("two_approver", "Two approvers above (one line per currency, * for the rest)"),
            _thresholds("payout_thresholds", "Payout approval above (0: every payout)"),
            rx.vstack(rx.text("Hold payouts after a bank change (hours)", size="2", weight="medium"),
                      rx.input(value=C.texts["cooling_off_hours"], width="100px", disabled=~C.can_edit,
                               on_change=lambda value: C.set_text("cooling_off_hours", value),
                               data_testid="control-cooling_off_hours"), spacing="1"),
            spacing="5", wrap="wrap", align="start"),
        rx.button("Save controls", on_click=C.save, disabled=~C.can_edit, data_testid="save-controls"),
        rx.cond(C.controls_message != "", rx.text(C.controls_message, size="2", data_testid="controls-message")),
        spacing="3", width="100%")


def _mail_input(key: str, name: str, placeholder: str, width: str = "200px", **props) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.input(value=M.forms[key][name], placeholder=placeholder, width=width, size="1",
                    on_change=lambda value: M.set_mail_field(key, name, value), data_testid=f"mail-{key}-{name}",
                    **props)


def _server(key: str) -> rx.Component:
    smtp = key == mail_settings.SMTP
    return rx.card(rx.vstack(
        rx.hstack(rx.text(LABELS[key], weight="bold", size="2"), rx.badge(M.sources[key]), align="center"),
        rx.hstack(
            _mail_input(key, "host", "Host"), _mail_input(key, "port", "Port", "80px"),
            _mail_input(key, "username", "User name"),
            _mail_input(key, "password", rx.cond(M.password_set[key], "Password (unchanged)", "Password"),
                        type="password"),
            *([_mail_input(key, "sender", "Sender address"), _mail_input(key, "rate_per_second", "Per second", "90px")]
              if smtp else [_mail_input(key, "folder", "Folder", "120px")]),
            rx.hstack(rx.switch(checked=M.secure[key], on_change=lambda value: M.set_secure(key, value)),
                      rx.text("STARTTLS" if smtp else "SSL", size="2"), align="center"),
            wrap="wrap", align="center"),
        rx.hstack(rx.button("Save", size="1", on_click=M.save_server(key), data_testid=f"mail-{key}-save"),
                  rx.button("Use the environment", size="1", variant="soft", on_click=M.use_environment(key)),
                  spacing="2"),
        spacing="2"), width="100%")


def mail_servers() -> rx.Component:
    return rx.vstack(
        *[_server(key) for key in LABELS],
        rx.cond(M.mail_message != "", rx.text(M.mail_message, size="2", data_testid="mail-message")),
        spacing="2", width="100%")
