"""organizations own their records: owner_id on every tenant-owned table, existing rows to the root

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 08:05:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: Union[str, None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Where each table's existing rows go: the root organization (the installation's own), except a
# receivable, which its issuer owns: the billed customer's parent. Written out as this release
# knows the tables; a migration must not change when the code does.
_ROOT = ":root"
_OWNED_BY_ROOT = ("activity_source", "intake", "bank_statement", "payment_file", "notification", "email_delivery")
_RECEIVABLE_ISSUER = ("(SELECT o.parent_id FROM organization o WHERE o.id = invoice.organization_id)")


def _root_organization() -> int:
    """The root organization's id; one is made when the installation has none yet, so that every
    record can have an owner."""
    bind = op.get_bind()
    root = bind.execute(sa.text("SELECT MIN(id) FROM organization WHERE parent_id IS NULL")).scalar()
    if root is None:
        bind.execute(sa.text(
            "INSERT INTO organization (name, tier, country, is_active, wants_einvoice, consolidates_monthly, "
            "reminders_stopped, created_at, updated_at) VALUES ('Our organization', 'distributor', 'DE', "
            ":yes, :no, :no, :no, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"yes": True, "no": False})
        root = bind.execute(sa.text("SELECT MIN(id) FROM organization WHERE parent_id IS NULL")).scalar()
    return int(root)


def _add_owner(table: str, fill: str, root: int | None, index: bool = True) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), sa.ForeignKey('organization.id', name=f'fk_{table}_owner_id'), nullable=True))
    op.get_bind().execute(sa.text(f"UPDATE {table} SET owner_id = {fill}"), {"root": root})
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.alter_column('owner_id', existing_type=sa.Integer(), nullable=False)
        if index:
            batch_op.create_index(batch_op.f(f'ix_{table}_owner_id'), ['owner_id'], unique=False)


# Tables whose existing rows need an owner; an installation with none of them (a fresh one)
# gets its root organization when the first record needs it (db/tenancy.root_organization_id).
_HOLDING_RECORDS = ("vendor", "invoice", "audit_log", "\"user\"", *_OWNED_BY_ROOT)


def upgrade() -> None:
    bind = op.get_bind()
    holding = any(bind.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first() for table in _HOLDING_RECORDS)
    root: int | None = _root_organization() if holding else None

    # The vendor's organization column was never used: it becomes the owner.
    with op.batch_alter_table('vendor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vendor_organization_id'))
        batch_op.alter_column('organization_id', new_column_name='owner_id', existing_type=sa.Integer())
    bind.execute(sa.text("UPDATE vendor SET owner_id = :root WHERE owner_id IS NULL"), {"root": root})
    with op.batch_alter_table('vendor', schema=None) as batch_op:
        batch_op.alter_column('owner_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_vendor_owner_id'), ['owner_id'], unique=False)

    _add_owner('invoice', f"CASE WHEN vendor_id IS NOT NULL THEN (SELECT v.owner_id FROM vendor v WHERE v.id = "
                          f"invoice.vendor_id) ELSE COALESCE({_RECEIVABLE_ISSUER}, {_ROOT}) END", root, index=False)
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.create_index('ix_invoice_owner_issue_date', ['owner_id', 'issue_date'], unique=False)
    for table in _OWNED_BY_ROOT:
        _add_owner(table, _ROOT, root)

    # The audit log refuses updates (migration 0001): its guard steps aside for the backfill.
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
    if bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        bind.execute(sa.text("UPDATE audit_log SET owner_id = :root"), {"root": root})
        op.execute("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                   "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")
    else:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update")
        bind.execute(sa.text("UPDATE audit_log SET owner_id = :root"), {"root": root})
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update")
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_owner_id'), ['owner_id'], unique=False)

    # Staff accounts in no organization belong to the root, as everything they made does.
    bind.execute(sa.text("UPDATE \"user\" SET organization_id = :root WHERE organization_id IS NULL "
                         "AND vendor_id IS NULL"), {"root": root})


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_owner_id'))
        batch_op.drop_column('owner_id')
    for table in (*_OWNED_BY_ROOT, 'invoice'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            if table == 'invoice':
                batch_op.drop_index('ix_invoice_owner_issue_date')
            else:
                batch_op.drop_index(batch_op.f(f'ix_{table}_owner_id'))
            batch_op.drop_column('owner_id')
    with op.batch_alter_table('vendor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vendor_owner_id'))
        batch_op.alter_column('owner_id', new_column_name='organization_id', existing_type=sa.Integer(),
                              nullable=True)
    with op.batch_alter_table('vendor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vendor_organization_id'), ['organization_id'], unique=False)
