"""What a valid vendor record is: pure checks with one clear message per field."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache

from babel import Locale
from email_validator import EmailNotValidError, validate_email
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum import get_cc_module
from stdnum.exceptions import ValidationError
from stdnum.us import ein as us_ein, rtn as us_rtn

from vrm_dashboard.domain.money import MoneyError, check_currency

NAME_MAX = 120
VENDOR_CODE_MAX = 32


class PaymentMethod(str, Enum):
    SEPA = "sepa"
    ACH = "ach"
    WIRE = "wire"
    PAYPAL = "paypal"
    MANUAL = "manual"


PAYMENT_METHOD_LABELS = {
    PaymentMethod.SEPA: "SEPA transfer",
    PaymentMethod.ACH: "US ACH",
    PaymentMethod.WIRE: "Wire transfer",
    PaymentMethod.PAYPAL: "PayPal",
    PaymentMethod.MANUAL: "Manual",
}


class ActivityStatus(str, Enum):
    ACTIVE = "active"
    ONBOARDING = "onboarding"
    ON_HOLD = "on_hold"
    INACTIVE = "inactive"


ACTIVITY_LABELS = {
    ActivityStatus.ACTIVE: "Active",
    ActivityStatus.ONBOARDING: "Onboarding",
    ActivityStatus.ON_HOLD: "On hold",
    ActivityStatus.INACTIVE: "Inactive",
}

PAYMENT_SOURCES = ("Operating account", "Payouts wallet", "Credit line")


@dataclass
class VendorInput:
    """What a person or an import supplies for a vendor, as text."""

    vendor_code: str = ""
    name: str = ""
    legal_name: str = ""
    email: str = ""
    country: str = ""
    currency: str = ""
    payment_method: str = PaymentMethod.SEPA.value
    payment_source: str = PAYMENT_SOURCES[0]
    iban: str = ""
    bic: str = ""
    account_number: str = ""
    routing_number: str = ""
    paypal_email: str = ""
    tax_id: str = ""
    vat_id: str = ""
    activity_status: str = ActivityStatus.ACTIVE.value


@dataclass
class CleanVendor:
    vendor_code: str
    name: str
    legal_name: str
    email: str
    country: str
    currency: str
    payment_method: PaymentMethod
    payment_source: str
    iban: str | None
    bic: str | None
    account_number: str | None
    routing_number: str | None
    paypal_email: str | None
    tax_id: str | None
    vat_id: str | None
    activity_status: ActivityStatus


@dataclass
class FieldErrors(Exception):
    """One message per field that failed; nothing was changed."""

    errors: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return "; ".join(f"{k}: {v}" for k, v in self.errors.items())


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    territories = Locale("en").territories
    return {code: name for code, name in territories.items() if len(code) == 2 and code.isalpha()}


def _email(value: str) -> str:
    return validate_email(value, check_deliverability=False).normalized


def validate_vendor(data: VendorInput) -> CleanVendor:
    """Return the cleaned vendor, or raise FieldErrors with a message per bad field."""
    errors: dict[str, str] = {}

    code = data.vendor_code.strip().upper()
    if not code:
        errors["vendor_code"] = "Vendor ID is required"
    elif len(code) > VENDOR_CODE_MAX:
        errors["vendor_code"] = f"Vendor ID is at most {VENDOR_CODE_MAX} characters"
    elif not all(c.isalnum() or c in "-_." for c in code):
        errors["vendor_code"] = "Vendor ID may hold letters, digits, '-', '_' and '.' only"

    name = " ".join(data.name.split())
    if not name:
        errors["name"] = "Name is required"
    elif len(name) > NAME_MAX:
        errors["name"] = f"Name is at most {NAME_MAX} characters (got {len(name)})"
    legal_name = " ".join(data.legal_name.split()) or name
    if data.legal_name.strip() and len(legal_name) > NAME_MAX:
        errors["legal_name"] = f"Legal name is at most {NAME_MAX} characters"

    email = ""
    try:
        email = _email(data.email.strip())
    except EmailNotValidError as exc:
        errors["email"] = f"E-mail is not valid: {exc}"

    country = data.country.strip().upper()
    if country not in country_names():
        errors["country"] = f"Unknown country {data.country!r}: use a two-letter ISO code such as DE"

    currency = ""
    try:
        currency = check_currency(data.currency)
    except MoneyError as exc:
        errors["currency"] = str(exc)

    try:
        method = PaymentMethod(data.payment_method.strip().lower())
    except ValueError:
        errors["payment_method"] = f"Unknown payment method {data.payment_method!r}"
        method = PaymentMethod.MANUAL

    source = data.payment_source.strip()
    if source not in PAYMENT_SOURCES:
        errors["payment_source"] = f"Payment source must be one of: {', '.join(PAYMENT_SOURCES)}"

    try:
        status = ActivityStatus(data.activity_status.strip().lower())
    except ValueError:
        errors["activity_status"] = f"Unknown activity status {data.activity_status!r}"
        status = ActivityStatus.ACTIVE

    iban = bic = account = routing = paypal = None
    if method in (PaymentMethod.SEPA, PaymentMethod.WIRE) and (
        method is PaymentMethod.SEPA or data.iban.strip()
    ):
        try:
            iban = IBAN(data.iban).compact
        except (SchwiftyException, ValueError) as exc:
            errors["iban"] = f"IBAN is not valid: {exc}" if data.iban.strip() else "IBAN is required"
    if data.bic.strip():
        try:
            bic = BIC(data.bic).compact
        except (SchwiftyException, ValueError) as exc:
            errors["bic"] = f"BIC is not valid: {exc}"
    elif method is PaymentMethod.WIRE and not iban:
        errors["bic"] = "A wire transfer needs an IBAN or a BIC with an account number"
    if method in (PaymentMethod.ACH, PaymentMethod.WIRE) and not iban:
        account = "".join(data.account_number.split())
        if not account.isdigit() or not 4 <= len(account) <= 17:
            errors["account_number"] = "Account number must be 4 to 17 digits"
    if method is PaymentMethod.ACH:
        routing = "".join(data.routing_number.split())
        if not us_rtn.is_valid(routing):
            errors["routing_number"] = "Routing number is not a valid 9-digit ABA number"
        else:
            routing = us_rtn.compact(routing)
    if method is PaymentMethod.PAYPAL:
        try:
            paypal = _email(data.paypal_email.strip())
        except EmailNotValidError as exc:
            errors["paypal_email"] = f"PayPal e-mail is not valid: {exc}"

    tax_id = data.tax_id.strip() or None
    if tax_id and country == "US":
        if not us_ein.is_valid(tax_id):
            errors["tax_id"] = "US tax ID must be a valid EIN such as 12-3456789"
        else:
            tax_id = us_ein.format(tax_id)
    elif tax_id and len(tax_id) > 32:
        errors["tax_id"] = "Tax ID is at most 32 characters"

    vat_id = None
    try:
        vat_id = clean_vat_id(country, data.vat_id)
    except FieldErrors as exc:
        errors.update(exc.errors)

    if errors:
        raise FieldErrors(errors)
    return CleanVendor(
        vendor_code=code,
        name=name,
        legal_name=legal_name,
        email=email,
        country=country,
        currency=currency,
        payment_method=method,
        payment_source=source,
        iban=iban,
        bic=bic,
        account_number=account,
        routing_number=routing,
        paypal_email=paypal,
        tax_id=tax_id,
        vat_id=vat_id,
        activity_status=status,
    )


def clean_vat_id(country: str, value: str) -> str | None:
    """The VAT number as country prefix plus compact number (DE136695976), checked by the rules
    of the country its prefix names, or else of the vendor's country; None when empty. Raises
    FieldErrors when it is not valid."""
    raw = "".join(value.split()).upper()
    if not raw:
        return None
    prefix = raw[:2] if raw[:2].isalpha() else country.strip().upper()
    module = get_cc_module({"EL": "gr"}.get(prefix, prefix.lower()), "vat")
    if module is None:
        raise FieldErrors({"vat_id": f"VAT numbers of {prefix} cannot be checked: leave this empty"})
    try:
        number = module.validate(raw)
    except ValidationError:
        raise FieldErrors({"vat_id": f"VAT ID {value.strip()} is not a valid {prefix} VAT number"}) from None
    return (prefix + number)[:16]


def mask(value: str | None, visible: int = 4) -> str:
    """Show only the last characters of a bank detail."""
    if not value:
        return ""
    if len(value) <= visible:
        return "•" * len(value)
    return "•" * (len(value) - visible) + value[-visible:]
