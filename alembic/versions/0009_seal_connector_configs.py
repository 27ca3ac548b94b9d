"""connector configs saved before sealing: their URL and headers sealed now

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 08:20:00
"""
import json
from typing import Sequence, Union

import sqlalchemy as sa

from alembic import op
from vrm_dashboard.services.platform import secret_box

revision: str = '0009'
down_revision: Union[str, None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# As services/intake/connectors.py seals them in this release, written out: a migration must not
# change when the code does. Until now a config was sealed only when it was next saved or synced,
# so a source that never ran kept its database password or API token readable in the row.
SECRET_KEYS = ("url", "headers")
SECRET_PURPOSE = "connector-config"
SEALED = "sealed"
_SOURCE = sa.table("activity_source", sa.column("id", sa.Integer), sa.column("config", sa.Text))


def upgrade() -> None:
    bind = op.get_bind()
    for source_id, raw in bind.execute(sa.select(_SOURCE.c.id, _SOURCE.c.config)).all():
        try:
            config = json.loads(raw or "{}")
        except ValueError:
            continue  # not a config this release can read either; configuring it again replaces it
        if not isinstance(config, dict) or SEALED in config:
            continue
        secrets = {key: config.pop(key) for key in SECRET_KEYS if key in config}
        if not secrets:
            continue
        config[SEALED] = secret_box.seal(SECRET_PURPOSE, json.dumps(secrets, sort_keys=True))
        bind.execute(sa.update(_SOURCE).where(_SOURCE.c.id == source_id)
                     .values(config=json.dumps(config, sort_keys=True)))


def downgrade() -> None:
    # Sealed configs are what release 0008 reads as well: nothing to undo.
    pass
