from __future__ import annotations

import asyncio

import reflex as rx

from vrm_dashboard.db.engine import session_scope
from vrm_dashboard.services.identity import auth
from vrm_dashboard.services.platform.errors import ServiceError
from vrm_dashboard.ui.screen_access import home_route
from vrm_dashboard.ui.states.session import SessionState


def _sign_in(email: str, password: str, client: str) -> auth.SignIn:
    with session_scope() as session:
        return auth.sign_in(session, email, password, client=client)


class LoginState(SessionState):
    email: str = ""
    password: str = ""
    error: str = ""

    @rx.event
    def set_email(self, value: str) -> None:
        self.email = value

    @rx.event
    def set_password(self, value: str) -> None:
        self.password = value

    @rx.event
    async def submit(self, form: dict | None = None):  # type: ignore[no-untyped-def]
        form = form if isinstance(form, dict) else {}  # a crafted event may send anything
        email = form.get("email", self.email)
        password = form.get("password", self.password)
        self.password = ""
        # The address Reflex took from the socket (or from trusted proxies' X-Forwarded-For).
        client = self.router.session.client_ip
        try:
            # The password-hash check is slow by design: in a worker thread, so every other
            # browser's events go on meanwhile (on the event loop they would all wait for it).
            result = await asyncio.to_thread(_sign_in, str(email), str(password), client)
        except ServiceError as exc:
            self.error = str(exc)
            return None
        self.error = ""
        self.token = result.token
        self._show_identity(result.actor)
        return rx.redirect(home_route(result.actor.actions))
