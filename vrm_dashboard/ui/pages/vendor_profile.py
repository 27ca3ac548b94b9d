"""My Profile: the vendor's onboarding steps, what is missing, and the review."""
from collections.abc import Callable
from typing import Any

import reflex as rx

from vrm_dashboard.domain.tax_forms import CHAPTER3_STATUSES, CHAPTER4_STATUSES, W9_CLASSIFICATIONS
from vrm_dashboard.ui.components.form_field import form_field
from vrm_dashboard.ui.components.shell import data_table, page_frame
from vrm_dashboard.ui.states.vendor_profile import (
    DOCUMENT_OPTIONS,
    PAYOUT_OPTIONS,
    TAX_FORM_OPTIONS,
    VendorProfileState as S,
)


def _field(label: str, source: rx.Var, setter: Callable[[str, str], Any], name: str,
           placeholder: str | rx.Var = "", area: bool = False) -> rx.Component:
    return form_field(label, source[name], lambda value: setter(name, value), S.errors, name,
                      testid=label.lower().replace(" ", "-"), area=area, placeholder=placeholder)


def _choice(label: str, source: rx.Var, setter, name: str, options: list[list[str]] | list[str]) -> rx.Component:  # type: ignore[no-untyped-def]
    pairs = [o if isinstance(o, list) else [o, o] for o in options]
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.select.root(rx.select.trigger(placeholder="Choose", data_testid=f"{label.lower().replace(' ', '-')}"),
                       rx.select.content(*[rx.select.item(text, value=value) for value, text in pairs]),
                       value=source[name], on_change=lambda value: setter(name, value)),
        rx.cond(S.errors.contains(name), rx.text(S.errors[name], size="1", color_scheme="red")),
        spacing="1", width="100%")


def _save_button(label: str, handler, testid: str) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.button(label, on_click=handler, data_testid=testid)


def _profile_step() -> rx.Component:
    p, f = S.profile, S.set_profile_field
    return rx.vstack(
        rx.grid(_field("Trading name", p, f, "name"), _field("Legal name", p, f, "legal_name"),
                _field("Billing e-mail", p, f, "email"), _field("Phone", p, f, "phone", "+49 30 1234567"),
                _field("Country", p, f, "country", "DE"), _field("Currency", p, f, "currency", "EUR"),
                _field("Website", p, f, "website", "https://"), columns="2", spacing="3", width="100%"),
        _field("Registered address", p, f, "address", "Street, postcode, city", area=True),
        _save_button("Save profile", S.save_profile, "save-profile"),
        spacing="3", width="100%")


def _contacts_step() -> rx.Component:
    c, f = S.new_contact, S.set_contact_field
    return rx.vstack(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in ("Name", "E-mail", "Role", "Phone", "")])),
            rx.table.body(rx.foreach(S.contacts, lambda row: rx.table.row(
                rx.table.cell(row.name), rx.table.cell(row.email), rx.table.cell(row.role),
                rx.table.cell(row.phone),
                rx.table.cell(rx.button("Remove", size="1", variant="soft", color_scheme="red",
                                        on_click=S.remove_contact(row.id))),
                data_testid="contact-row"))),
            size="1", variant="surface", width="100%"),
        rx.grid(_field("Contact name", c, f, "name"), _field("Contact e-mail", c, f, "email"),
                _field("Contact role", c, f, "role", "Accounts payable"), _field("Contact phone", c, f, "phone"),
                columns="4", spacing="3", width="100%"),
        _save_button("Add contact", S.add_contact, "add-contact"),
        spacing="3", width="100%")


def _payout_step() -> rx.Component:
    p, f = S.payout, S.set_payout_field
    method = p["payment_method"]
    return rx.vstack(
        _choice("Payout method", p, f, "payment_method", PAYOUT_OPTIONS),
        rx.match(
            method,
            ("sepa", rx.grid(_field("IBAN", p, f, "iban", "DE89 3704 0044 0532 0130 00"),
                             _field("BIC", p, f, "bic", "COBADEFFXXX"), columns="2", spacing="3", width="100%")),
            ("ach", rx.grid(_field("Routing number", p, f, "routing_number", "9 digits (ABA)"),
                            _field("Account number", p, f, "account_number"), columns="2", spacing="3", width="100%")),
            ("paypal", _field("PayPal e-mail", p, f, "paypal_email")),
            ("wire", rx.grid(_field("IBAN", p, f, "iban", "where the country has IBANs"),
                             _field("BIC", p, f, "bic"), _field("Account number", p, f, "account_number",
                                                                 "when there is no IBAN"),
                             columns="3", spacing="3", width="100%")),
            rx.text("Choose how you want to be paid.", size="2", color_scheme="gray"),
        ),
        rx.text("A change of bank account after approval holds payouts for a few days while we confirm it.",
                size="1", color_scheme="gray"),
        _save_button("Save payout method", S.save_payout, "save-payout"),
        spacing="3", width="100%")


def _tax_step() -> rx.Component:
    t, f = S.tax, S.set_tax_field
    form = t["form"]
    return rx.vstack(
        rx.cond(S.tax_signed != "", rx.callout(S.tax_signed, icon="file-check", data_testid="tax-signed")),
        _choice("Tax form", t, f, "form", TAX_FORM_OPTIONS),
        rx.text("US persons and companies give the W-9; others the W-8BEN (individuals) or W-8BEN-E (entities).",
                size="1", color_scheme="gray"),
        rx.cond(form != "", rx.vstack(
            rx.grid(
                _field("Name on the form", t, f, "name", rx.cond(form == "w8bene", "Organization", "Your name")),
                rx.cond(form == "w9", _field("Business name", t, f, "business_name", "if different")),
                rx.match(form,
                         ("w9", _choice("Federal tax classification", t, f, "classification", list(W9_CLASSIFICATIONS))),
                         ("w8bene", _choice("Entity type", t, f, "classification", list(CHAPTER3_STATUSES))),
                         rx.fragment()),
                rx.cond(form != "w9", _field("Country of residence", t, f, "country", "DE")),
                rx.cond(form == "w8ben", _field("Date of birth", t, f, "date_of_birth", "YYYY-MM-DD")),
                rx.cond(form == "w8bene", _choice("FATCA status", t, f, "chapter4_status", list(CHAPTER4_STATUSES))),
                rx.cond(form == "w8bene", _field("GIIN", t, f, "giin", "if you have one")),
                _field("US taxpayer number", t, f, "tin", rx.cond(form == "w9", "SSN 123-45-6789 or EIN 12-3456789",
                                                                  "optional")),
                rx.cond(form != "w9", _field("Foreign tax number", t, f, "foreign_tin")),
                rx.cond(form != "w9", _field("Treaty country", t, f, "treaty_country", "optional")),
                _field("VAT ID", t, f, "vat_id", "e.g. DE136695976"),
                columns="2", spacing="3", width="100%"),
            _field("Permanent address", t, f, "address", area=True),
            _field("Signed by", t, f, "signer_name", "Full name of the person signing"),
            rx.checkbox("Under penalties of perjury, I declare that I have examined the information on this form "
                        "and to the best of my knowledge and belief it is true, correct, and complete.",
                        checked=S.certified, on_change=S.set_certified, data_testid="tax-certify"),
            rx.cond(S.errors.contains("certified"), rx.text(S.errors["certified"], size="1", color_scheme="red")),
            _save_button("Sign and save", S.save_tax, "save-tax"),
            spacing="3", width="100%")),
        spacing="3", width="100%")


def _documents_step() -> rx.Component:
    return rx.vstack(
        data_table(["Document", "File", "Received"], S.documents, ["kind", "filename", "uploaded"], "vendor-documents"),
        rx.hstack(
            rx.select.root(rx.select.trigger(data_testid="document-kind"), rx.select.content(
                *[rx.select.item(text, value=value) for value, text in DOCUMENT_OPTIONS]),
                value=S.document_kind, on_change=S.set_document_kind),
            rx.upload(rx.text("Drop a PDF, PNG or JPEG here, or click to choose", size="2"), id="vendor-documents",
                      max_files=5, accept={"application/pdf": [".pdf"], "image/png": [".png"], "image/jpeg": [".jpg", ".jpeg"]},
                      border="1px dashed var(--gray-8)", padding="1em"),
            rx.button("Send documents", data_testid="upload-documents",
                      on_click=S.upload_documents(rx.upload_files(upload_id="vendor-documents"))),
            align="center", wrap="wrap"),
        rx.foreach(rx.selected_files("vendor-documents"), lambda name: rx.text(name, size="1")),
        spacing="3", width="100%")


def _checklist() -> rx.Component:
    return rx.cond(
        S.missing.length() > 0,
        rx.callout(rx.vstack(
            rx.text("Still missing before review:", weight="bold", size="2"),
            rx.foreach(S.missing, lambda m: rx.text("• ", m.step, ": ", m.what, size="2",
                                                    data_testid="missing-item")),
            spacing="1"), color_scheme="amber", icon="list-todo", data_testid="missing"),
        rx.cond(S.review_state != "approved",
                rx.callout("Everything is there. Submit your profile for review.", color_scheme="green",
                           icon="circle-check")),
    )


def vendor_profile_page() -> rx.Component:
    return page_frame(
        "My Profile",
        rx.cond(
            S.error != "",
            rx.callout(S.error, color_scheme="red"),
            rx.vstack(
                rx.hstack(rx.text("Vendor status:", size="2"), rx.badge(S.vendor_status, data_testid="vendor-status"),
                          rx.text("Review:", size="2"), rx.badge(S.review_label, data_testid="review-state"),
                          align="center"),
                rx.cond(S.review_note != "", rx.callout(rx.text("Our team asks: ", S.review_note),
                                                        color_scheme="orange", data_testid="review-note")),
                _checklist(),
                rx.cond(S.message != "", rx.callout(S.message, icon="info", data_testid="profile-message")),
                rx.tabs.root(
                    rx.tabs.list(
                        rx.tabs.trigger("1. Company", value="profile", data_testid="step-profile"),
                        rx.tabs.trigger("2. Contacts", value="contacts", data_testid="step-contacts"),
                        rx.tabs.trigger("3. Payout method", value="payout", data_testid="step-payout"),
                        rx.tabs.trigger("4. Tax", value="tax", data_testid="step-tax"),
                        rx.tabs.trigger("5. Documents", value="documents", data_testid="step-documents"),
                    ),
                    rx.tabs.content(_profile_step(), value="profile", padding_top="1em"),
                    rx.tabs.content(_contacts_step(), value="contacts", padding_top="1em"),
                    rx.tabs.content(_payout_step(), value="payout", padding_top="1em"),
                    rx.tabs.content(_tax_step(), value="tax", padding_top="1em"),
                    rx.tabs.content(_documents_step(), value="documents", padding_top="1em"),
                    value=S.step, on_change=S.set_step, width="100%",
                ),
                rx.cond(S.review_state != "approved",
                        rx.button("Submit for review", size="3", on_click=S.submit, disabled=S.missing.length() > 0,
                                  data_testid="submit-profile")),
                spacing="3", width="100%", max_width="900px",
            ),
        ),
    )
