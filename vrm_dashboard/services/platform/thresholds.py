"""Per-currency amount thresholds (two approvers, payout approval) as SQL conditions."""
from __future__ import annotations

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, literal, or_

from vrm_dashboard.domain.approval_rules import ANY_CURRENCY, threshold_minor
from vrm_dashboard.services.invoices import queries as invoice_queries


def above_threshold(thresholds: dict[str, str], currency: SQLColumnExpression[str],
                    amount: SQLColumnExpression[int]) -> ColumnElement[bool]:
    """SQL truth of "`amount` is above the threshold of the row's `currency`" for a
    per-currency threshold setting ("*" covers currencies without a line of their own)."""
    explicit = {c: threshold_minor(c, thresholds) for c in thresholds if c != ANY_CURRENCY}
    rules = [and_(currency == c, amount > limit) for c, limit in explicit.items() if limit is not None]
    default = thresholds.get(ANY_CURRENCY)
    if default not in (None, ""):
        for places, codes in invoice_queries.currencies_by_exponent().items():
            others = [c for c in codes if c not in explicit]
            limit = threshold_minor(others[0], {ANY_CURRENCY: default}) if others else None
            if limit is not None:
                rules.append(and_(currency.in_(others), amount > limit))
    return or_(*rules) if rules else literal(False)
