"""where each vendor prints its fields, learned from corrections; a parsed PDF's layout kept

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 10:00:00

A person's correction of a field the reader got wrong is remembered for that vendor (its label,
its place on the page, its format) and read there on the vendor's next invoices. The hints are
the vendor's own: on PostgreSQL the table has the row-level security policy of the other
tables scoped through their vendor (migration 0012). The layout of a read PDF is kept with what
was read, so a correction can be found on its page without reading the file again.
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0020'
down_revision: Union[str, None] = '0019'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_THROUGH_VENDOR = "vendor_id IN (SELECT id FROM vendor)"


def upgrade() -> None:
    op.create_table(
        'vendor_reading_hint',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('vendor_id', sa.Integer(), sa.ForeignKey('vendor.id'), nullable=False),
        sa.Column('field', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('relation', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column('page', sa.Integer(), nullable=False),
        sa.Column('x0', sa.Float(), nullable=False),
        sa.Column('top', sa.Float(), nullable=False),
        sa.Column('x1', sa.Float(), nullable=False),
        sa.Column('bottom', sa.Float(), nullable=False),
        sa.Column('format', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column('learned_from', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), sa.ForeignKey('user.id'), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('vendor_id', 'field', name='uq_vendor_reading_hint_vendor_field'),
    )
    op.create_index('ix_vendor_reading_hint_vendor_id', 'vendor_reading_hint', ['vendor_id'])
    with op.batch_alter_table('invoice_extraction') as batch_op:
        batch_op.add_column(sa.Column('layout', sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE vendor_reading_hint ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_scope ON vendor_reading_hint TO vrm_tenant "
                   f"USING ({_THROUGH_VENDOR}) WITH CHECK ({_THROUGH_VENDOR})")


def downgrade() -> None:
    with op.batch_alter_table('invoice_extraction') as batch_op:
        batch_op.drop_column('layout')
    op.drop_index('ix_vendor_reading_hint_vendor_id', table_name='vendor_reading_hint')
    op.drop_table('vendor_reading_hint')
