"""Vendor Management: the list with totals and upcoming payouts, and the add/edit form."""
from typing import Any

import reflex as rx

from vrm_dashboard.domain.vendor_rules import (
    ACTIVITY_LABELS,
    PAYMENT_METHOD_LABELS,
    PAYMENT_SOURCES,
)
from vrm_dashboard.ui.components.form_field import form_field
from vrm_dashboard.ui.components.list_controls import pager
from vrm_dashboard.ui.components.shell import data_table, page_frame
from vrm_dashboard.ui.components.sortable_header import sort_label
from vrm_dashboard.ui.pages.vendor_review import invite_dialog, onboarding_queue
from vrm_dashboard.ui.states.vendor_review import OnboardingQueueState
from vrm_dashboard.ui.states.vendors import VendorsState

_COLUMNS = [
    ("Name", "name"), ("Vendor ID", "vendor_code"), ("Payment method", "payment_method"),
    ("Payment source", "payment_source"), ("Activity status", "activity_status"),
    ("Country", "country"),
]


def _filter(name: str, placeholder: str, options: list[tuple[str, str]]) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(placeholder=placeholder, data_testid=f"filter-{name}"),
        rx.select.content(
            rx.select.item("All", value="all"),
            *[rx.select.item(label, value=value) for value, label in options],
        ),
        on_change=lambda value: VendorsState.set_filter(name, value),
    )


def _toolbar() -> rx.Component:
    return rx.hstack(
        rx.input(
            placeholder="Search name or vendor ID",
            value=VendorsState.search,
            on_change=VendorsState.set_search.debounce(300),
            width="280px",
            data_testid="vendor-search",
        ),
        _filter("activity_status", "Activity status", [(k.value, v) for k, v in ACTIVITY_LABELS.items()]),
        _filter("payment_method", "Payment method", [(k.value, v) for k, v in PAYMENT_METHOD_LABELS.items()]),
        _filter("payment_source", "Payment source", [(s, s) for s in PAYMENT_SOURCES]),
        rx.spacer(),
        rx.cond(OnboardingQueueState.can_invite, invite_dialog()),
        rx.cond(
            VendorsState.can_create,
            rx.button("Add vendor", on_click=VendorsState.open_new, data_testid="add-vendor"),
        ),
        width="100%",
        wrap="wrap",
    )


def _sortable_header(label: str, key: str) -> rx.Component:
    return rx.table.column_header_cell(sort_label(VendorsState, label, key))


def _vendor_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(row.name, href="/vendor?id=" + row.id)),
        rx.table.cell(row.vendor_code),
        rx.table.cell(row.payment_method),
        rx.table.cell(row.payment_source),
        rx.table.cell(rx.badge(row.activity_status)),
        rx.table.cell(row.country),
        rx.table.cell(
            rx.cond(
                VendorsState.can_edit,
                rx.hstack(
                    rx.button("Edit", size="1", variant="soft", on_click=VendorsState.open_edit(row.id)),
                    rx.button("Deactivate", size="1", variant="soft", color_scheme="red",
                              on_click=VendorsState.ask_deactivate(row.id, row.name),
                              data_testid="deactivate-vendor"),
                ),
            )
        ),
        data_testid="vendor-row",
    )


def _vendor_table() -> rx.Component:
    return rx.vstack(
        rx.table.root(
            rx.table.header(
                rx.table.row(*[_sortable_header(label, key) for label, key in _COLUMNS],
                             rx.table.column_header_cell("")),
            ),
            rx.table.body(rx.foreach(VendorsState.rows, _vendor_row)),
            size="1",
            variant="surface",
            width="100%",
            data_testid="vendor-table",
        ),
        pager(VendorsState, VendorsState.total_rows, " vendors", testid="vendor-count"),
        width="100%",
    )


def _field(label: str, name: str, **props: Any) -> rx.Component:
    return form_field(label, VendorsState.form[name], lambda value: VendorsState.set_field(name, value),
                      VendorsState.form_errors, name, testid=f"field-{name}", error_testid=f"error-{name}",
                      name=name, **props)


def _choice(label: str, name: str, options: list[tuple[str, str]]) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.select.root(
            rx.select.trigger(width="100%", data_testid=f"field-{name}"),
            rx.select.content(*[rx.select.item(text, value=value) for value, text in options]),
            value=VendorsState.form[name],
            on_change=lambda value: VendorsState.set_field(name, value),
        ),
        rx.cond(
            VendorsState.form_errors.contains(name),
            rx.text(VendorsState.form_errors[name], color_scheme="red", size="1"),
        ),
        spacing="1",
        width="100%",
    )


def _vendor_form() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(VendorsState.editing_id == 0, "Add vendor", "Edit vendor")),
            rx.vstack(
                rx.grid(
                    _field("Vendor ID", "vendor_code"),
                    _field("Name", "name"),
                    _field("Legal name", "legal_name"),
                    _field("E-mail", "email"),
                    _field("Country (ISO code)", "country"),
                    _field("Currency (ISO 4217)", "currency"),
                    _choice("Payment method", "payment_method",
                            [(k.value, v) for k, v in PAYMENT_METHOD_LABELS.items()]),
                    _choice("Payment source", "payment_source", [(s, s) for s in PAYMENT_SOURCES]),
                    _field("IBAN", "iban"),
                    _field("BIC", "bic"),
                    _field("Account number", "account_number"),
                    _field("Routing number (US)", "routing_number"),
                    _field("PayPal e-mail", "paypal_email"),
                    _field("Tax ID", "tax_id"),
                    _field("VAT ID", "vat_id"),
                    _choice("Activity status", "activity_status",
                            [(k.value, v) for k, v in ACTIVITY_LABELS.items()]),
                    columns="2",
                    spacing="3",
                    width="100%",
                ),
                rx.cond(
                    VendorsState.form_errors.contains("form"),
                    rx.callout(VendorsState.form_errors["form"], color_scheme="red", icon="shield-alert"),
                ),
                rx.hstack(
                    rx.button("Cancel", variant="soft", color_scheme="gray", on_click=VendorsState.close_form,
                              data_testid="cancel-vendor"),
                    rx.button("Save vendor", on_click=VendorsState.save_vendor(None),
                              data_testid="save-vendor"),
                    justify="end",
                    width="100%",
                ),
                spacing="4",
            ),
            max_width="760px",
        ),
        open=VendorsState.form_open,
        on_open_change=lambda _open: VendorsState.close_form(),
    )


def _confirm_deactivate() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Deactivate ", VendorsState.confirm_name, "?"),
            rx.alert_dialog.description(
                "The vendor stays on record with its invoices, payouts and history, and can be "
                "reactivated by editing its activity status."
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep active", variant="soft", color_scheme="gray",
                                                 on_click=VendorsState.cancel_deactivate)),
                rx.alert_dialog.action(rx.button("Deactivate", color_scheme="red",
                                                 on_click=VendorsState.deactivate(VendorsState.confirm_id),
                                                 data_testid="confirm-deactivate")),
                justify="end", spacing="3", margin_top="1em",
            ),
        ),
        open=VendorsState.confirm_id != "",
    )


def vendors_page() -> rx.Component:
    return page_frame(
        "Vendor Management",
        rx.vstack(
            rx.cond(VendorsState.message != "",
                    rx.callout(VendorsState.message, icon="info", data_testid="vendor-message")),
            onboarding_queue(),
            rx.heading("Totals by payment method", size="4"),
            data_table(
                ["Payment method", "Currency", "Vendors", "Invoices", "Invoiced", "Paid", "Open"],
                VendorsState.totals,
                ["payment_method", "currency", "vendors", "invoices", "invoiced", "paid", "open"],
                "vendor-totals",
            ),
            rx.heading("Upcoming payouts (next 14 days)", size="4"),
            data_table(["Vendor", "Pay date", "Amount", "Status"], VendorsState.upcoming,
                       ["vendor", "pay_date", "amount", "status"], "upcoming-payouts"),
            rx.heading("Vendors", size="4"),
            _toolbar(),
            _vendor_table(),
            _vendor_form(),
            _confirm_deactivate(),
            spacing="4",
            width="100%",
        ),
    )
