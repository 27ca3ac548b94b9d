import pytest

from vrm_dashboard.domain.vendor_rules import FieldErrors, VendorInput, mask, validate_vendor


def _base(**overrides):
    values = dict(vendor_code="v-1", name="Acme", email="ap@acme.example", country="de",
                  currency="eur", iban="DE89 3704 0044 0532 0130 00")
    values.update(overrides)
    return VendorInput(**values)


def test_a_good_sepa_vendor_is_cleaned():
    clean = validate_vendor(_base())
    assert (clean.vendor_code, clean.country, clean.currency) == ("V-1", "DE", "EUR")
    assert clean.iban == "DE89370400440532013000"


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"iban": "DE89 3704 0044 0532 0130 01"}, "iban", "IBAN is not valid"),
        ({"currency": "EUX"}, "currency", "Unknown currency"),
        ({"name": "x" * 121}, "name", "at most 120 characters"),
        ({"email": "not-an-address"}, "email", "E-mail is not valid"),
        ({"country": "XX"}, "country", "Unknown country"),
        ({"bic": "NOTABIC"}, "bic", "BIC is not valid"),
        ({"vat_id": "DE123"}, "vat_id", "VAT ID"),
        ({"payment_method": "ach", "routing_number": "123456789", "account_number": "1234"},
         "routing_number", "Routing number"),
        ({"payment_method": "paypal", "paypal_email": "nope"}, "paypal_email", "PayPal"),
        ({"country": "US", "tax_id": "12-345"}, "tax_id", "EIN"),
    ],
)
def test_each_bad_field_gets_its_own_message(overrides, field, message):
    with pytest.raises(FieldErrors) as caught:
        validate_vendor(_base(**overrides))
    assert message in caught.value.errors[field]


def test_us_ach_vendor_with_routing_number_and_ein():
    clean = validate_vendor(_base(country="US", currency="USD", payment_method="ach", iban="",
                                  routing_number="011000015", account_number="123456789",
                                  tax_id="123456789"))
    assert clean.routing_number == "011000015" and clean.tax_id == "12-3456789"


def test_masking_shows_only_the_last_four():
    assert mask("DE89370400440532013000") == "••••••••••••••••••3000"
    assert mask(None) == ""
