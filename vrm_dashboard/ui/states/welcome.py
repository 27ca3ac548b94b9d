"""Choosing a password from an invitation or reset link (no sign-in needed: the link is it)."""
from __future__ import annotations

import asyncio

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
    async def submit(self, form: dict) -> None:
        form = form if isinstance(form, dict) else {}  # a crafted event may send anything
        password, again = str(form.get("password", "")), str(form.get("again", ""))
        if password != again:
            self.error = "The two passwords differ"
            return
        token = self._token()

        def choose() -> None:
            with session_scope() as session:
                user_admin.choose_password(session, token, password)

        try:
            # Hashing the new password takes a good part of a second: in a worker thread, so
            # every other browser's events go on meanwhile.
            await asyncio.to_thread(choose)
        except FieldErrors as exc:
            self.error = "; ".join(exc.errors.values())
            return
        except ServiceError as exc:
            self.error = str(exc)
            return
        self.error, self.done = "", True
