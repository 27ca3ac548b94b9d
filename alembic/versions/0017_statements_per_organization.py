"""a bank statement is imported once per organization, not once in the installation

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 11:30:00

Organizations paying from one account import the same statement file, whose bytes are stored
once: the second import failed on the installation-wide unique document, and told that
organization another had imported the file.
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0017'
down_revision: Union[str, None] = '0016'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_PER_OWNER = "uq_bank_statement_owner_document"
# SQLite keeps the old constraint unnamed: batch mode names it by this convention to drop it.
_SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _installation_wide() -> str:
    return "uq_bank_statement_document_id" if op.get_bind().dialect.name == "sqlite" else "bank_statement_document_id_key"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("bank_statement", naming_convention=_SQLITE_NAMES) as batch_op:
            batch_op.drop_constraint(_installation_wide(), type_="unique")
            batch_op.create_unique_constraint(_PER_OWNER, ["owner_id", "document_id"])
    else:
        op.drop_constraint(_installation_wide(), "bank_statement", type_="unique")
        op.create_unique_constraint(_PER_OWNER, "bank_statement", ["owner_id", "document_id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("bank_statement") as batch_op:
            batch_op.drop_constraint(_PER_OWNER, type_="unique")
            batch_op.create_unique_constraint(_installation_wide(), ["document_id"])
    else:
        op.drop_constraint(_PER_OWNER, "bank_statement", type_="unique")
        op.create_unique_constraint(_installation_wide(), "bank_statement", ["document_id"])
