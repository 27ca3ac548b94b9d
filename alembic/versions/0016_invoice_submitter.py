"""an invoice records who submitted it, so segregation of duties can keep the submitter from
approving it and its payout

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 10:00:00

Submitting an imported or mailbox invoice recorded nobody: its creator is the import (or no
one), so one person could submit and approve it alone. Existing invoices keep no submitter.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: Union[str, None] = '0015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submitted_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_invoice_submitted_by_id', 'user', ['submitted_by_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_constraint('fk_invoice_submitted_by_id', type_='foreignkey')
        batch_op.drop_column('submitted_by_id')
