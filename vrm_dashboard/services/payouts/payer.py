"""The account an organization pays its vendors from: its own when it set one (business settings,
per organization), else the installation's (VRM_PAYER_*, VRM_ACH_*)."""
from __future__ import annotations

from sqlmodel import Session

from vrm_dashboard.config import settings
from vrm_dashboard.rails.base import PayerAccount
from vrm_dashboard.services.platform import settings as app_settings


def payer_account(session: Session, organization_id: int) -> PayerAccount:
    installation = settings().payouts

    def own(key: str, fallback: str) -> str:
        return str(app_settings.get(session, key, organization_id) or "").strip() or fallback

    iban = own(app_settings.PAYER_IBAN, "")
    return PayerAccount(
        name=own(app_settings.PAYER_NAME, installation.payer_name),
        # An organization's own IBAN comes with its own BIC: never another account's BIC.
        iban=iban or installation.payer_iban,
        bic=own(app_settings.PAYER_BIC, "") if iban else own(app_settings.PAYER_BIC, installation.payer_bic),
        ach_company_id=own(app_settings.ACH_COMPANY_ID, installation.ach_company_id),
        ach_origin_routing=own(app_settings.ACH_ORIGIN_ROUTING, installation.ach_origin_routing),
        ach_destination_routing=installation.ach_destination_routing,
    )
