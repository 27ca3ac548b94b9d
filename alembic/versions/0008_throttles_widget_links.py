"""throttles on sign-in and sign-up; widget links as rows; the vendor.widget permission

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 05:28:18.503466
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0008'
down_revision: Union[str, None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The catalogue as this release ships it (domain.permissions), written out: a migration must
# not change when the code's catalogue does.
WIDGET_ACTION = "vendor.widget"
WIDGET_DESCRIPTION = "Make, list and revoke widget links (a vendor: for itself only)"
WIDGET_ROLES = ("admin", "finance_manager", "vendor")
_PERMISSION = sa.table("permission", sa.column("id", sa.Integer), sa.column("action", sa.String),
                       sa.column("description", sa.String))
_ROLE = sa.table("role", sa.column("id", sa.Integer), sa.column("name", sa.String))
_ROLE_PERMISSION = sa.table("role_permission", sa.column("role_id", sa.Integer),
                            sa.column("permission_id", sa.Integer))


def upgrade() -> None:
    op.create_table('throttle_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('key_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('throttle_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_throttle_event_at'), ['at'], unique=False)
        batch_op.create_index('ix_throttle_event_key', ['scope', 'key_digest', 'at'], unique=False)

    op.create_table('widget_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendor.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('widget_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_widget_link_vendor_id'), ['vendor_id'], unique=False)

    # An installed catalogue gets the new permission, granted to the built-in roles that have it
    # by default (as services.identity.access_control.install_catalogue does for a new action):
    # widget links stop being open to every role that may see vendors. A database without
    # roles yet gets the whole catalogue from install_catalogue.
    bind = op.get_bind()
    if not bind.execute(sa.select(sa.func.count()).select_from(_ROLE)).scalar():
        return
    permission_id = bind.execute(sa.select(_PERMISSION.c.id).where(_PERMISSION.c.action == WIDGET_ACTION)).scalar()
    if permission_id is None:
        permission_id = bind.execute(_PERMISSION.insert().values(action=WIDGET_ACTION, description=WIDGET_DESCRIPTION)
                                     .returning(_PERMISSION.c.id)).scalar_one()
    granted = set(bind.execute(sa.select(_ROLE_PERMISSION.c.role_id)
                               .where(_ROLE_PERMISSION.c.permission_id == permission_id)).scalars())
    for role_id in bind.execute(sa.select(_ROLE.c.id).where(_ROLE.c.name.in_(WIDGET_ROLES))).scalars().all():
        if role_id not in granted:
            bind.execute(_ROLE_PERMISSION.insert().values(role_id=role_id, permission_id=permission_id))


def downgrade() -> None:
    bind = op.get_bind()
    widget = sa.select(_PERMISSION.c.id).where(_PERMISSION.c.action == WIDGET_ACTION).scalar_subquery()
    bind.execute(_ROLE_PERMISSION.delete().where(_ROLE_PERMISSION.c.permission_id == widget))
    bind.execute(_PERMISSION.delete().where(_PERMISSION.c.action == WIDGET_ACTION))

    with op.batch_alter_table('widget_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_widget_link_vendor_id'))

    op.drop_table('widget_link')
    with op.batch_alter_table('throttle_event', schema=None) as batch_op:
        batch_op.drop_index('ix_throttle_event_key')
        batch_op.drop_index(batch_op.f('ix_throttle_event_at'))

    op.drop_table('throttle_event')
