"""Administering users: invitations and password resets by signed, expiring link;
deactivation; roles and organization.

An organization admin administers its own organization's accounts (users.in_reach): another
organization's account answers as a missing one, and it neither moves accounts between
organizations, nor gives a role that runs the whole installation, nor touches the account of
someone who holds one. A platform admin does all of that, in every organization.

A link carries the user, its purpose, its expiry and a fingerprint of the user's current
password hash, signed with the secret key (services.platform.signed_tokens). Setting a password changes the hash, so a link
works once; nothing about it needs storing."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, select

from vrm_dashboard.config import settings
from vrm_dashboard.db.models import ApiKey, LoginSession, Organization, Role, User, UserRole, stored_id, utcnow
from vrm_dashboard.domain.permissions import Action, RoleName
from vrm_dashboard.services.identity import auth, users
from vrm_dashboard.services.identity.access_control import platform_roles, role_by_name
from vrm_dashboard.services.identity.passwords import hash_password, password_problem
from vrm_dashboard.services.mail import account_mail, settings as mail_settings
from vrm_dashboard.services.platform import audit, signed_tokens
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import (
    Conflict,
    FieldErrors,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from vrm_dashboard.services.receivables.organizations import CHILD_TIERS

INVITE, RESET = "invite", "reset"
LINK_LIFETIME = {INVITE: timedelta(days=7), RESET: timedelta(hours=24)}


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def link_token(user: User, purpose: str, now: datetime | None = None) -> str:
    return signed_tokens.make(purpose, [str(user.id), _fingerprint(user)], LINK_LIFETIME[purpose], now)


def _link(user: User, purpose: str) -> str:
    return f"{settings().public_url}/welcome?token={link_token(user, purpose)}"


def _mail_link(session: Session, user: User, purpose: str, link: str, inviter: str | None) -> None:
    """The link goes to the user's own mailbox; whoever made it may also pass it on. Without
    an inviter the user asked for the account (a vendor's sign-up)."""
    company = mail_settings.smtp(session).sender.split("@", 1)[1]
    if purpose == INVITE:
        subject = f"{inviter} invites you to VRM Dashboard" if inviter else "Confirm your VRM Dashboard sign-up"
        opening = (f"{inviter} has invited you to VRM Dashboard ({company})." if inviter
                   else f"thank you for signing up with VRM Dashboard ({company}).")
        body = (f"Hello {user.full_name},\n\n{opening}\n"
                f"Choose your password here (the link works once, for 7 days):\n\n{link}\n\n"
                "Then sign in with this e-mail address.\n")
    else:
        subject = "Choose a new password for VRM Dashboard"
        body = (f"Hello {user.full_name},\n\nchoose a new password here (the link works once, for 24 hours):"
                f"\n\n{link}\n\nIf you did not ask for this, tell your administrator.\n")
    account_mail.queue(session, user.email, subject, body)


def user_for_token(session: Session, token: str, now: datetime | None = None) -> tuple[User, str]:
    """The user and purpose of a valid link, or NotAuthenticated saying why it is not."""
    try:
        purpose, _expiry, (user_id, fingerprint) = signed_tokens.read(token, set(LINK_LIFETIME), now)
    except signed_tokens.ExpiredToken:
        raise NotAuthenticated("This link has expired: ask your administrator for a new one") from None
    except (signed_tokens.BadToken, ValueError):
        raise NotAuthenticated("This link is not valid: ask your administrator for a new one") from None
    user = session.get(User, int(user_id))
    if user is None or _fingerprint(user) != fingerprint:
        raise NotAuthenticated("This link was used already: sign in, or ask your administrator for a new one")
    if not user.is_active:
        raise NotAuthenticated("This account is deactivated")
    return user, purpose


@dataclass
class Invitation:
    user: User
    link: str


def invite(session: Session, actor: Actor, email: str, full_name: str, roles: list[str],
           organization_id: int | None = None, vendor_id: int | None = None) -> Invitation:
    """A new user who chooses a password through the link (valid 7 days); an organization
    admin's, in its own organization."""
    require(actor, Action.USER_MANAGE)
    if organization_id is not None and session.get(Organization, organization_id) is None:
        raise FieldErrors({"organization_id": f"No organization {organization_id}"})
    # Nobody knows this password: the link is the only way in.
    user = users.add_user(session, actor, email, full_name, secrets.token_urlsafe(32), roles,
                          vendor_id=vendor_id, organization_id=organization_id)
    return invitation_for(session, actor, user)


def invitation_for(session: Session, actor: Actor, user: User, self_service: bool = False) -> Invitation:
    """E-mail a new user the link to choose a password (the caller authorized the user)."""
    link = _link(user, INVITE)
    _mail_link(session, user, INVITE, link, None if self_service else actor.full_name)
    audit.record(session, actor, "user.invite", "user", user.id, after={"email": user.email})
    return Invitation(user, link)


def administered(session: Session, actor: Actor, user_id: int) -> User:
    """The account `actor` may act on for someone else (see _user): NotFound outside its reach."""
    return _user(session, actor, user_id)


def _user(session: Session, actor: Actor, user_id: int) -> User:
    """The account to change: one the actor administers, and, unless the actor runs the
    installation, not one that does (its owner would otherwise be a reset link away)."""
    user = session.exec(select(User).where(col(User.id) == user_id, users.in_reach(session, actor))).first()
    if user is None:
        raise NotFound(f"No user {user_id}")
    if not actor.can(Action.PLATFORM_MANAGE) and set(_role_names(session, stored_id(user))) & platform_roles(session):
        raise PermissionDenied("Only a platform admin changes a platform admin's account")
    return user


def reset_link(session: Session, actor: Actor, user_id: int) -> str:
    """A link (valid 24 hours) for the user to choose a new password."""
    require(actor, Action.USER_MANAGE)
    user = _user(session, actor, user_id)
    link = _link(user, RESET)
    _mail_link(session, user, RESET, link, actor.full_name)
    audit.record(session, actor, "user.password_reset_link", "user", user.id)
    return link


def choose_password(session: Session, token: str, password: str) -> User:
    """The user sets a password from an invitation or reset link; every other session of
    theirs ends, and the link stops working."""
    user, purpose = user_for_token(session, token)
    problem = password_problem(password)
    if problem:
        raise FieldErrors({"password": problem})
    user.password_hash = hash_password(password)
    # The link reached the owner's mailbox: guesses by others (the lock, the sign-in window)
    # keep them out no longer, so support's reset link restores access at once.
    auth.clear_failures(session, user)
    session.execute(update(LoginSession)
                    .where(col(LoginSession.user_id) == user.id, col(LoginSession.revoked_at).is_(None))
                    .values(revoked_at=utcnow()))
    me = Actor(user_id=user.id, email=user.email, full_name=user.full_name)
    audit.record(session, me, f"user.password_set_by_{purpose}", "user", user.id)
    return user


def set_active(session: Session, actor: Actor, user_id: int, active: bool) -> User:
    """Deactivating ends the user's sessions and API keys at once."""
    require(actor, Action.USER_MANAGE)
    user = _user(session, actor, user_id)
    if user.id == actor.user_id and not active:
        raise Conflict("You cannot deactivate yourself")
    if user.is_active == active:
        return user
    user.is_active = active
    session.add(user)
    if not active:
        now = utcnow()
        session.execute(update(LoginSession)
                        .where(col(LoginSession.user_id) == user.id, col(LoginSession.revoked_at).is_(None))
                        .values(revoked_at=now))
        session.execute(update(ApiKey).where(col(ApiKey.user_id) == user.id, col(ApiKey.revoked_at).is_(None))
                        .values(revoked_at=now))
    audit.record(session, actor, "user.activate" if active else "user.deactivate", "user", user.id,
                 before={"is_active": not active}, after={"is_active": active})
    return user


def set_roles(session: Session, actor: Actor, user_id: int, roles: list[str]) -> None:
    require(actor, Action.USER_MANAGE)
    user = _user(session, actor, user_id)
    if not roles:
        raise FieldErrors({"roles": "Give the user at least one role"})
    try:
        wanted = [role_by_name(session, name) for name in roles]
    except Exception:
        raise FieldErrors({"roles": f"Unknown role among {', '.join(roles)}"}) from None
    users.check_grantable(session, actor, roles)
    if user.id == actor.user_id:
        # Nobody locks themselves out of administering (or the installation out of its admin).
        admin_roles = {RoleName.PLATFORM_ADMIN.value, RoleName.ADMIN.value}
        if RoleName.PLATFORM_ADMIN.value in actor.roles and RoleName.PLATFORM_ADMIN.value not in roles:
            raise Conflict("You cannot take the platform admin role from yourself")
        if actor.roles & admin_roles and not admin_roles & set(roles):
            raise Conflict("You cannot take the admin role from yourself")
    before = sorted(_role_names(session, stored_id(user)))
    session.execute(delete(UserRole).where(col(UserRole.user_id) == user.id))
    for role in wanted:
        session.add(UserRole(user_id=stored_id(user), role_id=stored_id(role)))
    audit.record(session, actor, "user.roles", "user", user.id, before={"roles": before},
                 after={"roles": sorted(roles)})


def _role_names(session: Session, user_id: int) -> list[str]:
    return list(session.exec(select(Role.name).join(UserRole, col(UserRole.role_id) == Role.id)
                             .where(UserRole.user_id == user_id)).all())


def set_organization(session: Session, actor: Actor, user_id: int, organization_id: int | None) -> None:
    """Move an account to another organization: a platform admin's decision, as the account
    leaves one organization's admins for another's."""
    require(actor, Action.USER_MANAGE)
    user = _user(session, actor, user_id)
    if organization_id is not None and session.get(Organization, organization_id) is None:
        raise FieldErrors({"organization_id": f"No organization {organization_id}"})
    if organization_id != user.organization_id and not actor.can(Action.PLATFORM_MANAGE):
        reach = users.reach(session, actor) or frozenset()
        if organization_id is not None and organization_id not in reach:
            # As for a missing organization: another one is neither named nor confirmed.
            raise FieldErrors({"organization_id": f"No organization {organization_id}"})
        raise PermissionDenied("Only a platform admin moves users between organizations")
    before = user.organization_id
    user.organization_id = organization_id
    session.add(user)
    audit.record(session, actor, "user.organization", "user", user.id, before={"organization_id": before},
                 after={"organization_id": organization_id})


def organization_choices(session: Session, actor: Actor, also: set[int], limit: int = 500) -> list[tuple[int, str]]:
    """Organizations to put users in, by name: for a platform admin those that bill others
    (distributors and sellers), plus the ones in `also` (where the listed users are), never
    every customer; for an organization admin its own only."""
    require(actor, Action.SETTINGS_VIEW)
    reach = users.reach(session, actor)
    offered = (or_(col(Organization.tier).in_(list(CHILD_TIERS)), col(Organization.id).in_(also)) if reach is None
               else col(Organization.id).in_(reach))
    rows = session.execute(select(Organization.id, Organization.name)
                           .where(offered).order_by(Organization.name).limit(limit)).all()
    return [(int(i), n) for i, n in rows]
