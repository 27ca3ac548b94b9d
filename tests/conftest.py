"""Shared fixtures: a migrated database per test, on SQLite and on a real PostgreSQL.

PostgreSQL (Debian's package, installed by `make test`) is started here on 127.0.0.1 in a
temporary directory, as the `postgres` user because it refuses to run as root.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from glob import glob
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

os.environ.setdefault("VRM_SECRET_KEY", "test-secret-key-that-is-long-enough-0123456789")
# Payment files and the sandbox provider's ledger stay out of the project's data folder.
_PAYOUT_SCRATCH = tempfile.mkdtemp(prefix="vrm-payouts-")
os.environ.setdefault("VRM_PAYMENT_OUTBOX", os.path.join(_PAYOUT_SCRATCH, "outbox"))
os.environ.setdefault("VRM_SANDBOX_PROVIDER_DB", os.path.join(_PAYOUT_SCRATCH, "provider.db"))

# After the environment above: the helpers import the app.
from tests.helpers import free_port, use_database  # noqa: E402


def _pg_bin(name: str) -> str | None:
    found = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.fail("PostgreSQL is not installed: run `make test`, which installs it from apt")
    workdir = Path(tempfile.mkdtemp(prefix="vrm-pg-"))
    data = workdir / "data"
    port = free_port()
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_postgres, initdb, "-D", str(data), "-A", "trust", "-U", "postgres",
                    "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
    options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    subprocess.run([*as_postgres, pg_ctl, "-D", str(data), "-o", options, "-w", "-l",
                    str(workdir / "log"), "start"], check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run([*as_postgres, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once is much faster)."""
    from vrm_dashboard.db import migrations

    path = tmp_path_factory.mktemp("template") / "vrm.db"
    url = f"sqlite:///{path}"
    use_database(url)
    migrations.upgrade(url)
    from vrm_dashboard.db.engine import engine

    engine().dispose()
    return path


@pytest.fixture(scope="session")
def postgres_database(postgres_url: str) -> str:
    from sqlalchemy import create_engine

    from vrm_dashboard.db import migrations

    admin = create_engine(f"{postgres_url.replace('postgresql://', 'postgresql+psycopg://')}/postgres",
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE vrm_test"))
    admin.dispose()
    url = f"{postgres_url}/vrm_test"
    use_database(url)
    migrations.upgrade(url)
    return url


def _empty_postgres(engine: Engine) -> None:
    import vrm_dashboard.db.models  # noqa: F401

    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        # TRUNCATE fires no row triggers, so the append-only audit log can be reset here.
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path) -> Iterator[Engine]:
    """An empty, migrated database with the role catalogue installed; both dialects."""
    from vrm_dashboard.services.identity.access_control import install_catalogue

    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "vrm.db"
        shutil.copy(template, path)
        engine = use_database(f"sqlite:///{path}")
    else:
        engine = use_database(request.getfixturevalue("postgres_database"))
        _empty_postgres(engine)
    with Session(engine) as session:
        install_catalogue(session)
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def session(db: Engine) -> Iterator[Session]:
    with Session(db, expire_on_commit=False) as s:
        yield s
