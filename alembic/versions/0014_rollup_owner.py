"""invoice rollup rows carry their vendor's owner, so an organization's totals are one index range;
its vendor list in name order is one too

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 11:00:00

Scoped through its vendors, the Pending Invoices totals of one organization looked up each of
its vendors' rows (40 ms at 1,000,000 invoices); keyed by owner they are read in index order.
On PostgreSQL the rollup's row-level security policy follows the same column.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: Union[str, None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_POLICY = "tenant_scope"
_IN_SCOPE = "owner_id = ANY (string_to_array(current_setting('vrm.scope', true), ',')::integer[])"
_THROUGH_VENDOR = "vendor_id IN (SELECT id FROM vendor)"
_TOTALS_COLUMNS = ["owner_id", "status", "currency", "invoice_count", "amount_minor"]


def _policy(condition: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP POLICY IF EXISTS {_POLICY} ON invoice_rollup")
    op.execute(f"CREATE POLICY {_POLICY} ON invoice_rollup TO vrm_tenant USING ({condition}) WITH CHECK ({condition})")


def upgrade() -> None:
    with op.batch_alter_table('invoice_rollup', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), sa.ForeignKey(
            'organization.id', name='fk_invoice_rollup_owner_id'), nullable=True))
    op.execute("UPDATE invoice_rollup SET owner_id = (SELECT v.owner_id FROM vendor v WHERE v.id = invoice_rollup.vendor_id)")
    with op.batch_alter_table('invoice_rollup', schema=None) as batch_op:
        batch_op.alter_column('owner_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index('ix_invoice_rollup_owner_status', _TOTALS_COLUMNS, unique=False)
    _policy(_IN_SCOPE)
    op.create_index('ix_vendor_owner_name', 'vendor', ['owner_id', 'name'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_vendor_owner_name', table_name='vendor')
    _policy(_THROUGH_VENDOR)
    with op.batch_alter_table('invoice_rollup', schema=None) as batch_op:
        batch_op.drop_index('ix_invoice_rollup_owner_status')
        batch_op.drop_constraint('fk_invoice_rollup_owner_id', type_='foreignkey')
        batch_op.drop_column('owner_id')
