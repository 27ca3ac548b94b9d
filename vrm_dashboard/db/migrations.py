"""Alembic, driven from code so the project needs no alembic.ini at its top level."""
from __future__ import annotations

from alembic.config import Config
from sqlalchemy.engine import Engine

from alembic import command
from vrm_dashboard.config import PROJECT_ROOT, settings


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.set_main_option("sqlalchemy.url", (url or settings().database_url).replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "-1") -> None:
    command.downgrade(alembic_config(url), revision)


def new_revision(message: str, url: str | None = None) -> None:
    command.revision(alembic_config(url), message=message, autogenerate=True)


def differences(engine: Engine) -> list:
    """What autogenerate would change between the models and this database; [] when they agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import vrm_dashboard.db.models  # noqa: F401  (registers every table)

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)
