"""vendor onboarding: reviews, tax forms, vendor documents, plain e-mails

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 01:28:49.181532
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0007'
down_revision: Union[str, None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('vendor_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['stored_document.id'], ),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendor.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('vendor_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vendor_document_vendor_id'), ['vendor_id'], unique=False)

    op.create_table('vendor_onboarding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('reviewed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('review_note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['invited_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendor.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('vendor_id')
    )
    with op.batch_alter_table('vendor_onboarding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vendor_onboarding_state'), ['state'], unique=False)

    op.create_table('vendor_tax_form',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('form', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('business_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('classification', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('tin', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('foreign_tin', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('treaty_country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
    sa.Column('chapter4_status', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('giin', sqlmodel.sql.sqltypes.AutoString(length=19), nullable=True),
    sa.Column('signer_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('signed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('signed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['signed_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendor.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('vendor_id')
    )
    with op.batch_alter_table('email_delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body', sa.Text(), nullable=True))

    with op.batch_alter_table('vendor', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('website', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('vendor', schema=None) as batch_op:
        batch_op.drop_column('phone')
        batch_op.drop_column('website')
        batch_op.drop_column('address')

    with op.batch_alter_table('email_delivery', schema=None) as batch_op:
        batch_op.drop_column('body')

    op.drop_table('vendor_tax_form')
    with op.batch_alter_table('vendor_onboarding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vendor_onboarding_state'))

    op.drop_table('vendor_onboarding')
    with op.batch_alter_table('vendor_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vendor_document_vendor_id'))

    op.drop_table('vendor_document')
