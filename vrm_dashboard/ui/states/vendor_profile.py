"""My Profile: a vendor completes its company profile, contacts, payout method, tax form and
documents, sees what is still missing, and hands it to review. Every handler acts on the
signed-in vendor only (services.vendors.onboarding takes the vendor from the account)."""
from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from typing import Any

import reflex as rx

from vrm_dashboard.domain.onboarding_rules import DOCUMENT_LABELS, REVIEW_LABELS, STEP_LABELS, ReviewState
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.domain.tax_forms import TAX_FORM_LABELS, TaxInput
from vrm_dashboard.domain.vendor_rules import PAYMENT_METHOD_LABELS, PaymentMethod
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import FieldErrors, ServiceError
from vrm_dashboard.services.vendors import onboarding
from vrm_dashboard.ui import formatting as fmt
from vrm_dashboard.ui.states.rows import DocumentRow, MissingItem
from vrm_dashboard.ui.states.session import SessionState, page_load
from vrm_dashboard.ui.uploads import file_name, read_within, upload_refusal

PROFILE_FIELDS = ("name", "legal_name", "email", "country", "currency", "address", "website", "phone")
PAYOUT_FIELDS = ("payment_method", "iban", "bic", "account_number", "routing_number", "paypal_email")
TAX_FIELDS = ("form", "name", "business_name", "classification", "country", "address", "tin", "foreign_tin",
              "date_of_birth", "treaty_country", "chapter4_status", "giin", "signer_name", "vat_id")
CONTACT_FIELDS = ("name", "email", "role", "phone")
PAYOUT_OPTIONS = [[m.value, PAYMENT_METHOD_LABELS[m]] for m in PaymentMethod if m is not PaymentMethod.MANUAL]
TAX_FORM_OPTIONS = [[f.value, label] for f, label in TAX_FORM_LABELS.items()]
DOCUMENT_OPTIONS = [[k.value, label] for k, label in DOCUMENT_LABELS.items()]


def _blank(names: tuple[str, ...]) -> dict[str, str]:
    return {n: "" for n in names}


@dataclass
class ProfileContact:
    """A contact person the vendor gave on its profile."""

    id: str = ""
    name: str = ""
    email: str = ""
    role: str = ""
    phone: str = ""


class VendorProfileState(SessionState):
    profile: dict[str, str] = _blank(PROFILE_FIELDS)
    payout: dict[str, str] = _blank(PAYOUT_FIELDS)
    tax: dict[str, str] = _blank(TAX_FIELDS)
    certified: bool = False
    new_contact: dict[str, str] = _blank(CONTACT_FIELDS)
    contacts: list[ProfileContact] = []
    documents: list[DocumentRow] = []
    document_kind: str = "identity"
    missing: list[MissingItem] = []
    review_state: str = ""
    review_label: str = ""
    review_note: str = ""
    vendor_status: str = ""
    tax_signed: str = ""
    step: str = "profile"
    # The outcome of the last save, and the fields it refused, by field name.
    message: str = ""
    errors: dict[str, str] = {}
    error: str = ""

    @rx.event
    @page_load
    def load(self, actor: Actor) -> Any:
        self.message, self.errors = "", {}
        self._refresh(fill_forms=True)
        return None

    def _refresh(self, fill_forms: bool = False) -> None:
        try:
            with self._acting(read_only=True) as (session, actor):
                view = onboarding.own_profile(session, actor)
        except ServiceError as exc:
            self.error = str(exc)
            return
        self.error = ""
        v, o = view.vendor, view.onboarding
        if fill_forms:
            self.profile = {"name": v.name, "legal_name": v.legal_name, "email": v.email, "country": v.country,
                            "currency": v.currency, "address": v.address or "", "website": v.website or "",
                            "phone": v.phone or ""}
            method = v.payment_method if v.payment_method != PaymentMethod.MANUAL.value else ""
            self.payout = {"payment_method": method, "iban": v.iban or "", "bic": v.bic or "",
                           "account_number": v.account_number or "", "routing_number": v.routing_number or "",
                           "paypal_email": v.paypal_email or ""}
            t = view.tax_form
            self.tax = {
                "form": t.form if t else "", "name": t.name if t else v.legal_name,
                "business_name": (t.business_name or "") if t else "", "classification": t.classification if t else "",
                "country": t.country if t else v.country, "address": t.address if t else (v.address or ""),
                "tin": (t.tin or "") if t else "", "foreign_tin": (t.foreign_tin or "") if t else "",
                "date_of_birth": t.date_of_birth.isoformat() if t and t.date_of_birth else "",
                "treaty_country": (t.treaty_country or "") if t else "",
                "chapter4_status": (t.chapter4_status or "") if t else "", "giin": (t.giin or "") if t else "",
                "signer_name": t.signer_name if t else "", "vat_id": v.vat_id or "",
            }
            self.certified = False
        self.tax_signed = (f"{TAX_FORM_LABELS.get(view.tax_form.form, view.tax_form.form)} signed by "
                           f"{view.tax_form.signer_name} on {fmt.day(view.tax_form.signed_at)}") if view.tax_form else ""
        self.contacts = [ProfileContact(id=str(c.id), name=c.name, email=c.email, role=c.role, phone=c.phone)
                         for c in view.contacts]
        self.documents = [DocumentRow(id=str(d.id), kind=DOCUMENT_LABELS.get(d.kind, d.kind), filename=d.filename,
                                      uploaded=fmt.day(d.uploaded_at)) for d in view.documents]
        self.missing = [MissingItem(step=STEP_LABELS[m.step], what=m.what) for m in view.missing]
        self.review_state = o.state
        self.review_label = REVIEW_LABELS[ReviewState(o.state)]
        self.review_note = o.review_note or ""
        self.vendor_status = fmt.activity_label(v.activity_status)

    def _save(self, work, done: str) -> bool:  # type: ignore[no-untyped-def]
        try:
            with self._acting(Action.PORTAL_USE) as (session, actor):
                work(session, actor)
        except FieldErrors as exc:
            self.errors = dict(exc.errors)
            self.message = "Please correct: " + "; ".join(exc.errors.values())
            return False
        except ServiceError as exc:
            self.errors, self.message = {}, str(exc)
            return False
        self.errors, self.message = {}, done
        self._refresh()
        return True

    @rx.event
    def set_step(self, value: str | list[str]) -> None:
        self.step = value if isinstance(value, str) else (value[0] if value else "profile")
        self.message, self.errors = "", {}

    @rx.event
    def set_profile_field(self, name: str, value: str) -> None:
        if name in self.profile:
            self.profile[name] = value

    @rx.event
    def set_payout_field(self, name: str, value: str) -> None:
        if name in self.payout:
            self.payout[name] = value

    @rx.event
    def set_tax_field(self, name: str, value: str) -> None:
        if name in self.tax:
            self.tax[name] = value

    @rx.event
    def set_certified(self, value: bool) -> None:
        self.certified = bool(value)

    @rx.event
    def set_contact_field(self, name: str, value: str) -> None:
        if name in self.new_contact:
            self.new_contact[name] = value

    @rx.event
    def set_document_kind(self, value: str) -> None:
        self.document_kind = value

    @rx.event
    def save_profile(self) -> None:
        data = onboarding.ProfileInput(**{k: self.profile[k] for k in PROFILE_FIELDS})
        self._save(lambda s, a: onboarding.save_profile(s, a, data), "Company profile saved.")

    @rx.event
    def add_contact(self) -> None:
        data = onboarding.ContactInput(**{k: self.new_contact[k] for k in CONTACT_FIELDS})
        if self._save(lambda s, a: onboarding.add_contact(s, a, data), f"Contact {data.name} added."):
            self.new_contact = _blank(CONTACT_FIELDS)

    @rx.event
    def remove_contact(self, contact_id: str) -> None:
        self._save(lambda s, a: onboarding.remove_contact(s, a, int(contact_id)), "Contact removed.")

    @rx.event
    def save_payout(self) -> None:
        data = onboarding.PayoutInput(**{k: self.payout[k] for k in PAYOUT_FIELDS})
        self._save(lambda s, a: onboarding.save_payout_method(s, a, data), "Payout method saved.")

    @rx.event
    def save_tax(self) -> None:
        fields = {k: self.tax[k] for k in TAX_FIELDS if k != "vat_id"}
        data = TaxInput(**fields, certified=self.certified)
        vat_id = self.tax["vat_id"]
        if self._save(lambda s, a: onboarding.save_tax_form(s, a, data, vat_id), "Tax form signed and saved."):
            self.certified = False

    @rx.event
    async def upload_documents(self, files: list[rx.UploadFile]) -> None:
        refused = upload_refusal(self, Action.PORTAL_USE)
        if refused:
            self.errors, self.message = {}, refused
            return
        kind = self.document_kind
        saved = []
        for upload in files:
            name = file_name(upload, "document.pdf")
            # No more is read than shows the document too large: the service's own limit.
            content = await read_within(upload, onboarding.MAX_DOCUMENT_BYTES)
            if content is None:
                too_large = f"{name} is larger than {onboarding.MAX_DOCUMENT_BYTES // (1024 * 1024)} MB"
                self.errors, self.message = {"file": too_large}, f"Please correct: {too_large}"
                return
            content_type = getattr(upload, "content_type", None) or ""
            if content_type in ("", "application/octet-stream"):
                content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            if not self._save(lambda s, a: onboarding.add_document(s, a, content, name, content_type, kind), ""):
                return
            saved.append(name)
        self.message = f"Received {', '.join(saved)}." if saved else "Choose a file first."

    @rx.event
    def remove_document(self, document_id: str) -> None:
        self._save(lambda s, a: onboarding.remove_document(s, a, int(document_id)), "Document removed.")

    @rx.event
    def submit(self) -> None:
        self._save(onboarding.submit, "Thank you: your profile went to our team for review.")
