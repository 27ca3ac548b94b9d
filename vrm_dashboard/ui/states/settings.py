"""Settings: users (invite, deactivate, reset password, role and organization) and the
role x permission matrix (admins).

An organization admin sees and changes its own organization's users, and neither moves them
elsewhere, nor gives or touches a role that runs the installation, nor edits the matrix; the
screen offers only that, and the services refuse the rest whatever the browser sends."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from vrm_dashboard.domain.permissions import Action, RoleName
from vrm_dashboard.services.identity import access_control, user_admin, users
from vrm_dashboard.services.platform import connection_checks
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import ServiceError
from vrm_dashboard.ui import formatting as fmt
from vrm_dashboard.ui.states.session import SessionState, page_load

ROLE_OPTIONS = [r.value for r in RoleName]


@dataclass
class UserRow:
    """A user account on the Settings screen, with its role and organization."""

    id: str = ""
    email: str = ""
    name: str = ""
    roles: str = ""
    role: str = ""
    organization: str = ""
    organization_id: str = ""
    active: str = ""
    last_login: str = ""
    # False for a platform admin's account shown to an organization admin: read only.
    manageable: bool = True


@dataclass
class ConnectionRow:
    """How a mail server or connector answered the connection test."""

    name: str = ""
    target: str = ""
    result: str = ""
    message: str = ""


class SettingsState(SessionState):
    users: list[UserRow] = []
    role_columns: list[str] = []
    matrix: list[list[str]] = []
    can_manage_roles: bool = False
    can_manage_users: bool = False
    # Role grants and the mail servers are the installation's: platform admins only.
    can_manage_grants: bool = False
    can_manage_platform: bool = False
    role_options: list[str] = []
    message: str = ""
    user_message: str = ""
    invite_form: dict[str, str] = {"email": "", "name": "", "role": "viewer", "organization": "none"}
    organization_options: list[list[str]] = []
    connection_rows: list[ConnectionRow] = []

    @rx.event
    @page_load
    def load(self, actor: Actor) -> Any:
        self.can_manage_roles = actor.can(Action.ROLE_MANAGE)
        self.can_manage_users = actor.can(Action.USER_MANAGE)
        self.can_manage_platform = actor.can(Action.PLATFORM_MANAGE)
        self.can_manage_grants = self.can_manage_roles and self.can_manage_platform
        self._refresh()
        return None

    def _refresh(self) -> None:
        with self._acting(read_only=True) as (session, actor):
            self.role_columns, self.matrix = access_control.permission_matrix(session, actor)
            people = users.list_users(session, actor)
            orgs = user_admin.organization_choices(
                session, actor, {u.organization_id for u, _roles in people if u.organization_id is not None})
            # Roles an organization admin may neither give nor take (nor touch their holders).
            installation_roles = (set() if actor.can(Action.PLATFORM_MANAGE)
                                  else access_control.platform_roles(session))
        self.role_options = [r for r in ROLE_OPTIONS if r not in installation_roles]
        names = {str(i): n for i, n in orgs}
        self.organization_options = [["none", "No organization"], *[[str(i), n] for i, n in orgs]]
        self.users = [
            UserRow(id=str(u.id), email=u.email, name=u.full_name, roles=", ".join(roles),
                    role=roles[0] if roles else "", organization=names.get(str(u.organization_id), ""),
                    organization_id=str(u.organization_id) if u.organization_id is not None else "none",
                    active="Active" if u.is_active else "Deactivated", last_login=fmt.day(u.last_login_at),
                    manageable=not installation_roles & set(roles))
            for u, roles in people
        ]

    def _user_change(self, work) -> None:  # type: ignore[no-untyped-def]
        """Run `work(session, actor)`; its message, or why it was refused, and the list reloaded."""
        message, refused = self._outcome_of(work)
        self.user_message = refused if refused else message
        self._refresh()

    @rx.event
    def test_connections(self) -> None:
        """Try the mail servers and every connector now and show how each answered."""
        checks, refused = self._outcome_of(connection_checks.check_all)
        if checks is None:
            self.connection_rows = [ConnectionRow(name="—", result="Refused", message=refused)]
            return
        self.connection_rows = [ConnectionRow(name=c.name, target=c.target, result="OK" if c.ok else "Failed",
                                              message=c.message) for c in checks]

    @rx.event
    def set_invite_field(self, name: str, value: str) -> None:
        if name in self.invite_form:
            self.invite_form[name] = value

    @rx.event
    def invite(self) -> None:
        f = self.invite_form
        org = None if f["organization"] == "none" else int(f["organization"])

        def work(session, actor) -> str:  # type: ignore[no-untyped-def]
            sent = user_admin.invite(session, actor, f["email"], f["name"], [f["role"]], org)
            return (f"Invited {sent.user.email}: the link is e-mailed to them (valid 7 days). "
                    f"You may also pass it on yourself: {sent.link}")

        self._user_change(work)
        if self.user_message.startswith("Invited"):
            self.invite_form = {"email": "", "name": "", "role": "viewer", "organization": "none"}

    @rx.event
    def toggle_active(self, user_id: str) -> None:
        row = next((u for u in self.users if u.id == user_id), None)
        if row is None:
            return
        active, email = row.active != "Active", row.email

        def work(session, actor) -> str:  # type: ignore[no-untyped-def]
            user_admin.set_active(session, actor, int(user_id), active)
            return f"{email} is {'active again' if active else 'deactivated'}."

        self._user_change(work)

    @rx.event
    def reset_password(self, user_id: str) -> None:
        self._user_change(lambda session, actor: "A link to choose a new password is e-mailed (valid 24 hours); you may also pass it on: "
                          + user_admin.reset_link(session, actor, int(user_id)))

    @rx.event
    def set_role(self, user_id: str, role: str) -> None:
        def work(session, actor) -> str:  # type: ignore[no-untyped-def]
            user_admin.set_roles(session, actor, int(user_id), [role])
            return f"Role changed to {role.replace('_', ' ')}."

        self._user_change(work)

    @rx.event
    def set_user_organization(self, user_id: str, organization: str) -> None:
        org = None if organization == "none" else int(organization)

        def work(session, actor) -> str:  # type: ignore[no-untyped-def]
            user_admin.set_organization(session, actor, int(user_id), org)
            return "Organization changed."

        self._user_change(work)

    @rx.event
    def toggle_grant(self, role: str, action: str):  # type: ignore[no-untyped-def]
        """Give or take a permission; the service refuses anyone without role.manage and
        platform.manage."""
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
