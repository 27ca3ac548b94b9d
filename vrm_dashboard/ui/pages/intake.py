"""The Intake screen."""
import reflex as rx

from vrm_dashboard.ui.components.shell import data_table, page_frame
from vrm_dashboard.ui.states.intake import MAPPED_FIELDS, IntakeState

ACTIVITY_TYPES = {"text/csv": [".csv"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": [".xlsx"]}
INVOICE_TYPES = {"application/pdf": [".pdf"], "application/xml": [".xml"], "text/xml": [".xml"]}


def _dropzone(upload_id: str, title: str, hint: str, accept: dict, handler) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.card(
        rx.vstack(
            rx.heading(title, size="3"),
            rx.upload(
                rx.vstack(rx.icon("upload"), rx.text(hint, size="2"), align="center"),
                id=upload_id, multiple=True, accept=accept, max_files=50,
                border="1px dashed var(--gray-8)", padding="1.5em", width="100%", data_testid=f"drop-{upload_id}",
            ),
            rx.foreach(rx.selected_files(upload_id), lambda name: rx.text(name, size="1", color_scheme="gray")),
            rx.button(
                "Upload", data_testid=f"upload-{upload_id}", loading=IntakeState.busy,
                on_click=handler(rx.upload_files(upload_id=upload_id, on_upload_progress=IntakeState.on_progress)),
            ),
            spacing="2", width="100%",
        ),
        width="100%",
    )


def _mapping() -> rx.Component:
    """Which column of this source's files holds each field: chosen once, then kept."""
    return rx.card(
        rx.vstack(
            rx.text("Columns of this source's files (empty: recognised by the usual names)", size="2", weight="medium"),
            rx.grid(*[
                rx.vstack(rx.text(name.replace("_", " "), size="1"),
                          rx.input(value=IntakeState.mapping[name], size="1",
                                   on_change=lambda value, n=name: IntakeState.set_mapping(n, value),
                                   data_testid=f"mapping-{name}"), spacing="1")
                for name in MAPPED_FIELDS
            ], columns="4", spacing="2", width="100%"),
            rx.hstack(rx.button("Save mapping", size="1", variant="soft", on_click=IntakeState.save_mapping,
                                data_testid="save-mapping"),
                      rx.text(IntakeState.mapping_message, size="1"), align="center"),
            spacing="2", width="100%",
        ),
        width="100%",
    )


def _results() -> rx.Component:
    return rx.cond(
        IntakeState.results.length() > 0,
        rx.vstack(
            rx.heading("This upload", size="4"),
            rx.foreach(IntakeState.results, lambda r: rx.callout(
                rx.hstack(
                    rx.text(r.file + ": " + r.status + ". " + r.message, data_testid="upload-result"),
                    rx.cond(r.invoice_id != "", rx.link("Open invoice", href="/invoice?id=" + r.invoice_id)),
                ),
                color_scheme=rx.cond((r.status == "Refused") | (r.status == "Failed"), "red", "blue"),
                width="100%",
            )),
            width="100%",
        ),
    )


def intake_page() -> rx.Component:
    return page_frame(
        "Intake",
        rx.vstack(
            rx.grid(
                rx.vstack(
                    _dropzone("activity", "Activity data", "CSV or XLSX files: one row per activity",
                              ACTIVITY_TYPES, IntakeState.upload_activity),
                    rx.hstack(rx.text("Source", size="2"),
                              rx.input(value=IntakeState.source_name, on_change=IntakeState.set_source_name,
                                       width="200px", data_testid="activity-source"), align="center"),
                    _mapping(),
                    width="100%",
                ),
                rx.vstack(
                    _dropzone("invoices", "Vendor invoices", "PDF invoices, Factur-X/ZUGFeRD, or UBL/CII XML",
                              INVOICE_TYPES, IntakeState.upload_invoices),
                    _dropzone("vendors", "Vendor data migration",
                              "CSV or XLSX with vendor_code, name, email, country, currency, payment_method, iban...",
                              ACTIVITY_TYPES, IntakeState.upload_vendors),
                    width="100%",
                ),
                columns="2", spacing="4", width="100%",
            ),
            rx.cond(IntakeState.busy, rx.progress(value=IntakeState.progress, width="100%", data_testid="upload-progress")),
            _results(),
            rx.heading("Intake log", size="4"),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "When", "Channel", "Kind", "File", "Status", "New rows", "Invoice", "Reason")])),
                rx.table.body(rx.foreach(IntakeState.intakes, lambda r: rx.table.row(
                    rx.table.cell(r.at), rx.table.cell(r.channel), rx.table.cell(r.kind),
                    rx.table.cell(r.file), rx.table.cell(rx.badge(r.status)), rx.table.cell(r.rows),
                    rx.table.cell(rx.cond(r.invoice_id != "",
                                          rx.link(r.invoice, href="/invoice?id=" + r.invoice_id), "")),
                    rx.table.cell(r.reason), data_testid="intake-row",
                ))),
                size="1", variant="surface", width="100%",
            ),
            rx.heading("Connector and mailbox runs", size="4"),
            data_table(["Job", "Started", "Status", "New rows", "Errors", "Duration", "Problems"], IntakeState.runs,
                       ["job", "at", "status", "rows", "errors", "seconds", "problems"], "sync-runs"),
            spacing="4", width="100%",
        ),
    )
