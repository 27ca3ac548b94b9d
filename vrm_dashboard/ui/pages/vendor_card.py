"""`/vendor`: a vendor's card: details, payment, self-billing rates, balances, contacts, invoices,
payouts, history and, for reviewers, its onboarding."""
import reflex as rx

from vrm_dashboard.ui.components.facts import fact_list
from vrm_dashboard.ui.components.shell import data_table, page_frame
from vrm_dashboard.ui.pages.vendor_review import review_panel
from vrm_dashboard.ui.states.vendor_card import VendorCardState


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
                rx.heading(v.name, size="6", data_testid="card-name"),
                review_panel(),
                rx.grid(
                    rx.card(rx.heading("Details", size="3"), fact_list(v, [
                        ("Vendor ID", "vendor_code"), ("Legal name", "legal_name"), ("E-mail", "email"),
                        ("Country", "country"), ("Currency", "currency"), ("Status", "activity_status"),
                        ("Tax ID", "tax_id"), ("VAT ID", "vat_id")])),
                    rx.card(
                        rx.heading("Payment", size="3"),
                        fact_list(v, [("Method", "payment_method"), ("Source", "payment_source")]),
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
