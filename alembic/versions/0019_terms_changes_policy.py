"""row-level security on the history of payment terms changes

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 12:00:00

A terms change is read by the organization that sets that customer's terms: the customer's
parent, or the organization itself when it has none (as db/tenancy.py's first wall). The
organization table has no policy, so the subquery reads it whole.
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0019'
down_revision: Union[str, None] = '0018'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_SETTER_IN_SCOPE = ("organization_id IN (SELECT id FROM organization WHERE COALESCE(parent_id, id) = "
                    "ANY (string_to_array(current_setting('vrm.scope', true), ',')::integer[]))")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE payment_terms_change ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_scope ON payment_terms_change TO vrm_tenant "
               f"USING ({_SETTER_IN_SCOPE}) WITH CHECK ({_SETTER_IN_SCOPE})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP POLICY IF EXISTS tenant_scope ON payment_terms_change")
    op.execute("ALTER TABLE payment_terms_change DISABLE ROW LEVEL SECURITY")
