"""Payment terms, aging and reminder rules, without a database."""
from datetime import date

import pytest

from vrm_dashboard.domain.collection_rules import (
    ScheduleError,
    aging_bucket,
    parse_schedule,
    reminder_stage,
)
from vrm_dashboard.domain.terms_rules import TermsError, due_date, effective_from, parse_terms, terms_on


@pytest.mark.parametrize("value, days", [("30", 30), (" 45 ", 45), (0, 0), ("0", 0), (3650, 3650)])
def test_whole_days_from_zero_are_terms(value, days):
    assert parse_terms(value) == days


@pytest.mark.parametrize("value", ["-1", "30.5", "net 30", "", "3651", True, None, 12.0])
def test_anything_else_is_refused_with_a_reason(value):
    with pytest.raises(TermsError, match="days"):
        parse_terms(value)


def test_a_change_takes_effect_on_the_first_day_of_the_next_month():
    assert effective_from(date(2026, 11, 1)) == date(2026, 12, 1)
    assert effective_from(date(2026, 11, 30)) == date(2026, 12, 1)
    assert effective_from(date(2026, 12, 15)) == date(2027, 1, 1)


def test_a_change_in_one_month_only_affects_invoices_generated_from_the_next():
    # On 10 November the organization moves from the default (30) to 45 days.
    change = (effective_from(date(2026, 11, 10)), 45, None)
    for generated in (date(2026, 11, 1), date(2026, 11, 10), date(2026, 11, 30)):
        assert terms_on(generated, [change], current=45, default=30) == 30
    for generated in (date(2026, 12, 1), date(2027, 3, 9)):
        assert terms_on(generated, [change], current=45, default=30) == 45
    # A second change in December applies from January; December keeps 45.
    later = (effective_from(date(2026, 12, 5)), 60, 45)
    assert terms_on(date(2026, 12, 31), [later, change], current=60, default=30) == 45
    assert terms_on(date(2027, 1, 1), [later, change], current=60, default=30) == 60


def test_without_history_an_organization_has_its_configured_terms_or_the_default():
    assert terms_on(date(2026, 11, 1), [], current=None, default=30) == 30
    assert terms_on(date(2026, 11, 1), [], current=14, default=30) == 14


def test_due_date_is_posting_date_plus_terms():
    assert due_date(date(2026, 11, 20), 30) == date(2026, 12, 20)
    assert due_date(date(2026, 11, 20), 0) == date(2026, 11, 20)


@pytest.mark.parametrize("due, bucket", [
    (date(2026, 12, 1), "current"), (date(2026, 11, 20), "current"), (date(2026, 11, 19), "d1_30"),
    (date(2026, 10, 21), "d1_30"), (date(2026, 10, 20), "d31_60"), (date(2026, 9, 21), "d31_60"), (date(2026, 9, 20), "d61_90"),
    (date(2026, 8, 22), "d61_90"), (date(2026, 8, 21), "over_90"),
])
def test_aging_counts_days_past_the_due_date(due, bucket):
    assert aging_bucket(due, date(2026, 11, 20)) == bucket


def test_reminder_schedule_is_read_and_checked():
    assert parse_schedule("-7, 1, 7, 21") == [-7, 1, 7, 21]
    assert parse_schedule([21, -7]) == [-7, 21]
    for bad in ("1, x", "1, 1", "400"):
        with pytest.raises(ScheduleError):
            parse_schedule(bad)


def test_only_the_latest_reminder_stage_reached_is_due():
    schedule = [-7, 1, 7, 21]
    due = date(2026, 11, 20)
    assert reminder_stage(due, date(2026, 11, 12), schedule) is None
    assert reminder_stage(due, date(2026, 11, 13), schedule) == -7
    assert reminder_stage(due, date(2026, 11, 21), schedule) == 1
    assert reminder_stage(due, date(2027, 1, 1), schedule) == 21
