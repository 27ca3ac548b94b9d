"""Settings: how our invoices look and when each type is e-mailed (admins)."""
from __future__ import annotations

import reflex as rx

from vrm_dashboard.domain.distribution_rules import TRIGGER_LABELS, InvoiceType
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.distribution import branding
from vrm_dashboard.services.platform import settings as app_settings
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import FieldErrors, ServiceError
from vrm_dashboard.ui.states.session import SessionState, page_load
from vrm_dashboard.ui.uploads import file_name, read_within, upload_refusal

TRIGGER_OPTIONS = [(t.value, label) for t, label in TRIGGER_LABELS.items()]


class BrandingState(SessionState):
    fields: dict[str, str] = {}
    triggers: dict[str, str] = {}
    has_logo: bool = False
    branding_message: str = ""

    @rx.event
    @page_load
    def load(self, _actor: Actor) -> None:
        with self._acting(read_only=True) as (session, _actor):
            brand = branding.current(session)
            self.fields = {"company_name": brand.company_name, "address": "\n".join(brand.address_lines),
                           "contact_email": brand.contact_email, "colour": brand.colour, "terms": brand.terms}
            self.has_logo = brand.logo is not None
            self.triggers = dict(app_settings.get(session, app_settings.DISTRIBUTION_TRIGGERS))

    @rx.event
    def set_field(self, name: str, value: str) -> None:
        self.fields[name] = value

    @rx.event
    def set_trigger(self, invoice_type: str, value: str) -> None:
        self.triggers[invoice_type] = value

    @rx.event
    async def save(self, files: list[rx.UploadFile]):  # type: ignore[no-untyped-def]
        refused = upload_refusal(self, Action.ROLE_MANAGE)
        if refused:
            self.branding_message = refused
            return None
        logo = None
        if files:
            # No more is read than shows a logo too large: the service's own limit.
            content = await read_within(files[0], branding.MAX_LOGO_BYTES)
            if content is None:
                self.branding_message = f"The logo may be at most {branding.MAX_LOGO_BYTES // 1_000_000} MB"
                return None
            logo = (content, file_name(files[0], "logo.png"))
        try:
            with self._acting(Action.ROLE_MANAGE) as (session, actor):
                branding.update(session, actor, dict(self.fields), logo)
                app_settings.put(session, actor, app_settings.DISTRIBUTION_TRIGGERS,
                                 {t.value: self.triggers.get(t.value, "") for t in InvoiceType})
        except FieldErrors as exc:
            self.branding_message = "; ".join(exc.errors.values())
            return None
        except ServiceError as exc:
            self.branding_message = str(exc)
            return None
        self.branding_message = "Saved: new invoices use this branding."
        return BrandingState.load
