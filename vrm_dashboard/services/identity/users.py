"""User accounts."""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session, col, func, select

from vrm_dashboard.db.models import Role, User, UserRole, stored_id
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.identity.access_control import role_by_name
from vrm_dashboard.services.identity.passwords import hash_password, password_problem
from vrm_dashboard.services.platform import audit
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import FieldErrors


def normalize_email(email: str) -> str:
    return validate_email(email.strip(), check_deliverability=False).normalized.lower()


def find_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(func.lower(User.email) == email.strip().lower())).first()


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
    """Create an active user with the given roles."""
    require(actor, Action.USER_MANAGE)
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
    """Users with their role names, by e-mail."""
    require(actor, Action.SETTINGS_VIEW)
    users = session.exec(select(User).order_by(User.email).limit(limit)).all()
    roles: dict[int, list[str]] = {}
    for user_id, role_name in session.exec(
        select(UserRole.user_id, Role.name).join(Role, col(Role.id) == UserRole.role_id)
        .where(col(UserRole.user_id).in_([u.id for u in users]))
    ).all():
        roles.setdefault(user_id, []).append(role_name)
    return [(u, sorted(roles.get(stored_id(u), []))) for u in users]
