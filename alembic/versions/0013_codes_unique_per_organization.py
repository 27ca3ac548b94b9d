"""vendor IDs and activity source names unique per organization, not across the installation

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 09:20:00
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0013'
down_revision: Union[str, None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Installation-wide, a second organization could not use an ID the first had, and the refusal
# told it the ID existed elsewhere. (table, column, the per-organization constraint)
_CODES = (("vendor", "vendor_code", "uq_vendor_owner_code"), ("activity_source", "name", "uq_activity_source_owner_name"))
# SQLite keeps the old constraints unnamed: batch mode names them by this convention to drop them.
_SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _swap(table: str, old_columns: list[str], old_name: str, new_columns: list[str], new_name: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(table, naming_convention=_SQLITE_NAMES) as batch_op:
            batch_op.drop_constraint(old_name, type_="unique")
            batch_op.create_unique_constraint(new_name, new_columns)
    else:
        op.drop_constraint(old_name, table, type_="unique")
        op.create_unique_constraint(new_name, table, new_columns)


def _installation_wide_name(table: str, column: str) -> str:
    # PostgreSQL named the unnamed constraint <table>_<column>_key; SQLite by _SQLITE_NAMES.
    return f"uq_{table}_{column}" if op.get_bind().dialect.name == "sqlite" else f"{table}_{column}_key"


def upgrade() -> None:
    for table, column, per_owner in _CODES:
        _swap(table, [column], _installation_wide_name(table, column), ["owner_id", column], per_owner)


def downgrade() -> None:
    for table, column, per_owner in _CODES:
        if op.get_bind().dialect.name == "sqlite":
            with op.batch_alter_table(table) as batch_op:
                batch_op.drop_constraint(per_owner, type_="unique")
                batch_op.create_unique_constraint(f"uq_{table}_{column}", [column])
        else:
            op.drop_constraint(per_owner, table, type_="unique")
            op.create_unique_constraint(f"{table}_{column}_key", table, [column])
