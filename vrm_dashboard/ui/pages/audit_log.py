"""The audit log: who did what, when, with what before and after."""
import reflex as rx

from vrm_dashboard.ui.components.list_controls import pager
from vrm_dashboard.ui.components.shell import data_table, page_frame
from vrm_dashboard.ui.states.audit_log import AuditLogState as S


def _filter(name: str, placeholder: str, width: str = "160px", kind: str = "text") -> rx.Component:
    return rx.input(placeholder=placeholder, type=kind, width=width, value=S.filters[name],
                    on_change=lambda value: S.set_filter(name, value).debounce(400), data_testid=f"audit-{name}")


def audit_log_page() -> rx.Component:
    return page_frame(
        "Audit Log",
        rx.vstack(
            rx.hstack(
                _filter("user", "User e-mail"), _filter("action", "Action, e.g. invoice."),
                _filter("object_type", "Object, e.g. invoice", "150px"), _filter("object_id", "Object ID", "110px"),
                rx.text("From", size="2"), _filter("since", "", "150px", "date"),
                rx.text("to", size="2"), _filter("until", "", "150px", "date"),
                rx.button("Export to Excel", variant="soft", on_click=S.export, data_testid="audit-export"),
                align="center", wrap="wrap"),
            rx.cond(S.error != "", rx.callout(S.error, color_scheme="red", data_testid="audit-error")),
            rx.cond(S.message != "", rx.text(S.message, size="2", data_testid="audit-message")),
            data_table(["When", "Who", "Action", "Object", "ID", "Changes"], S.rows,
                       ["at", "who", "action", "object", "object_id", "changes"], "audit-table"),
            pager(S, S.total_rows, " entries", testid="audit-count"),
            spacing="3", width="100%"),
    )
