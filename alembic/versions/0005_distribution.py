"""distribution: deliveries tracked, disputes, credit notes and revisions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 00:58:49.478901
"""
import json
from datetime import datetime, timezone
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0005'
down_revision: Union[str, None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('invoice_dispute',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('raised_by_user_id', sa.Integer(), nullable=True),
    sa.Column('raised_by_email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('resolved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('credit_note_id', sa.Integer(), nullable=True),
    sa.Column('reissued_invoice_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['credit_note_id'], ['invoice.id'], ),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], ),
    sa.ForeignKeyConstraint(['raised_by_user_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['reissued_invoice_id'], ['invoice.id'], ),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('invoice_dispute', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_dispute_invoice_id'), ['invoice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_dispute_status'), ['status'], unique=False)

    with op.batch_alter_table('email_delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hold_reasons', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('next_attempt_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('send_by', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('alerted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('bounced_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('viewed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.drop_index(batch_op.f('ix_email_delivery_invoice_id'))
        batch_op.create_index('ix_email_delivery_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_email_delivery_sent_at'), ['sent_at'], unique=False)
        # An invoice is distributed once; links carry a token of their own.
        batch_op.create_unique_constraint('uq_email_delivery_invoice_id', ['invoice_id'])
        batch_op.create_unique_constraint('uq_email_delivery_token', ['token'])

    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_type', sqlmodel.sql.sqltypes.AutoString(length=16), server_default='invoice', nullable=False))
        batch_op.add_column(sa.Column('corrects_invoice_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index(batch_op.f('ix_invoice_corrects_invoice_id'), ['corrects_invoice_id'], unique=False)
        batch_op.create_foreign_key('fk_invoice_corrects_invoice_id', 'invoice', ['corrects_invoice_id'], ['id'])
        batch_op.create_index('ix_invoice_updated_at', ['updated_at'], unique=False)

    # Invoices changed before today are history: distribution starts now, not with old mail.
    now = datetime.now(timezone.utc)
    app_setting = sa.table('app_setting', sa.column('key', sa.String), sa.column('value', sa.Text),
                           sa.column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime()))
    op.bulk_insert(app_setting, [{"key": "distribution.since", "value": json.dumps(now.isoformat()), "updated_at": now}])

    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wants_einvoice', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('billing_address', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))



def downgrade() -> None:
    op.execute("DELETE FROM app_setting WHERE key = 'distribution.since'")
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_column('billing_address')
        batch_op.drop_column('wants_einvoice')

    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_constraint('fk_invoice_corrects_invoice_id', type_='foreignkey')
        batch_op.drop_index('ix_invoice_updated_at')
        batch_op.drop_index(batch_op.f('ix_invoice_corrects_invoice_id'))
        batch_op.drop_column('revision')
        batch_op.drop_column('corrects_invoice_id')
        batch_op.drop_column('document_type')

    with op.batch_alter_table('email_delivery', schema=None) as batch_op:
        batch_op.drop_constraint('uq_email_delivery_token', type_='unique')
        batch_op.drop_constraint('uq_email_delivery_invoice_id', type_='unique')
        batch_op.drop_index(batch_op.f('ix_email_delivery_sent_at'))
        batch_op.drop_index('ix_email_delivery_due')
        batch_op.create_index(batch_op.f('ix_email_delivery_invoice_id'), ['invoice_id'], unique=False)
        batch_op.drop_column('viewed_at')
        batch_op.drop_column('bounced_at')
        batch_op.drop_column('alerted_at')
        batch_op.drop_column('send_by')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('token')
        batch_op.drop_column('hold_reasons')

    with op.batch_alter_table('invoice_dispute', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_dispute_status'))
        batch_op.drop_index(batch_op.f('ix_invoice_dispute_invoice_id'))

    op.drop_table('invoice_dispute')
