"""Payment terms: what a valid term is, when a change takes effect, and the due date it gives."""
from __future__ import annotations

from datetime import date, timedelta

# Ten years: beyond it a number of days is a typing mistake, not a term.
MAX_TERMS_DAYS = 3650


class TermsError(ValueError):
    """Terms that are not a whole number of days from 0 to MAX_TERMS_DAYS, or dates they cannot
    apply to (past the end of the calendar)."""


def parse_terms(value: object) -> int:
    """Whole days, 0 or more; '30', 30 and ' 30 ' are all 30; 30.5, '-1' and 'net 30' are refused."""
    text = str(value).strip() if not isinstance(value, bool) else ""
    if not text.isdigit():
        raise TermsError(f"Payment terms are a whole number of days, 0 or more (not {str(value).strip()!r})")
    days = int(text)
    if days > MAX_TERMS_DAYS:
        raise TermsError(f"Payment terms are at most {MAX_TERMS_DAYS} days")
    return days


def effective_from(changed_on: date) -> date:
    """A change applies to invoices generated from the first day of the following month."""
    if changed_on.year == date.max.year and changed_on.month == 12:
        raise TermsError(f"{changed_on} has no following month in the calendar")
    return date(changed_on.year + changed_on.month // 12, changed_on.month % 12 + 1, 1)


def due_date(posting_date: date, terms_days: int) -> date:
    """The posting date plus the terms; TermsError when that is past the end of the calendar
    (a posting date in the year 9999 is a typing mistake, not a reason to fail)."""
    try:
        return posting_date + timedelta(days=terms_days)
    except OverflowError:
        raise TermsError(f"{terms_days} days after {posting_date} is past the end of the calendar") from None


def terms_on(day: date, changes: list[tuple[date, int | None, int | None]], current: int | None,
             default: int) -> int:
    """The terms an invoice generated on `day` gets. `changes` are (effective from, days,
    previous days) in any order; `current` is the organization's configured value; None
    anywhere means the system default."""
    ordered = sorted(changes, key=lambda c: c[0])
    in_force = [c for c in ordered if c[0] <= day]
    if in_force:
        chosen = in_force[-1][1]
    elif ordered:
        # Every change is still to come: the terms are what the first one replaced.
        chosen = ordered[0][2]
    else:
        chosen = current
    return default if chosen is None else chosen
