"""A vendor asks to join: no sign-in; the link to choose a password goes to its mailbox."""
from __future__ import annotations

import asyncio

import reflex as rx

from vrm_dashboard.db.engine import session_scope
from vrm_dashboard.services.platform.errors import FieldErrors, ServiceError
from vrm_dashboard.services.vendors import onboarding as vendor_onboarding

_FIELDS = {"name": "company", "legal_name": "company", "email": "email", "country": "country",
           "currency": "currency", "contact_name": "contact_name", "vendor_code": "company"}


def _sign_up(value: dict[str, str], client: str) -> None:
    with session_scope() as session:
        vendor_onboarding.sign_up(session, value["company"], value["contact_name"], value["email"],
                                  value["country"], value["currency"], client=client)


class SignupState(rx.State):
    errors: dict[str, str] = {}
    error: str = ""
    done: bool = False

    @rx.event
    async def submit(self, form: dict) -> None:
        form = form if isinstance(form, dict) else {}  # a crafted event may send anything
        value = {k: str(form.get(k, "")).strip() for k in ("company", "contact_name", "email", "country", "currency")}
        try:
            # A sign-up hashes the new account's placeholder password: in a worker thread, so other
            # browsers' events go on meanwhile.
            await asyncio.to_thread(_sign_up, value, self.router.session.client_ip)
        except FieldErrors as exc:
            self.errors = {_FIELDS.get(k, k): v for k, v in exc.errors.items()}
            self.error = "Please correct the fields marked."
            return
        except ServiceError as exc:
            self.errors, self.error = {}, str(exc)
            return
        self.errors, self.error, self.done = {}, "", True
