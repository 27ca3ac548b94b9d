"""collection: terms history, collection attempts, reminders, consolidation

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:56:10.123450
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0006'
down_revision: Union[str, None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('payment_terms_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=True),
    sa.Column('previous_days', sa.Integer(), nullable=True),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('payment_terms_change', schema=None) as batch_op:
        batch_op.create_index('ix_payment_terms_change_org', ['organization_id', 'effective_from'], unique=False)

    op.create_table('collection_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('attempted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('failure_reason', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('initiated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['initiated_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('collection_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collection_attempt_attempted_at'), ['attempted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_collection_attempt_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('payment_reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('invoice_id', 'stage', name='uq_payment_reminder_stage')
    )
    with op.batch_alter_table('email_delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint('uq_email_delivery_reminder_id', ['reminder_id'])
        batch_op.create_foreign_key('fk_email_delivery_reminder_id', 'payment_reminder', ['reminder_id'], ['id'])

    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consolidated_into_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reminders_stopped', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f('ix_invoice_consolidated_into_id'), ['consolidated_into_id'], unique=False)
        batch_op.create_foreign_key('fk_invoice_consolidated_into_id', 'invoice', ['consolidated_into_id'], ['id'])

    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(sa.Column('collection_method', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('consolidates_monthly', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('reminders_stopped', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_column('reminders_stopped')
        batch_op.drop_column('consolidates_monthly')
        batch_op.drop_column('collection_method')

    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_constraint('fk_invoice_consolidated_into_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_invoice_consolidated_into_id'))
        batch_op.drop_column('reminders_stopped')
        batch_op.drop_column('consolidated_into_id')

    with op.batch_alter_table('email_delivery', schema=None) as batch_op:
        batch_op.drop_constraint('fk_email_delivery_reminder_id', type_='foreignkey')
        batch_op.drop_constraint('uq_email_delivery_reminder_id', type_='unique')
        batch_op.drop_column('reminder_id')

    op.drop_table('payment_reminder')
    with op.batch_alter_table('collection_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collection_attempt_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_collection_attempt_attempted_at'))

    op.drop_table('collection_attempt')
    with op.batch_alter_table('payment_terms_change', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_terms_change_org')

    op.drop_table('payment_terms_change')
