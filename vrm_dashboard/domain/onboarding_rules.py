"""What a vendor must supply before a reviewer can approve it, and the states of a review."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from vrm_dashboard.domain.tax_forms import TaxForm, form_for

EU_COUNTRIES = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split())


class OnboardingStep(str, Enum):
    PROFILE = "profile"
    CONTACTS = "contacts"
    PAYOUT = "payout"
    TAX = "tax"
    DOCUMENTS = "documents"


STEP_LABELS = {
    OnboardingStep.PROFILE: "Company profile",
    OnboardingStep.CONTACTS: "Contacts",
    OnboardingStep.PAYOUT: "Payout method",
    OnboardingStep.TAX: "Tax information",
    OnboardingStep.DOCUMENTS: "Documents",
}


class ReviewState(str, Enum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"


REVIEW_LABELS = {
    ReviewState.IN_PROGRESS: "Filling in",
    ReviewState.SUBMITTED: "Waiting for review",
    ReviewState.CHANGES_REQUESTED: "Changes requested",
    ReviewState.APPROVED: "Approved",
}


class DocumentKind(str, Enum):
    IDENTITY = "identity"
    BANK = "bank"
    OTHER = "other"


DOCUMENT_LABELS = {
    DocumentKind.IDENTITY: "Company registration or proof of identity",
    DocumentKind.BANK: "Bank account confirmation",
    DocumentKind.OTHER: "Other",
}
# A bank account is confirmed by a document from the bank; PayPal and manual payment are not.
BANK_METHODS = frozenset({"sepa", "ach", "wire"})


@dataclass(frozen=True)
class OnboardingFacts:
    """What the vendor has supplied so far."""

    legal_name: str
    address: str
    country: str
    currency: str
    contact_emails: tuple[str, ...]
    payment_method: str
    tax_form: str | None
    vat_id: str | None
    document_kinds: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Missing:
    step: OnboardingStep
    what: str


def expected_tax_forms(country: str) -> set[TaxForm]:
    return {TaxForm.W9} if country.upper() == "US" else {form_for(country, False), form_for(country, True)}


def missing_items(facts: OnboardingFacts) -> list[Missing]:
    """Everything still missing, step by step; empty when the vendor can be approved."""
    missing: list[Missing] = []
    if not facts.legal_name.strip():
        missing.append(Missing(OnboardingStep.PROFILE, "Legal name"))
    if not facts.address.strip():
        missing.append(Missing(OnboardingStep.PROFILE, "Address"))
    if not facts.country or not facts.currency:
        missing.append(Missing(OnboardingStep.PROFILE, "Country and currency"))
    if not facts.contact_emails:
        missing.append(Missing(OnboardingStep.CONTACTS, "At least one contact with an e-mail address"))
    if facts.payment_method in ("", "manual"):
        missing.append(Missing(OnboardingStep.PAYOUT, "A payout method: bank account, US ACH, PayPal or wire"))
    if facts.tax_form is None:
        missing.append(Missing(OnboardingStep.TAX, "A signed tax form (W-9, W-8BEN or W-8BEN-E)"))
    elif TaxForm(facts.tax_form) not in expected_tax_forms(facts.country):
        wanted = "W-9" if facts.country.upper() == "US" else "W-8BEN or W-8BEN-E"
        missing.append(Missing(OnboardingStep.TAX, f"A {wanted}: the signed form does not fit the country"))
    if facts.tax_form == TaxForm.W8BENE.value and facts.country.upper() in EU_COUNTRIES and not facts.vat_id:
        missing.append(Missing(OnboardingStep.TAX, "The VAT ID (required of companies in the EU)"))
    if DocumentKind.IDENTITY.value not in facts.document_kinds:
        missing.append(Missing(OnboardingStep.DOCUMENTS, DOCUMENT_LABELS[DocumentKind.IDENTITY]))
    if facts.payment_method in BANK_METHODS and DocumentKind.BANK.value not in facts.document_kinds:
        missing.append(Missing(OnboardingStep.DOCUMENTS, DOCUMENT_LABELS[DocumentKind.BANK]))
    return missing
