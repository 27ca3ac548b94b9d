"""Roles and permissions as data: the catalogue is installed once, then edited by platform
admins. A role's grants are one row set for the whole installation, so changing them reaches
every organization: an organization admin may not."""
from __future__ import annotations

from sqlmodel import Session, col, select

from vrm_dashboard.db.models import Permission, Role, RolePermission, stored_id
from vrm_dashboard.domain.permissions import (
    ACTION_DESCRIPTIONS,
    DEFAULT_GRANTS,
    ROLE_DESCRIPTIONS,
    Action,
    RoleName,
)
from vrm_dashboard.services.platform import audit
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import NotFound


def install_catalogue(session: Session) -> None:
    """Create missing permissions and roles; a role created here gets its default grants.

    Existing roles keep whatever an admin made of them: re-running never re-grants. An action
    new in this release is granted once, as it is created, to the built-in roles that have it
    by default, so an upgrade does not take a new feature away from the people it is for.
    """
    permissions = {p.action: p for p in session.exec(select(Permission)).all()}
    new_actions = []
    for action in Action:
        if action.value not in permissions:
            permission = Permission(action=action.value, description=ACTION_DESCRIPTIONS[action])
            session.add(permission)
            permissions[action.value] = permission
            new_actions.append(action)
    roles = {r.name: r for r in session.exec(select(Role)).all()}
    session.flush()
    for action in new_actions:
        for role_name, granted in DEFAULT_GRANTS.items():
            if action in granted and role_name.value in roles:
                session.add(RolePermission(role_id=stored_id(roles[role_name.value]),
                                           permission_id=stored_id(permissions[action.value])))
    for role_name in RoleName:
        if role_name.value in roles:
            continue
        role = Role(name=role_name.value, description=ROLE_DESCRIPTIONS[role_name])
        session.add(role)
        session.flush()
        for action in DEFAULT_GRANTS[role_name]:
            session.add(RolePermission(role_id=stored_id(role), permission_id=stored_id(permissions[action.value])))
    session.flush()


def role_by_name(session: Session, name: str) -> Role:
    role = session.exec(select(Role).where(Role.name == name)).first()
    if role is None:
        raise NotFound(f"No role named {name!r}")
    return role


def set_grant(session: Session, actor: Actor, role_name: str, action: Action, granted: bool) -> None:
    """Give or take one permission from a role, in every organization at once."""
    require(actor, Action.ROLE_MANAGE)
    require(actor, Action.PLATFORM_MANAGE)
    role = role_by_name(session, role_name)
    permission = session.exec(select(Permission).where(Permission.action == action.value)).one()
    existing = session.get(RolePermission, (role.id, permission.id))
    if granted and existing is None:
        session.add(RolePermission(role_id=stored_id(role), permission_id=stored_id(permission)))
    elif not granted and existing is not None:
        session.delete(existing)
    else:
        return
    audit.record(
        session, actor, "role.grant" if granted else "role.revoke", "role", role.name,
        before={"action": action.value, "granted": not granted},
        after={"action": action.value, "granted": granted},
    )


def permission_matrix(session: Session, actor: Actor) -> tuple[list[str], list[list[str]]]:
    """Role names, and per action: [action, description, "yes" or "" for each role]."""
    require(actor, Action.SETTINGS_VIEW)
    roles = session.exec(select(Role).order_by(col(Role.id))).all()
    permissions = session.exec(select(Permission).order_by(Permission.action)).all()
    grants = {(rp.role_id, rp.permission_id) for rp in session.exec(select(RolePermission)).all()}
    matrix = [
        [p.action, p.description, *("yes" if (r.id, p.id) in grants else "" for r in roles)]
        for p in permissions
    ]
    return [r.name for r in roles], matrix


def platform_roles(session: Session) -> set[str]:
    """The roles that run the whole installation: those granted platform.manage (by data, so a
    role a platform admin made so counts too)."""
    return set(session.exec(
        select(Role.name).join(RolePermission, col(RolePermission.role_id) == Role.id)
        .join(Permission, col(Permission.id) == RolePermission.permission_id)
        .where(Permission.action == Action.PLATFORM_MANAGE.value)).all())


def is_granted(session: Session, role_name: str, action: Action) -> bool:
    role = role_by_name(session, role_name)
    permission = session.exec(select(Permission).where(Permission.action == action.value)).one()
    return session.get(RolePermission, (role.id, permission.id)) is not None
