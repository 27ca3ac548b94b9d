"""each organization keeps its own business settings (thresholds, payout controls, branding, reminders)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 12:30:00

One row per setting served every organization, and any organization's admin could change it
for all of them. The installation's rows stay, as the value of every organization that has
not set its own. On PostgreSQL the new table has its row-level security policy like the other
tenant-owned tables (migration 0012).
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0015'
down_revision: Union[str, None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_IN_SCOPE = "owner_id = ANY (string_to_array(current_setting('vrm.scope', true), ',')::integer[])"


def upgrade() -> None:
    op.create_table(
        'organization_setting',
        sa.Column('owner_id', sa.Integer(), sa.ForeignKey('organization.id'), nullable=False),
        sa.Column('key', sa.String(length=80), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), sa.ForeignKey('user.id'), nullable=True),
        sa.PrimaryKeyConstraint('owner_id', 'key'),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE organization_setting ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_scope ON organization_setting TO vrm_tenant "
                   f"USING ({_IN_SCOPE}) WITH CHECK ({_IN_SCOPE})")


def downgrade() -> None:
    op.drop_table('organization_setting')
