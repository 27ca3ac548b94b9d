"""A vendor's rate card and rules: what its activity earns."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlmodel import Session, col

from vrm_dashboard.db.models import RateCard, RateRule, utcnow
from vrm_dashboard.domain.money import Money, MoneyError, check_currency
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.platform import audit
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import FieldErrors
from vrm_dashboard.services.vendors.records import get_vendor


def set_rate_card(session: Session, actor: Actor, vendor_id: int, currency: str, flat_fee: str = "0",
                  minimum_payout: str = "0") -> RateCard:
    require(actor, Action.VENDOR_UPDATE)
    get_vendor(session, vendor_id)
    errors: dict[str, str] = {}
    try:
        currency = check_currency(currency)
    except MoneyError as error:
        raise FieldErrors({"currency": str(error)}) from error
    amounts = {}
    for name, text in (("flat_fee", flat_fee), ("minimum_payout", minimum_payout)):
        try:
            amounts[name] = Money.parse(text or "0", currency).minor
            if amounts[name] < 0:
                errors[name] = "must not be negative"
        except MoneyError as error:
            errors[name] = str(error)
    if errors:
        raise FieldErrors(errors)
    card = session.get(RateCard, vendor_id)
    before = audit.snapshot(card)
    card = card or RateCard(vendor_id=vendor_id, currency=currency)
    card.currency, card.flat_fee_minor, card.minimum_payout_minor = currency, amounts["flat_fee"], amounts["minimum_payout"]
    card.updated_at = utcnow()
    session.add(card)
    session.flush()
    audit.record(session, actor, "rate_card.save", "rate_card", vendor_id, before=before, after=card)
    return card


def _rate(text: str | None, name: str, errors: dict[str, str], limit: Decimal | None = None) -> Decimal | None:
    if text in (None, ""):
        return None
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        errors[name] = f"{text!r} is not a number"
        return None
    if not value.is_finite() or value < 0 or (limit is not None and value > limit):
        errors[name] = f"must be between 0 and {limit}" if limit is not None else "must not be negative"
    return value


def set_rate_rule(session: Session, actor: Actor, vendor_id: int, activity_type: str,
                  per_unit_rate: str | None = None, revenue_share_percent: str | None = None) -> RateRule:
    """Per-unit rates are in the rate card's major units and may have fractions of a cent."""
    require(actor, Action.VENDOR_UPDATE)
    get_vendor(session, vendor_id)
    errors: dict[str, str] = {}
    kind = activity_type.strip().lower()
    if not kind:
        errors["activity_type"] = "is required"
    rate = _rate(per_unit_rate, "per_unit_rate", errors)
    share = _rate(revenue_share_percent, "revenue_share_percent", errors, Decimal(100))
    if rate is None and share is None and not errors:
        errors["per_unit_rate"] = "give a rate per unit, a revenue share, or both"
    if session.get(RateCard, vendor_id) is None:
        errors["rate_card"] = "set the vendor's rate card (currency) first"
    if errors:
        raise FieldErrors(errors)
    rule = session.execute(select(RateRule).where(col(RateRule.vendor_id) == vendor_id,
                                                  col(RateRule.activity_type) == kind)).scalar_one_or_none()
    before = audit.snapshot(rule)
    rule = rule or RateRule(vendor_id=vendor_id, activity_type=kind)
    rule.per_unit_rate, rule.revenue_share_percent = rate, share
    session.add(rule)
    session.flush()
    audit.record(session, actor, "rate_rule.save", "rate_rule", rule.id, before=before, after=rule)
    return rule


def rates_of(session: Session, actor: Actor, vendor_id: int) -> tuple[RateCard | None, list[RateRule]]:
    """A vendor's rate card and rules, for the vendor card."""
    require(actor, Action.VENDOR_VIEW)
    rules = session.execute(select(RateRule).where(col(RateRule.vendor_id) == vendor_id)
                            .order_by(RateRule.activity_type)).scalars().all()
    return session.get(RateCard, vendor_id), list(rules)
