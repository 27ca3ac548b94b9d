"""The account an organization pays its vendors from: its own, which a platform admin sets
(business settings per organization: `vrm setting payouts.payer_iban '"DE.."' --organization N`).
The installation's own organization (the root) pays from the installation's (VRM_PAYER_*,
VRM_ACH_*) when it set none; another organization never does: its files are not built until it
has its own."""
from __future__ import annotations

from sqlmodel import Session

from vrm_dashboard.config import settings
from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import Organization
from vrm_dashboard.domain.payout_rules import Rail
from vrm_dashboard.rails.base import PayerAccount
from vrm_dashboard.services.platform import settings as app_settings


def payer_account(session: Session, organization_id: int) -> PayerAccount:
    root = organization_id == tenancy.root_organization_id(session)
    installation = settings().payouts

    def own(key: str, fallback: str) -> str:
        return str(app_settings.get(session, key, organization_id) or "").strip() or (fallback if root else "")

    with tenancy.looking_past_scope(session):  # the payer's own name, whoever runs the files
        organization = session.get(Organization, organization_id)
    name = installation.payer_name if root or organization is None else organization.name
    iban = own(app_settings.PAYER_IBAN, installation.payer_iban)
    return PayerAccount(
        name=str(app_settings.get(session, app_settings.PAYER_NAME, organization_id) or "").strip() or name,
        iban=iban,
        # An organization's own IBAN comes with its own BIC: never another account's BIC.
        bic=str(app_settings.get(session, app_settings.PAYER_BIC, organization_id) or "").strip() or (
            installation.payer_bic if root and iban == installation.payer_iban else ""),
        ach_company_id=own(app_settings.ACH_COMPANY_ID, installation.ach_company_id),
        ach_origin_routing=own(app_settings.ACH_ORIGIN_ROUTING, installation.ach_origin_routing),
        ach_destination_routing=installation.ach_destination_routing,
    )


def missing_account(rail: str, payer: PayerAccount) -> str | None:
    """Why the payer cannot pay by this file rail (it has no account of its own for it), if so."""
    if rail == Rail.SEPA.value and not payer.iban:
        lacking = "payouts.payer_iban"
    elif rail == Rail.ACH.value and not (payer.ach_company_id and payer.ach_origin_routing):
        lacking = "payouts.ach_company_id and payouts.ach_origin_routing"
    else:
        return None
    return (f"{payer.name} has no account of its own to pay from: a platform admin sets {lacking} "
            "for the organization, then retries")
