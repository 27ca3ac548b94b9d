"""Business settings kept in the database so an admin can change them without a release.

Some settings are the installation's by nature (INSTALLATION_WIDE): only a platform admin
changes them. The others are business settings: each organization's admin sets its own
(role.manage), and an organization that never set one has the installation's value, which the
platform admin sets."""
from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from sqlalchemy import select
from sqlmodel import Session, col

from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import AppSetting, Organization, OrganizationSetting, utcnow
from vrm_dashboard.domain.approval_rules import DEFAULT_TWO_APPROVER_THRESHOLDS, threshold_minor
from vrm_dashboard.domain.collection_rules import DEFAULT_REMINDER_DAYS, ScheduleError, parse_schedule
from vrm_dashboard.domain.distribution_rules import DEFAULT_TRIGGERS, InvoiceType, Trigger
from vrm_dashboard.domain.money import MoneyError, check_currency
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.platform import audit
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import FieldErrors

TWO_APPROVER_THRESHOLDS = "approval.two_approver_thresholds"
RECONCILIATION_TOLERANCE_BPS = "reconciliation.tolerance_bps"
PAYOUT_APPROVAL_ENABLED = "payouts.approval_enabled"
PAYOUT_APPROVAL_THRESHOLDS = "payouts.approval_thresholds"
PAY_IMMEDIATELY = "payouts.pay_immediately"
COOLING_OFF_HOURS = "payouts.cooling_off_hours"
MAX_RATE_AGE_DAYS = "payouts.max_rate_age_days"
MAX_RATE_JUMP_PERCENT = "payouts.max_rate_jump_percent"
DISTRIBUTION_TRIGGERS = "distribution.triggers"
DISTRIBUTION_SINCE = "distribution.since"
BRAND_NAME = "branding.company_name"
BRAND_ADDRESS = "branding.address"
BRAND_CONTACT = "branding.contact_email"
BRAND_COLOUR = "branding.colour"
BRAND_TERMS = "branding.terms"
BRAND_LOGO = "branding.logo_document_id"
REMINDER_DAYS = "collection.reminder_days"
COLLECTOR_FAILURE_PERCENT = "collection.sandbox_failure_percent"
SOD_INVOICE_APPROVAL = "controls.sod_invoice_approval"
SOD_PAYOUT_APPROVAL = "controls.sod_payout_approval"
# The account an organization's payment files pay from ("": the installation's, VRM_PAYER_*).
PAYER_NAME = "payouts.payer_name"
PAYER_IBAN = "payouts.payer_iban"
PAYER_BIC = "payouts.payer_bic"
ACH_COMPANY_ID = "payouts.ach_company_id"
ACH_ORIGIN_ROUTING = "payouts.ach_origin_routing"
PAYER_ACCOUNT = (PAYER_NAME, PAYER_IBAN, PAYER_BIC, ACH_COMPANY_ID, ACH_ORIGIN_ROUTING)

# Settings of the installation, not of a business: when distribution began, how old the shared
# exchange rates may be, and how the sandbox collector behaves.
INSTALLATION_WIDE = frozenset({DISTRIBUTION_SINCE, MAX_RATE_AGE_DAYS, MAX_RATE_JUMP_PERCENT,
                               COLLECTOR_FAILURE_PERCENT})

DEFAULTS: dict[str, Any] = {
    TWO_APPROVER_THRESHOLDS: DEFAULT_TWO_APPROVER_THRESHOLDS,
    # Amounts may differ from their source by up to 0.5% before an invoice is flagged.
    RECONCILIATION_TOLERANCE_BPS: 50,
    # The payout approval flow is off until a team turns it on; when on, payouts above the
    # threshold of their currency wait for a payout approver ("0": every payout).
    PAYOUT_APPROVAL_ENABLED: False,
    PAYOUT_APPROVAL_THRESHOLDS: {"*": "0"},
    # Off: a payout is paid on its invoice's due date; on: as soon as it is cleared.
    PAY_IMMEDIATELY: False,
    # After a vendor's bank details change its payouts wait this long (fraud control).
    COOLING_OFF_HOURS: 72,
    # The newest exchange rate may be this old when a payout converts currency; the
    # transaction records the rate's day either way.
    MAX_RATE_AGE_DAYS: 45,
    # An imported rate may move this far from the previous rate of its currency (up to 1.2 times
    # it, or down to 1/1.2 of it, at 20); a larger jump is stored only when a person confirms it.
    # Reference rates of the major currencies rarely move 5% in a month.
    MAX_RATE_JUMP_PERCENT: 20,
    # Per invoice type, what must hold before its invoice is e-mailed.
    DISTRIBUTION_TRIGGERS: DEFAULT_TRIGGERS,
    # Invoices last changed before this moment (ISO) are history, never e-mailed: set when
    # distribution was installed, so an upgrade does not mail every old invoice.
    DISTRIBUTION_SINCE: None,
    # What our invoices look like. An empty name prints the payer name (VRM_PAYER_NAME).
    BRAND_NAME: "",
    BRAND_ADDRESS: "",
    BRAND_CONTACT: "",
    BRAND_COLOUR: "#1F4E79",
    BRAND_TERMS: "Payment is due within the agreed terms. Please quote the invoice number with every payment.",
    BRAND_LOGO: None,
    # Days from the due date (negative: before it) on which a customer is reminded.
    REMINDER_DAYS: DEFAULT_REMINDER_DAYS,
    # The sandbox collector declines this share of charges (besides its test amounts).
    COLLECTOR_FAILURE_PERCENT: 0,
    # Segregation of duties: whoever submitted or last edited an invoice may not approve it;
    # whoever approved, submitted or edited an invoice may not approve its payout.
    SOD_INVOICE_APPROVAL: True,
    SOD_PAYOUT_APPROVAL: True,
    **{key: "" for key in PAYER_ACCOUNT},
}


def _installation_value(session: Session, key: str) -> Any:
    row = session.get(AppSetting, key)
    return json.loads(row.value) if row is not None else DEFAULTS[key]


def _home(session: Session) -> int | None:
    scope = tenancy.scope_of(session)
    return scope.home if scope is not None else None


def own_value(session: Session, key: str, organization_id: int) -> Any | None:
    """The organization's own value of a business setting; None when it set none."""
    own = session.execute(select(col(OrganizationSetting.value)).where(
        col(OrganizationSetting.owner_id) == organization_id, col(OrganizationSetting.key) == key)).scalar()
    return json.loads(own) if own is not None else None


def get(session: Session, key: str, organization_id: int | None = None) -> Any:
    """A setting's value. A business setting is the organization's own (the one given, or the
    one the session acts for) when it set one, else the installation's; a job acting for the
    system names the organization whose records it handles."""
    if key not in INSTALLATION_WIDE:
        organization = organization_id if organization_id is not None else _home(session)
        if organization is not None:
            own = session.execute(select(col(OrganizationSetting.value)).where(
                col(OrganizationSetting.owner_id) == organization, col(OrganizationSetting.key) == key)).scalar()
            if own is not None:
                return json.loads(own)
    return _installation_value(session, key)


def by_organization(session: Session, key: str) -> tuple[Any, dict[int, Any]]:
    """The installation's value of a business setting and every organization's own, for a job
    that handles the records of all of them at once, or a check that must spare all of them
    (a logo another organization uses)."""
    with tenancy.looking_past_scope(session):  # every organization's, whoever asks: read, never shown
        own = {owner: json.loads(value) for owner, value in session.execute(
            select(col(OrganizationSetting.owner_id), col(OrganizationSetting.value))
            .where(col(OrganizationSetting.key) == key)).all()}
    return _installation_value(session, key), own


def _check_payer_account(key: str, value: Any) -> None:
    if not isinstance(value, str) or len(value) > 70:
        raise FieldErrors({key: "Up to 70 characters of text"})
    text = value.strip()
    if not text:
        return  # the installation's
    try:
        if key == PAYER_IBAN:
            IBAN(text)
        elif key == PAYER_BIC:
            BIC(text)
    except SchwiftyException as exc:
        raise FieldErrors({key: str(exc)}) from None
    if key == ACH_ORIGIN_ROUTING and not (text.isdigit() and len(text) == 9):
        raise FieldErrors({key: "A routing number is 9 digits"})
    if key == ACH_COMPANY_ID and len(text) > 10:
        raise FieldErrors({key: "An ACH company ID is at most 10 characters"})


def check(key: str, value: Any) -> None:
    """Raise FieldErrors naming the setting when the value is not acceptable."""
    if key in (TWO_APPROVER_THRESHOLDS, PAYOUT_APPROVAL_THRESHOLDS):
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
    elif key in (PAYOUT_APPROVAL_ENABLED, PAY_IMMEDIATELY, SOD_INVOICE_APPROVAL, SOD_PAYOUT_APPROVAL):
        if not isinstance(value, bool):
            raise FieldErrors({key: "Choose on or off"})
    elif key == COOLING_OFF_HOURS:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 24 * 60:
            raise FieldErrors({key: "Cooling-off is a whole number of hours from 0 to 1440"})
    elif key == MAX_RATE_AGE_DAYS:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 366:
            raise FieldErrors({key: "The rate age is a whole number of days from 0 to 366"})
    elif key == MAX_RATE_JUMP_PERCENT:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
            raise FieldErrors({key: "The rate jump is a whole percentage from 1 to 1000"})
    elif key == DISTRIBUTION_TRIGGERS:
        known = {t.value for t in Trigger}
        if not isinstance(value, dict) or set(value) - {t.value for t in InvoiceType} \
                or any(v not in known for v in value.values()):
            raise FieldErrors({key: "Give a trigger per invoice type: " + ", ".join(sorted(known))})
    elif key == DISTRIBUTION_SINCE:
        try:
            datetime.fromisoformat(str(value))
        except ValueError:
            raise FieldErrors({key: "A moment in ISO form, e.g. 2026-11-23T00:00:00+00:00"}) from None
    elif key == BRAND_COLOUR:
        if not isinstance(value, str) or not re.fullmatch(r"#[0-9A-Fa-f]{6}", value):
            raise FieldErrors({key: "A colour is written #RRGGBB, e.g. #1F4E79"})
    elif key in (BRAND_NAME, BRAND_ADDRESS, BRAND_CONTACT, BRAND_TERMS):
        if not isinstance(value, str) or len(value) > 600:
            raise FieldErrors({key: "Up to 600 characters of text"})
    elif key == BRAND_LOGO:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise FieldErrors({key: "A stored document id, or nothing"})
    elif key == REMINDER_DAYS:
        try:
            if parse_schedule(value) != value:
                raise ScheduleError("List the days in order, e.g. [-7, 1, 7, 21]")
        except ScheduleError as exc:
            raise FieldErrors({key: str(exc)}) from None
    elif key in PAYER_ACCOUNT:
        _check_payer_account(key, value)
    elif key == COLLECTOR_FAILURE_PERCENT:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            raise FieldErrors({key: "A whole percentage from 0 to 100"})
    else:
        raise FieldErrors({key: "Unknown setting"})


def put(session: Session, actor: Actor, key: str, value: Any, organization_id: int | None = None) -> None:
    """Change a setting. An installation-wide one, and the installation's value of a business
    setting, are the platform admin's; an organization's admin changes its own organization's
    business settings, which reach no other organization. A platform admin may also set one
    organization's value (`organization_id`), and alone sets which account an organization's
    payment files pay from: an organization's admin could name any account there."""
    require(actor, Action.SETTINGS_VIEW)
    check(key, value)
    platform_only = key in INSTALLATION_WIDE or key in PAYER_ACCOUNT or organization_id is not None
    require(actor, Action.PLATFORM_MANAGE if platform_only else Action.ROLE_MANAGE)
    organization = organization_id
    if organization_id is not None:
        if key in INSTALLATION_WIDE:
            raise FieldErrors({key: "This setting is the installation's, not an organization's"})
        with tenancy.looking_past_scope(session):  # a platform admin's, who reaches every organization
            if session.get(Organization, organization_id) is None:
                raise FieldErrors({"organization": f"No organization {organization_id}"})
    elif key not in INSTALLATION_WIDE and not actor.can(Action.PLATFORM_MANAGE):
        organization = actor.organization_id if actor.organization_id is not None else _home(session)
    stored = json.dumps(value, sort_keys=True)
    row: AppSetting | OrganizationSetting | None
    if organization is None:
        # An installation-wide setting, a platform admin's, or an account of no organization
        # (the installation's own, from before organizations): the installation's value.
        before = _installation_value(session, key)
        row = session.get(AppSetting, key) or AppSetting(key=key, value="")
    else:
        before = get(session, key, organization)
        row = session.get(OrganizationSetting, (organization, key)) or OrganizationSetting(
            owner_id=organization, key=key, value="")
    row.value = stored
    row.updated_at = utcnow()
    row.updated_by_id = actor.user_id
    session.add(row)
    session.flush()
    if organization is None:
        audit.record(session, actor, "setting.update", "setting", key, before={"value": before},
                     after={"value": value, "for": "installation"})
        return
    # In the organization's own log, also when a platform admin set it.
    with tenancy.acting_for(session, organization):
        audit.record(session, actor, "setting.update", "setting", key, before={"value": before},
                     after={"value": value, "for": "organization"})


def put_many(session: Session, actor: Actor, values: dict[str, Any]) -> list[str]:
    """Save several settings at once, all or none (the caller's unit of work); the keys that
    changed."""
    changed = [key for key, value in values.items() if get(session, key) != value]
    for key in values:
        check(key, values[key])
    for key in changed:
        put(session, actor, key, values[key])
    return changed
