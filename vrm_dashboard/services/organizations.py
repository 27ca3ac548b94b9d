"""Organizations and their payment terms (read side; editing arrives with the terms screen)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from vrm_dashboard.config import settings
from vrm_dashboard.db.models import Organization
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.actors import Actor, require


@dataclass
class OrganizationTerms:
    organization: Organization
    payment_terms_days: int
    uses_default: bool


def effective_terms(org: Organization) -> int:
    return org.payment_terms_days if org.payment_terms_days is not None else settings().default_payment_terms_days


def list_organizations(session: Session, actor: Actor, limit: int = 100) -> list[OrganizationTerms]:
    require(actor, Action.TERMS_VIEW)
    orgs = session.exec(select(Organization).order_by(Organization.id).limit(limit)).all()
    return [OrganizationTerms(o, effective_terms(o), o.payment_terms_days is None) for o in orgs]
