"""platform admins run the installation, organization admins their organization

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 08:30:00
"""
from typing import Sequence, Union

revision: str = '0011'
down_revision: Union[str, None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
