"""a transfer remembers the payout account it was cleared for

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 11:50:00

The cooling-off after a bank-details change was checked only when payouts were batched, while
the rails read the vendor's live details at submit and at every retry: a change during a
provider's time-out went out without the hold. Each transfer now keeps a keyed hash of the
details it was cleared for, and is sent only to those. Existing transfers have none (sent as
they stand).
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0018'
down_revision: Union[str, None] = '0017'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('payment_transaction', sa.Column('bank_fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64),
                                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('payment_transaction', schema=None) as batch_op:
        batch_op.drop_column('bank_fingerprint')
