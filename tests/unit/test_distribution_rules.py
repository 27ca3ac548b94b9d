"""The distribution rules: who gets an invoice, what holds it back, how retries back off."""
from datetime import date, timedelta

from vrm_dashboard.domain.distribution_rules import (
    InvoiceFacts,
    InvoiceType,
    hold_reasons,
    invoice_type,
    is_permanent,
    period_start,
    retry_delay,
)


def _facts(**overrides):
    values = dict(number="INV-1", currency="EUR", subtotal_minor=10_000, tax_minor=1_900, total_minor=11_900,
                  lines_minor=10_000, line_count=2, recipient_name="Acme", recipient="ap@acme.example",
                  issue_date_set=True)
    values.update(overrides)
    return InvoiceFacts(**values)


def test_who_receives_which_invoice():
    assert invoice_type("self_generated", 7, None) is InvoiceType.SELF_BILLING
    assert invoice_type("parsed", 7, None) is None  # the vendor's own document
    assert invoice_type("parsed", None, 3) is InvoiceType.CUSTOMER


def test_an_invoice_that_adds_up_and_has_a_recipient_may_be_sent():
    assert hold_reasons(_facts(), None) == []


def test_every_reason_to_hold_an_invoice_is_named():
    reasons = hold_reasons(_facts(total_minor=11_901, lines_minor=9_000, number=" ", recipient=None,
                                  recipient_name="", issue_date_set=False), None)
    assert reasons == ["Subtotal plus tax does not equal the total", "The lines do not add up to the subtotal",
                       "The invoice has no number", "The invoice has no date of issue", "The recipient has no name",
                       "The recipient has no e-mail address"]
    assert hold_reasons(_facts(recipient="x@"), "no domain") == ["The recipient's address x@ is not valid: no domain"]


def test_temporary_failures_back_off_and_5xx_is_final():
    assert [retry_delay(n) for n in (1, 2, 3, 4, 5, 9)] == [timedelta(minutes=m) for m in (1, 5, 15, 60, 240, 240)]
    assert is_permanent(550) and not is_permanent(451) and not is_permanent(None)


def test_reports_fold_days_into_weeks_starting_monday_and_months():
    day = date(2026, 11, 19)  # a Thursday
    assert period_start(day, "week") == date(2026, 11, 16)
    assert period_start(day, "month") == date(2026, 11, 1)
    assert period_start(day, "day") == day
