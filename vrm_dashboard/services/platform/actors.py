"""Who is acting, with the permissions they hold right now, and the one guard that checks them."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from vrm_dashboard.db.models import Permission, Role, RolePermission, User, UserRole, Vendor
from vrm_dashboard.db.tenancy import NOBODY, Scope, looking_past_scope, owner, root_organization_id, scope_to
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.platform.errors import NotAuthenticated, PermissionDenied


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    email: str
    full_name: str
    roles: frozenset[str] = field(default_factory=frozenset)
    actions: frozenset[str] = field(default_factory=frozenset)
    vendor_id: int | None = None
    organization_id: int | None = None

    @property
    def label(self) -> str:
        return self.email

    def can(self, action: Action) -> bool:
        return action.value in self.actions

    @classmethod
    def system(cls, job: str) -> "Actor":
        """The scheduler acting on its own schedule: audited under the job's name."""
        return cls(user_id=None, email=f"system:{job}", full_name=f"Scheduler ({job})",
                   roles=frozenset({"system"}), actions=frozenset(a.value for a in Action))


def require(actor: Actor | None, action: Action) -> Actor:
    """The guard every state-changing handler and API route calls first."""
    if actor is None:
        raise NotAuthenticated("Please sign in")
    if not actor.can(action):
        raise PermissionDenied(f"Your role does not allow this ({action.value})")
    return actor


def load_actor(session: Session, user_id: int) -> Actor | None:
    """The user's current roles and permissions, read fresh so a revoked grant bites at once."""
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        return None
    rows = session.exec(
        select(Role.name, Permission.action)
        .select_from(UserRole)
        .join(Role, col(Role.id) == UserRole.role_id)
        .join(RolePermission, col(RolePermission.role_id) == Role.id, isouter=True)
        .join(Permission, col(Permission.id) == RolePermission.permission_id, isouter=True)
        .where(col(UserRole.user_id) == user_id)
    ).all()
    roles = frozenset(r for r, _ in rows)
    actions = frozenset(a for _, a in rows if a)
    return Actor(
        user_id=user.id,
        email=user.email,
        full_name=user.full_name,
        roles=roles,
        actions=actions,
        vendor_id=user.vendor_id,
        organization_id=user.organization_id,
    )


def scope_for(session: Session, actor: Actor) -> Scope:
    """Whose records the actor reaches: the system and a platform admin every organization's;
    staff their own organization's (an account in none, the root's); a vendor's user its payer's,
    where the portal's own rules narrow it to the vendor's records."""
    if actor.user_id is None and "system" in actor.roles:
        return Scope.everything()
    home = actor.organization_id
    if actor.vendor_id is not None:
        # The vendor is read to learn the scope, so before the session has one.
        with looking_past_scope(session):
            vendor = session.get(Vendor, actor.vendor_id)
        if vendor is None:
            return NOBODY
        return Scope.of(owner(vendor))
    if home is None:
        with looking_past_scope(session):
            home = root_organization_id(session)
    if actor.can(Action.PLATFORM_MANAGE):
        return Scope.everything(home)
    return Scope.of(home)


def act_as(session: Session, actor: Actor) -> Actor:
    """From now on the session reads and writes as `actor`: only its organizations' records."""
    scope_to(session, scope_for(session, actor))
    return actor
