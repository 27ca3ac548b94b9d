"""Settings: users and the role x permission matrix (admins)."""
from __future__ import annotations

import reflex as rx

from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services import access_control, users
from vrm_dashboard.services.errors import ServiceError
from vrm_dashboard.ui import formatting as fmt
from vrm_dashboard.ui.states.session import SessionState


class SettingsState(SessionState):
    users: list[dict[str, str]] = []
    role_columns: list[str] = []
    matrix: list[list[str]] = []
    can_manage_roles: bool = False
    message: str = ""

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        actor = self._enter_page(Action.SETTINGS_VIEW)
        if actor is None:
            return None if self.denied else rx.redirect("/login")
        self.can_manage_roles = actor.can(Action.ROLE_MANAGE)
        self._refresh()
        return None

    def _refresh(self) -> None:
        with self._acting(read_only=True) as (session, actor):
            self.role_columns, self.matrix = access_control.permission_matrix(session, actor)
            people = users.list_users(session, actor)
        self.users = [
            {"email": u.email, "name": u.full_name, "roles": ", ".join(roles),
             "active": "Active" if u.is_active else "Deactivated", "last_login": fmt.day(u.last_login_at)}
            for u, roles in people
        ]

    @rx.event
    def toggle_grant(self, role: str, action: str):  # type: ignore[no-untyped-def]
        """Give or take a permission; the service refuses anyone without role.manage."""
        try:
            target = Action(action)
            with self._acting() as (session, actor):
                granted = access_control.is_granted(session, role, target)
                access_control.set_grant(session, actor, role, target, not granted)
        except (ServiceError, ValueError) as exc:
            self.message = str(exc)
            return None
        self.message = ""
        self._refresh()
        return None
