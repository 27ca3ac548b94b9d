"""Business settings kept in the database so an admin can change them without a release."""
from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from vrm_dashboard.db.models import AppSetting, utcnow
from vrm_dashboard.domain.approval_rules import DEFAULT_TWO_APPROVER_THRESHOLDS, threshold_minor
from vrm_dashboard.domain.money import MoneyError, check_currency
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services import audit
from vrm_dashboard.services.actors import Actor, require
from vrm_dashboard.services.errors import FieldErrors

TWO_APPROVER_THRESHOLDS = "approval.two_approver_thresholds"
RECONCILIATION_TOLERANCE_BPS = "reconciliation.tolerance_bps"

DEFAULTS: dict[str, Any] = {
    TWO_APPROVER_THRESHOLDS: DEFAULT_TWO_APPROVER_THRESHOLDS,
    # Amounts may differ from their source by up to 0.5% before an invoice is flagged.
    RECONCILIATION_TOLERANCE_BPS: 50,
}


def get(session: Session, key: str) -> Any:
    row = session.get(AppSetting, key)
    return json.loads(row.value) if row is not None else DEFAULTS[key]


def _check(key: str, value: Any) -> None:
    if key == TWO_APPROVER_THRESHOLDS:
        if not isinstance(value, dict):
            raise FieldErrors({key: "Give a threshold per currency, e.g. {\"EUR\": \"10000\"}"})
        for currency, amount in value.items():
            try:
                if currency != "*":
                    check_currency(currency)
                threshold_minor(currency if currency != "*" else "EUR", {currency: amount})
            except (MoneyError, ArithmeticError, ValueError) as exc:
                raise FieldErrors({key: f"{currency}: {exc}"}) from None
    elif key == RECONCILIATION_TOLERANCE_BPS:
        if not isinstance(value, int) or not 0 <= value <= 10_000:
            raise FieldErrors({key: "Tolerance is a whole number of basis points from 0 to 10000"})
    else:
        raise FieldErrors({key: "Unknown setting"})


def put(session: Session, actor: Actor, key: str, value: Any) -> None:
    require(actor, Action.SETTINGS_VIEW)
    require(actor, Action.ROLE_MANAGE)
    _check(key, value)
    before = get(session, key)
    row = session.get(AppSetting, key) or AppSetting(key=key, value="")
    row.value = json.dumps(value, sort_keys=True)
    row.updated_at = utcnow()
    row.updated_by_id = actor.user_id
    session.add(row)
    audit.record(session, actor, "setting.update", "setting", key, before={"value": before}, after={"value": value})
