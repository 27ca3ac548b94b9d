"""Choosing a password from an invitation or reset link (no sign-in needed: the link is it)."""
from __future__ import annotations

import reflex as rx

from vrm_dashboard.db.engine import session_scope
from vrm_dashboard.services.identity import user_admin
from vrm_dashboard.services.platform.errors import FieldErrors, ServiceError


class WelcomeState(rx.State):
    email: str = ""
    error: str = ""
    done: bool = False

    def _token(self) -> str:
        return str(self.router.page.params.get("token", ""))

    @rx.event
    def load(self) -> None:
        self.error, self.done = "", False
        try:
            with session_scope(read_only=True) as session:
                user, _purpose = user_admin.user_for_token(session, self._token())
                self.email = user.email
        except ServiceError as exc:
            self.email, self.error = "", str(exc)

    @rx.event
    def submit(self, form: dict) -> None:
        password, again = str(form.get("password", "")), str(form.get("again", ""))
        if password != again:
            self.error = "The two passwords differ"
            return
        try:
            with session_scope() as session:
                user_admin.choose_password(session, self._token(), password)
        except FieldErrors as exc:
            self.error = "; ".join(exc.errors.values())
            return
        except ServiceError as exc:
            self.error = str(exc)
            return
        self.error, self.done = "", True
