"""What our invoices look like: company name, address, contact, colour, terms and logo,
kept as settings an admin changes on the Settings screen."""
from __future__ import annotations

from typing import Any

from sqlmodel import Session

from vrm_dashboard.config import settings
from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import Organization, StoredDocument
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.rendering.invoice_document import Branding
from vrm_dashboard.services.mail import settings as mail_settings
from vrm_dashboard.services.platform import documents, settings as cfg
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import FieldErrors

TEXT_SETTINGS = {"company_name": cfg.BRAND_NAME, "address": cfg.BRAND_ADDRESS, "contact_email": cfg.BRAND_CONTACT,
                 "colour": cfg.BRAND_COLOUR, "terms": cfg.BRAND_TERMS}
LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
MAX_LOGO_BYTES = 1_000_000


def current(session: Session, organization_id: int | None = None) -> Branding:
    """The branding of an organization's documents (the one given, or the one the session acts
    for): each organization's own letterhead, contact and terms."""
    organization = organization_id if organization_id is not None else _home(session)
    if organization is not None and organization != tenancy.root_organization_id(session):
        return _organizations_own(session, organization)

    def value(key: str) -> Any:
        return cfg.get(session, key, organization_id)

    logo_id = value(cfg.BRAND_LOGO)
    logo = session.get(StoredDocument, logo_id) if logo_id else None
    address = str(value(cfg.BRAND_ADDRESS) or "")
    return Branding(
        company_name=str(value(cfg.BRAND_NAME) or settings().payouts.payer_name),
        address_lines=tuple(line.strip() for line in address.splitlines() if line.strip()),
        contact_email=str(value(cfg.BRAND_CONTACT) or mail_settings.smtp(session).sender),
        colour=str(value(cfg.BRAND_COLOUR)),
        logo=logo.content if logo is not None else None,
        terms=str(value(cfg.BRAND_TERMS) or ""),
    )


def _home(session: Session) -> int | None:
    scope = tenancy.scope_of(session)
    return scope.home if scope is not None else None


def _organizations_own(session: Session, organization_id: int) -> Branding:
    """An organization below the installation's own writes under its own name: what it set, else
    its record (name, billing address and e-mail), never the installation's letterhead, logo or
    terms."""
    def own(key: str) -> Any:
        return cfg.own_value(session, key, organization_id)

    with tenancy.looking_past_scope(session):  # its own record, whoever sends its documents
        record = session.get(Organization, organization_id)
    logo_id = own(cfg.BRAND_LOGO)
    logo = session.get(StoredDocument, logo_id) if logo_id else None
    address = str(own(cfg.BRAND_ADDRESS) or (record.billing_address if record else "") or "")
    return Branding(
        company_name=str(own(cfg.BRAND_NAME) or (record.name if record else "")),
        address_lines=tuple(line.strip() for line in address.splitlines() if line.strip()),
        contact_email=str(own(cfg.BRAND_CONTACT) or (record.billing_email if record else "")
                          or mail_settings.smtp(session).sender),
        colour=str(cfg.get(session, cfg.BRAND_COLOUR, organization_id)),
        logo=logo.content if logo is not None else None,
        terms=str(own(cfg.BRAND_TERMS) or ""),
    )


def update(session: Session, actor: Actor, values: dict[str, str], logo: tuple[bytes, str] | None = None) -> None:
    """Change the branding; every value is checked before anything is saved."""
    require(actor, Action.ROLE_MANAGE)
    unknown = set(values) - set(TEXT_SETTINGS)
    if unknown:
        raise FieldErrors({name: "Unknown branding field" for name in unknown})
    if logo is not None:
        content, filename = logo
        content_type = next((t for magic, t in LOGO_TYPES.items() if content.startswith(magic)), None)
        if content_type is None:
            raise FieldErrors({"logo": "The logo must be a PNG or JPEG image"})
        if len(content) > MAX_LOGO_BYTES:
            raise FieldErrors({"logo": "The logo may be at most 1 MB"})
    for name, value in values.items():
        cfg.check(TEXT_SETTINGS[name], value.strip())
    for name, value in values.items():
        cfg.put(session, actor, TEXT_SETTINGS[name], value.strip())
    if logo is not None:
        assert content_type is not None, "a logo of no known type was refused above"
        stored = documents.store(session, logo[0], logo[1] or "logo", content_type)
        cfg.put(session, actor, cfg.BRAND_LOGO, stored.id)
