"""The tax forms and VAT numbers a vendor gives while onboarding, and what is still missing."""
from datetime import date

import pytest

from vrm_dashboard.domain.onboarding_rules import OnboardingFacts, OnboardingStep, missing_items
from vrm_dashboard.domain.tax_forms import TaxForm, TaxInput, form_for, validate_tax_form
from vrm_dashboard.domain.vendor_rules import FieldErrors, clean_vat_id

TODAY = date(2026, 12, 2)


def _w9(**overrides) -> TaxInput:
    values = dict(form="w9", name="Jane Roe", classification="Individual/sole proprietor",
                  address="1 Main St, Springfield IL 62701", tin="123-45-6789", signer_name="Jane Roe", certified=True)
    values.update(overrides)
    return TaxInput(**values)


def test_a_w9_takes_an_ssn_or_an_ein_and_nothing_else():
    assert validate_tax_form(_w9(), TODAY).tin == "123-45-6789"
    assert validate_tax_form(_w9(tin="043158413", classification="C corporation"), TODAY).tin == "04-3158413"
    with pytest.raises(FieldErrors) as bad:
        validate_tax_form(_w9(tin="000-00-0000", classification="", certified=False), TODAY)
    assert set(bad.value.errors) == {"tin", "classification", "certified"}


def test_the_w8_forms_want_the_foreign_facts_of_a_person_or_an_entity():
    person = TaxInput(form="w8ben", name="Hans Muster", country="DE", address="Hauptstr. 1, 10115 Berlin",
                      foreign_tin="12345678901", date_of_birth="1980-02-29", signer_name="Hans Muster",
                      certified=True)
    assert validate_tax_form(person, TODAY).date_of_birth == date(1980, 2, 29)
    with pytest.raises(FieldErrors) as bad:
        validate_tax_form(TaxInput(**{**vars(person), "country": "US", "date_of_birth": "29.02.1980",
                                      "foreign_tin": ""}), TODAY)
    assert set(bad.value.errors) == {"country", "date_of_birth", "foreign_tin"}
    entity = TaxInput(form="w8bene", name="Muster GmbH", classification="Corporation", country="DE",
                      address="Hauptstr. 1, 10115 Berlin", foreign_tin="DE136695976", chapter4_status="Active NFFE",
                      signer_name="Hans Muster", certified=True)
    assert validate_tax_form(entity, TODAY).giin is None
    with pytest.raises(FieldErrors) as bad:
        validate_tax_form(TaxInput(**{**vars(entity), "chapter4_status": "Participating FFI"}), TODAY)
    assert "GIIN" in bad.value.errors["giin"]
    assert validate_tax_form(TaxInput(**{**vars(entity), "chapter4_status": "Participating FFI",
                                         "giin": "98q96b.00000.le.250"}), TODAY).giin == "98Q96B.00000.LE.250"
    assert form_for("US", True) is TaxForm.W9 and form_for("FR", False) is TaxForm.W8BEN


@pytest.mark.parametrize("country, given, kept", [
    ("DE", "DE 136 695 976", "DE136695976"), ("DE", "136695976", "DE136695976"),
    ("FR", "ATU13585627", "ATU13585627"), ("GB", "GB980780684", "GB980780684"),
])
def test_a_vat_id_is_checked_by_the_rules_of_its_country(country, given, kept):
    assert clean_vat_id(country, given) == kept


def test_a_wrong_or_uncheckable_vat_id_is_refused_with_the_reason():
    with pytest.raises(FieldErrors, match="not a valid DE VAT number"):
        clean_vat_id("DE", "DE136695977")
    with pytest.raises(FieldErrors, match="cannot be checked"):
        clean_vat_id("US", "123456")
    assert clean_vat_id("DE", "  ") is None


def _facts(**overrides) -> OnboardingFacts:
    values = dict(legal_name="Muster GmbH", address="Berlin", country="DE", currency="EUR",
                  contact_emails=("ap@muster.example",), payment_method="sepa", tax_form="w8bene",
                  vat_id="DE136695976", document_kinds=frozenset({"identity", "bank"}))
    values.update(overrides)
    return OnboardingFacts(**values)


def test_a_complete_profile_misses_nothing_and_each_gap_is_named_under_its_step():
    assert missing_items(_facts()) == []
    gaps = missing_items(_facts(address="", contact_emails=(), payment_method="manual", tax_form="w9",
                                document_kinds=frozenset()))
    assert [m.step for m in gaps] == [OnboardingStep.PROFILE, OnboardingStep.CONTACTS, OnboardingStep.PAYOUT,
                                      OnboardingStep.TAX, OnboardingStep.DOCUMENTS]
    assert "does not fit the country" in gaps[3].what


def test_an_eu_company_needs_its_vat_id_and_a_bank_account_its_confirmation():
    assert [m.what for m in missing_items(_facts(vat_id=None))] == ["The VAT ID (required of companies in the EU)"]
    assert missing_items(_facts(vat_id=None, tax_form="w8ben")) == []
    assert [m.what for m in missing_items(_facts(document_kinds=frozenset({"identity"})))] == \
        ["Bank account confirmation"]
    assert missing_items(_facts(payment_method="paypal", document_kinds=frozenset({"identity"}))) == []
