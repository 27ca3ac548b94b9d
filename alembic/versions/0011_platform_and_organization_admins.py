"""platform admins run the installation, organization admins their organization

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 08:30:00
"""
from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op

revision: str = '0011'
down_revision: Union[str, None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The catalogue as this release ships it (domain.permissions), written out: a migration must
# not change when the code's catalogue does.
PLATFORM_ACTION = "platform.manage"
PLATFORM_ACTION_DESCRIPTION = "Run the whole installation: every organization, roles and installation settings"
PLATFORM_ROLE = "platform_admin"
PLATFORM_ROLE_DESCRIPTION = "The whole installation: every organization, roles and installation settings"
# Every action of this release but portal.use.
PLATFORM_GRANTS = (
    "vendor.view", "vendor.create", "vendor.update", "vendor.deactivate", "vendor.view_bank_details",
    "vendor.review", "vendor.widget", "invoice.view", "invoice.edit", "invoice.approve", "invoice.reject",
    "intake.import", "payout.view", "payout.approve", "payout.manage", "distribution.view",
    "distribution.manage", "terms.view", "terms.edit", "collection.manage", "settings.view", "user.manage",
    "role.manage", "audit.view", "api_key.manage", PLATFORM_ACTION,
)
ADMIN_ROLE = "admin"
# What the admin role and the two permissions it keeps mean from now on, and meant before.
DESCRIPTIONS = {
    ("role", ADMIN_ROLE): ("Everything, including users, roles and settings",
                           "Everything in its own organization, including its users and settings"),
    ("permission", "user.manage"): ("Invite, deactivate and edit users",
                                    "Invite, deactivate and edit the users of one's own organization "
                                    "(with platform.manage: of every organization, and move them between them)"),
    ("permission", "role.manage"): ("Edit roles and permissions",
                                    "Change settings: branding, approval controls, connection tests "
                                    "(with platform.manage: also roles and permissions)"),
}

_PERMISSION = sa.table("permission", sa.column("id", sa.Integer), sa.column("action", sa.String),
                       sa.column("description", sa.String))
_ROLE = sa.table("role", sa.column("id", sa.Integer), sa.column("name", sa.String),
                 sa.column("description", sa.String))
_ROLE_PERMISSION = sa.table("role_permission", sa.column("role_id", sa.Integer),
                            sa.column("permission_id", sa.Integer))
_USER = sa.table("user", sa.column("id", sa.Integer), sa.column("organization_id", sa.Integer),
                 sa.column("vendor_id", sa.Integer))
_USER_ROLE = sa.table("user_role", sa.column("user_id", sa.Integer), sa.column("role_id", sa.Integer))
_ORGANIZATION = sa.table("organization", sa.column("id", sa.Integer), sa.column("parent_id", sa.Integer))


def _describe(bind: sa.engine.Connection, which: int) -> None:
    """Write the descriptions of before (0) or after (1) this release."""
    for (table, name), texts in DESCRIPTIONS.items():
        if table == "role":
            bind.execute(_ROLE.update().where(_ROLE.c.name == name).values(description=texts[which]))
        else:
            bind.execute(_PERMISSION.update().where(_PERMISSION.c.action == name).values(description=texts[which]))


def upgrade() -> None:
    # An installed catalogue gets the platform admin role. Until now the admin role ran the
    # whole installation; from now on it runs its own organization. So whoever held it in the
    # installation's own (root) organization, or in none, keeps the installation by also
    # becoming platform admin; admins of other organizations keep their organization only.
    # The admin role's grants stay as they were: what an organization admin may no longer do
    # (other organizations' users, role grants, installation settings) the services refuse to
    # anyone without platform.manage. A database without roles yet gets the whole catalogue
    # from services.identity.access_control.install_catalogue.
    bind = op.get_bind()
    if not bind.execute(sa.select(sa.func.count()).select_from(_ROLE)).scalar():
        return
    permission_id = bind.execute(sa.select(_PERMISSION.c.id).where(_PERMISSION.c.action == PLATFORM_ACTION)).scalar()
    if permission_id is None:
        bind.execute(_PERMISSION.insert().values(action=PLATFORM_ACTION, description=PLATFORM_ACTION_DESCRIPTION))
    role_id = bind.execute(sa.select(_ROLE.c.id).where(_ROLE.c.name == PLATFORM_ROLE)).scalar()
    if role_id is None:
        bind.execute(_ROLE.insert().values(name=PLATFORM_ROLE, description=PLATFORM_ROLE_DESCRIPTION))
        role_id = bind.execute(sa.select(_ROLE.c.id).where(_ROLE.c.name == PLATFORM_ROLE)).scalar_one()
    granted = set(bind.execute(sa.select(_ROLE_PERMISSION.c.permission_id)
                               .where(_ROLE_PERMISSION.c.role_id == role_id)).scalars())
    for pid in bind.execute(sa.select(_PERMISSION.c.id).where(_PERMISSION.c.action.in_(PLATFORM_GRANTS))).scalars():
        if pid not in granted:
            bind.execute(_ROLE_PERMISSION.insert().values(role_id=role_id, permission_id=pid))

    root = bind.execute(sa.select(sa.func.min(_ORGANIZATION.c.id)).where(_ORGANIZATION.c.parent_id.is_(None))).scalar()
    admin_id = bind.execute(sa.select(_ROLE.c.id).where(_ROLE.c.name == ADMIN_ROLE)).scalar()
    if admin_id is not None:
        # A vendor's login is never staff of the installation, whatever role it was given.
        home = sa.and_(_USER.c.organization_id.is_(None), _USER.c.vendor_id.is_(None))
        if root is not None:
            home = sa.or_(home, _USER.c.organization_id == root)
        already = sa.select(_USER_ROLE.c.user_id).where(_USER_ROLE.c.role_id == role_id)
        admins = (sa.select(_USER.c.id)
                  .join(_USER_ROLE, _USER_ROLE.c.user_id == _USER.c.id)
                  .where(_USER_ROLE.c.role_id == admin_id, home, _USER.c.id.not_in(already)))
        for user_id in bind.execute(admins).scalars().all():
            bind.execute(_USER_ROLE.insert().values(user_id=user_id, role_id=role_id))
    _describe(bind, 1)


def downgrade() -> None:
    # Before this release the admin role ran the installation: a platform admin without it
    # gets it back, so nobody who could run the installation is locked out of it.
    bind = op.get_bind()
    role_id = bind.execute(sa.select(_ROLE.c.id).where(_ROLE.c.name == PLATFORM_ROLE)).scalar()
    admin_id = bind.execute(sa.select(_ROLE.c.id).where(_ROLE.c.name == ADMIN_ROLE)).scalar()
    if role_id is not None:
        if admin_id is not None:
            admins = sa.select(_USER_ROLE.c.user_id).where(_USER_ROLE.c.role_id == admin_id)
            for user_id in bind.execute(sa.select(_USER_ROLE.c.user_id).where(
                    _USER_ROLE.c.role_id == role_id, _USER_ROLE.c.user_id.not_in(admins))).scalars().all():
                bind.execute(_USER_ROLE.insert().values(user_id=user_id, role_id=admin_id))
        bind.execute(_USER_ROLE.delete().where(_USER_ROLE.c.role_id == role_id))
        bind.execute(_ROLE_PERMISSION.delete().where(_ROLE_PERMISSION.c.role_id == role_id))
        bind.execute(_ROLE.delete().where(_ROLE.c.id == role_id))
    platform = sa.select(_PERMISSION.c.id).where(_PERMISSION.c.action == PLATFORM_ACTION).scalar_subquery()
    bind.execute(_ROLE_PERMISSION.delete().where(_ROLE_PERMISSION.c.permission_id == platform))
    bind.execute(_PERMISSION.delete().where(_PERMISSION.c.action == PLATFORM_ACTION))
    _describe(bind, 0)
