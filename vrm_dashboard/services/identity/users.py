"""User accounts, and whose accounts an admin administers.

A platform admin (platform.manage) administers every organization's accounts; an organization
admin those of its own organization only. The user table is read before anyone's scope is
known (signing in), so the tenancy hook does not filter it: user administration applies the
reach itself, through `in_reach`, and answers for an account out of reach as for a missing one.
"""
from __future__ import annotations

from collections.abc import Collection

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import ColumnElement, and_, false, or_, true
from sqlmodel import Session, col, func, select

from vrm_dashboard.db.models import Role, User, UserRole, Vendor, stored_id
from vrm_dashboard.db.tenancy import root_organization_id
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.identity.access_control import platform_roles, role_by_name
from vrm_dashboard.services.identity.passwords import hash_password, password_problem
from vrm_dashboard.services.platform import audit
from vrm_dashboard.services.platform.actors import Actor, require, scope_for
from vrm_dashboard.services.platform.errors import FieldErrors, PermissionDenied


def normalize_email(email: str) -> str:
    return validate_email(email.strip(), check_deliverability=False).normalized.lower()


def find_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(func.lower(User.email) == email.strip().lower())).first()


def reach(session: Session, actor: Actor) -> frozenset[int] | None:
    """The organizations whose accounts `actor` administers: None for every one (a platform
    admin, the system), else the actor's own, as its records' scope (actors.scope_for)."""
    return scope_for(session, actor).organizations


def in_reach(session: Session, actor: Actor) -> ColumnElement[bool]:
    """The users `actor` administers, as a WHERE condition on User. A staff account belongs to
    its organization (one in none, to the root's, as its records do); a vendor's login to the
    organization that pays the vendor."""
    organizations = reach(session, actor)
    if organizations is None:
        return true()
    if not organizations:
        return false()
    staff: ColumnElement[bool] = col(User.organization_id).in_(organizations)
    if root_organization_id(session) in organizations:
        staff = or_(staff, col(User.organization_id).is_(None))
    vendors = select(col(Vendor.id)).where(col(Vendor.owner_id).in_(organizations))
    return or_(and_(col(User.vendor_id).is_(None), staff), col(User.vendor_id).in_(vendors))


def check_grantable(session: Session, actor: Actor, roles: Collection[str]) -> None:
    """Only a platform admin gives a role that runs the whole installation: an organization
    admin who could would reach every organization through the account it gave it to."""
    if not actor.can(Action.PLATFORM_MANAGE) and set(roles) & platform_roles(session):
        raise PermissionDenied("Only a platform admin gives a role that runs the whole installation")


def _placement(session: Session, actor: Actor, organization_id: int | None, vendor_id: int | None) -> int | None:
    """The organization a new account goes to. An organization admin adds accounts to its own
    organization only, stamped from the admin rather than taken from input; an organization it
    does not run, or a vendor another organization pays, answers as one that does not exist."""
    scope = scope_for(session, actor)
    if scope.organizations is None:
        return organization_id
    if organization_id is not None and organization_id not in scope.organizations:
        raise FieldErrors({"organization_id": f"No organization {organization_id}"})
    if vendor_id is not None:
        payer = session.exec(select(Vendor.owner_id).where(col(Vendor.id) == vendor_id)).first()
        if payer is None or payer not in scope.organizations:
            raise FieldErrors({"vendor_id": f"No vendor {vendor_id}"})
        return organization_id
    return organization_id if organization_id is not None else scope.home


def add_user(
    session: Session,
    actor: Actor,
    email: str,
    full_name: str,
    password: str,
    roles: list[str],
    vendor_id: int | None = None,
    organization_id: int | None = None,
) -> User:
    """Create an active user with the given roles, in an organization the actor administers."""
    require(actor, Action.USER_MANAGE)
    organization_id = _placement(session, actor, organization_id, vendor_id)
    check_grantable(session, actor, roles)
    return create_account(session, actor, email, full_name, password, roles, vendor_id, organization_id)


def create_account(
    session: Session,
    actor: Actor,
    email: str,
    full_name: str,
    password: str,
    roles: list[str],
    vendor_id: int | None = None,
    organization_id: int | None = None,
) -> User:
    """The account itself; the caller has authorized it (an admin adding a user, a vendor's
    own login made by its invitation or sign-up)."""
    errors: dict[str, str] = {}
    try:
        email = normalize_email(email)
    except EmailNotValidError as exc:
        errors["email"] = f"E-mail is not valid: {exc}"
    if not errors and find_by_email(session, email):
        errors["email"] = f"A user with e-mail {email} already exists"
    if not full_name.strip():
        errors["full_name"] = "Name is required"
    problem = password_problem(password)
    if problem:
        errors["password"] = problem
    if not roles:
        errors["roles"] = "Give the user at least one role"
    role_rows = []
    for name in roles:
        try:
            role_rows.append(role_by_name(session, name))
        except Exception:
            errors["roles"] = f"No role named {name!r}"
    if errors:
        raise FieldErrors(errors)
    user = User(
        email=email,
        full_name=full_name.strip(),
        password_hash=hash_password(password),
        vendor_id=vendor_id,
        organization_id=organization_id,
    )
    session.add(user)
    session.flush()
    for role in role_rows:
        session.add(UserRole(user_id=stored_id(user), role_id=stored_id(role)))
    audit.record(session, actor, "user.create", "user", user.id,
                 after={**audit.snapshot(user), "roles": sorted(roles)})
    return user


def list_users(session: Session, actor: Actor, limit: int = 200) -> list[tuple[User, list[str]]]:
    """The users the actor administers, with their role names, by e-mail."""
    require(actor, Action.SETTINGS_VIEW)
    users = session.exec(select(User).where(in_reach(session, actor)).order_by(User.email).limit(limit)).all()
    roles: dict[int, list[str]] = {}
    for user_id, role_name in session.exec(
        select(UserRole.user_id, Role.name).join(Role, col(Role.id) == UserRole.role_id)
        .where(col(UserRole.user_id).in_([u.id for u in users]))
    ).all():
        roles.setdefault(user_id, []).append(role_name)
    return [(u, sorted(roles.get(stored_id(u), []))) for u in users]
