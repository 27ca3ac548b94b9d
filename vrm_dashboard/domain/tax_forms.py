"""The US tax forms a payer collects before paying a vendor (W-9, W-8BEN, W-8BEN-E) and the
VAT number check: pure validation with one clear message per field."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import Enum
from types import ModuleType

from stdnum.us import ein as us_ein, itin as us_itin, ssn as us_ssn

from vrm_dashboard.domain.vendor_rules import FieldErrors, country_names


class TaxForm(str, Enum):
    W9 = "w9"
    W8BEN = "w8ben"
    W8BENE = "w8bene"


TAX_FORM_LABELS = {
    TaxForm.W9: "W-9 (US person)",
    TaxForm.W8BEN: "W-8BEN (foreign individual)",
    TaxForm.W8BENE: "W-8BEN-E (foreign entity)",
}

# Line 3a of the W-9.
W9_CLASSIFICATIONS = (
    "Individual/sole proprietor", "C corporation", "S corporation", "Partnership", "Trust/estate",
    "LLC (C corporation)", "LLC (S corporation)", "LLC (partnership)", "Other",
)
# Part I, line 4 of the W-8BEN-E (chapter 3 status).
CHAPTER3_STATUSES = (
    "Corporation", "Partnership", "Simple trust", "Grantor trust", "Complex trust", "Estate",
    "Foreign government", "International organization", "Tax-exempt organization", "Private foundation",
    "Disregarded entity",
)
# Part I, line 5 (chapter 4, FATCA status), the common ones.
CHAPTER4_STATUSES = (
    "Active NFFE", "Passive NFFE", "Participating FFI", "Reporting Model 1 FFI", "Reporting Model 2 FFI",
    "Exempt beneficial owner", "Publicly traded NFFE", "Nonreporting IGA FFI",
)
_GIIN = re.compile(r"[0-9A-NP-Z]{6}\.[0-9A-NP-Z]{5}\.(LE|SL|ME|BR|SP)\.\d{3}")


@dataclass
class TaxInput:
    """A tax form as the vendor types it."""

    form: str = ""
    name: str = ""
    business_name: str = ""
    classification: str = ""
    country: str = ""
    address: str = ""
    tin: str = ""
    foreign_tin: str = ""
    date_of_birth: str = ""
    treaty_country: str = ""
    chapter4_status: str = ""
    giin: str = ""
    signer_name: str = ""
    certified: bool = False


@dataclass(frozen=True)
class CleanTaxForm:
    form: TaxForm
    name: str
    business_name: str | None
    classification: str
    country: str
    address: str
    tin: str | None
    foreign_tin: str | None
    date_of_birth: date | None
    treaty_country: str | None
    chapter4_status: str | None
    giin: str | None
    signer_name: str


def form_for(country: str, is_entity: bool) -> TaxForm:
    """US persons give a W-9; others a W-8BEN (people) or W-8BEN-E (companies)."""
    if country.upper() == "US":
        return TaxForm.W9
    return TaxForm.W8BENE if is_entity else TaxForm.W8BEN


def _us_tin(value: str, allow: tuple[ModuleType, ...]) -> str | None:
    for module in allow:
        if module.is_valid(value):
            return module.format(value)
    return None


def _w9_tin(value: str, classification: str) -> str | None:
    """The W-9 has a box for an SSN and one for an EIN; written with its dashes the number says
    which it is, and bare digits are an SSN for a person and an EIN for anything else."""
    raw = value.strip()
    if re.fullmatch(r"\d{2}-\d{7}", raw):
        return _us_tin(raw, (us_ein,))
    if re.fullmatch(r"\d{3}-\d{2}-\d{4}", raw):
        return _us_tin(raw, (us_ssn,))
    person = classification == W9_CLASSIFICATIONS[0]
    return _us_tin(raw, (us_ssn, us_ein) if person else (us_ein,))


def _country(value: str, errors: dict[str, str], key: str, label: str) -> str:
    code = value.strip().upper()
    if code not in country_names():
        errors[key] = f"{label}: use a two-letter ISO code such as DE"
    return code


def validate_tax_form(data: TaxInput, today: date) -> CleanTaxForm:
    """The cleaned form, or FieldErrors naming every field to fix."""
    errors: dict[str, str] = {}
    try:
        form = TaxForm(data.form.strip().lower())
    except ValueError:
        raise FieldErrors({"form": "Choose the W-9, W-8BEN or W-8BEN-E"}) from None

    name = " ".join(data.name.split())
    if not name:
        errors["name"] = "Name is required" if form is not TaxForm.W8BENE else "Organization name is required"
    address = data.address.strip()
    if not address:
        errors["address"] = "The permanent address is required"
    signer = " ".join(data.signer_name.split())
    if not signer:
        errors["signer_name"] = "Type the name of the person signing"
    if not data.certified:
        errors["certified"] = "Confirm the certification under penalties of perjury"
    tin = foreign_tin = treaty = chapter4 = giin = None
    birth: date | None = None
    classification = ""

    if form is TaxForm.W9:
        country = "US"
        classification = data.classification.strip()
        if classification not in W9_CLASSIFICATIONS:
            errors["classification"] = "Choose the federal tax classification"
        if not data.tin.strip():
            errors["tin"] = "The taxpayer identification number (SSN or EIN) is required"
        else:
            tin = _w9_tin(data.tin, classification)
            if tin is None:
                errors["tin"] = "Not a valid SSN (123-45-6789) or EIN (12-3456789)"
    else:
        country = _country(data.country, errors, "country",
                           "Country of citizenship" if form is TaxForm.W8BEN else "Country of organization")
        if country == "US":
            errors["country"] = "A US person gives the W-9, not a W-8 form"
        foreign_tin = data.foreign_tin.strip() or None
        if foreign_tin is None:
            errors["foreign_tin"] = "The tax number of your country of residence is required"
        elif len(foreign_tin) > 32:
            errors["foreign_tin"] = "A foreign tax number is at most 32 characters"
        if data.tin.strip():
            tin = _us_tin(data.tin, (us_ssn, us_itin) if form is TaxForm.W8BEN else (us_ein,))
            if tin is None:
                errors["tin"] = ("Not a valid US SSN or ITIN" if form is TaxForm.W8BEN
                                 else "Not a valid US EIN (12-3456789)")
        if data.treaty_country.strip():
            treaty = _country(data.treaty_country, errors, "treaty_country", "Treaty country")
    if form is TaxForm.W8BEN:
        classification = "Individual"
        try:
            birth = date.fromisoformat(data.date_of_birth.strip())
            if not date(1900, 1, 1) <= birth <= today:
                errors["date_of_birth"] = "The date of birth is not plausible"
        except ValueError:
            errors["date_of_birth"] = "Date of birth as YYYY-MM-DD"
    if form is TaxForm.W8BENE:
        classification = data.classification.strip()
        if classification not in CHAPTER3_STATUSES:
            errors["classification"] = "Choose the entity type (chapter 3 status)"
        chapter4 = data.chapter4_status.strip()
        if chapter4 not in CHAPTER4_STATUSES:
            errors["chapter4_status"] = "Choose the FATCA status (chapter 4)"
        giin = data.giin.strip().upper() or None
        if giin and not _GIIN.fullmatch(giin):
            errors["giin"] = "A GIIN reads like 98Q96B.00000.LE.250"
        if chapter4 and chapter4.endswith("FFI") and chapter4.startswith(("Participating", "Reporting")) and not giin:
            errors["giin"] = "A participating or reporting FFI must give its GIIN"

    if errors:
        raise FieldErrors(errors)
    return CleanTaxForm(form=form, name=name, business_name=" ".join(data.business_name.split()) or None,
                        classification=classification, country=country, address=address, tin=tin,
                        foreign_tin=foreign_tin, date_of_birth=birth, treaty_country=treaty,
                        chapter4_status=chapter4, giin=giin, signer_name=signer)
